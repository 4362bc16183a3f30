/**
 * The {@link BrowserDriver} for Playwright (Chromium): how a Playwright page takes a session's identity, and how its
 * cookies and rendered HTML are read.
 */
import {
    type BrowserCookie,
    type BrowserDriver,
    type BrowserFingerprintWithHeaders,
    FingerprintInjector,
    type InitPage,
    type ReportedCookie,
    type ResponseInfo,
    userAgentMetadata,
} from '@sessionpack/browser';
import type { Browser, BrowserType, LaunchOptions, Page, Response } from 'playwright';

export interface PlaywrightDriverOptions {
    /** Launches the browser of `init` pages (same launcher and options as the crawler's). */
    launch: () => Promise<Browser>;
}

export class PlaywrightDriver implements BrowserDriver<Page, Response, Browser> {
    readonly name = 'Playwright';
    private readonly injector = new FingerprintInjector();

    constructor(private readonly options: PlaywrightDriverOptions) {}

    async applyIdentity(page: Page, fp: BrowserFingerprintWithHeaders, headers: Record<string, string>): Promise<void> {
        const context = page.context();
        const { navigator, screen } = fp.fingerprint;
        const userAgent = headers['user-agent'] ?? navigator.userAgent;
        if (context.browser()?.browserType().name() === 'chromium') {
            // Playwright fixes the user agent when a context is created; Chromium's own override changes it for this
            // page natively: the header, navigator.userAgent (workers too) and the client hints all agree.
            const cdp = await context.newCDPSession(page);
            const override = {
                userAgent,
                acceptLanguage: headers['accept-language'],
                platform: navigator.platform,
            };
            const metadata = userAgentMetadata(fp);
            try {
                await cdp.send('Emulation.setUserAgentOverride', (metadata ? { ...override, userAgentMetadata: metadata } : override) as never);
            } catch {
                await cdp.send('Emulation.setUserAgentOverride', override);
            }
            // The CDP session stays attached: Chromium drops its overrides when it detaches. It ends with the page.
        }
        await page.setViewportSize({ width: screen.width, height: screen.height }).catch(() => {});
        await this.injector.attachFingerprintToPlaywright(context, { fingerprint: fp.fingerprint, headers: { ...headers, 'user-agent': userAgent } });
    }

    async addCookies(page: Page, cookies: BrowserCookie[]): Promise<void> {
        if (cookies.length) await page.context().addCookies(cookies);
    }

    async cookies(page: Page): Promise<ReportedCookie[]> {
        return page.context().cookies();
    }

    async content(page: Page): Promise<string> {
        return page.content();
    }

    url(page: Page): string {
        return page.url();
    }

    async responseInfo(response: Response): Promise<ResponseInfo> {
        return { url: response.url(), statusCode: response.status(), headers: response.headers() };
    }

    preparePageOptions(pageOptions: Record<string, unknown>): void {
        const proxy = pageOptions.proxy as { server?: string; bypass?: string } | undefined;
        if (!proxy?.server) {
            // Without a proxy of its own, a context would use the browser-wide one: the first session's.
            pageOptions.proxy = { server: 'direct://' };
        } else {
            // Loopback targets go through the session's proxy too.
            proxy.bypass ??= '<-loopback>';
        }
    }

    launchInitBrowser(): Promise<Browser> {
        return this.options.launch();
    }

    async newInitPage(browser: Browser, { proxyUrl }: { proxyUrl?: string }): Promise<InitPage<Page>> {
        let proxy: { server: string; username?: string; password?: string; bypass?: string } | undefined;
        if (proxyUrl) {
            const url = new URL(proxyUrl);
            proxy = {
                server: `${url.protocol}//${url.host}`,
                bypass: '<-loopback>',
                // Credentials go to Playwright separately, never inside a URL.
                ...(url.username ? { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) } : {}),
            };
        }
        const context = await browser.newContext(proxy ? { proxy } : {});
        const page = await context.newPage();
        return { page, close: async () => context.close() };
    }

    async closeBrowser(browser: Browser): Promise<void> {
        await browser.close();
    }
}

/** Launches Chromium with Playwright for `init` pages. */
export function launchWith(launcher: BrowserType, launchOptions: LaunchOptions): () => Promise<Browser> {
    return () => launcher.launch(launchOptions);
}
