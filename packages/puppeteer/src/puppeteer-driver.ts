/**
 * The {@link BrowserDriver} for Puppeteer: how a Puppeteer page takes a session's identity, and how its cookies and
 * rendered HTML are read.
 */
import { anonymizeProxySugar } from '@crawlee/browser-pool';
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
import type { Browser, CookieData, HTTPResponse, Page } from 'puppeteer';

export interface PuppeteerDriverOptions {
    /** Launches the browser of `init` pages (same launcher and options as the crawler's). */
    launch: () => Promise<Browser>;
}

export class PuppeteerDriver implements BrowserDriver<Page, HTTPResponse, Browser> {
    readonly name = 'Puppeteer';
    private readonly injector = new FingerprintInjector();

    constructor(private readonly options: PuppeteerDriverOptions) {}

    async applyIdentity(page: Page, fp: BrowserFingerprintWithHeaders, headers: Record<string, string>): Promise<void> {
        const userAgent = headers['user-agent'] ?? fp.fingerprint.navigator.userAgent;
        // User agent (header and navigator alike), screen metrics, browser-wide headers and the navigator overrides.
        await this.injector.attachFingerprintToPuppeteer(page as never, { fingerprint: fp.fingerprint, headers: { ...headers, 'user-agent': userAgent } });
        // Client hints consistent with the user agent (the injector sets the user agent without them).
        const metadata = userAgentMetadata(fp);
        if (metadata) {
            await page
                .setUserAgent({ userAgent, userAgentMetadata: metadata as never, platform: fp.fingerprint.navigator.platform })
                .catch(async () => page.setUserAgent({ userAgent }));
        }
    }

    async addCookies(page: Page, cookies: BrowserCookie[]): Promise<void> {
        if (cookies.length) await page.browserContext().setCookie(...(cookies as CookieData[]));
    }

    async cookies(page: Page): Promise<ReportedCookie[]> {
        return (await page.browserContext().cookies()) as ReportedCookie[];
    }

    async content(page: Page): Promise<string> {
        return page.content();
    }

    url(page: Page): string {
        return page.url();
    }

    responseInfo(response: HTTPResponse): ResponseInfo {
        return { url: response.url(), statusCode: response.status(), headers: response.headers() };
    }

    preparePageOptions(pageOptions: Record<string, unknown>): void {
        // Without a proxy of its own, a context would use the browser-wide one: the first session's.
        if (!pageOptions.proxyServer) pageOptions.proxyServer = 'direct://';
        // Chromium sends loopback targets around the proxy unless told otherwise.
        else pageOptions.proxyBypassList ??= ['<-loopback>'];
    }

    launchInitBrowser(): Promise<Browser> {
        return this.options.launch();
    }

    async newInitPage(browser: Browser, { proxyUrl }: { proxyUrl?: string }): Promise<InitPage<Page>> {
        // Credentials stay out of Chromium's flags and logs: a local proxy without them forwards to the real one.
        const [anonymized, closeProxy] = await anonymizeProxySugar(proxyUrl);
        try {
            const context = await browser.createBrowserContext(
                proxyUrl ? { proxyServer: anonymized ?? proxyUrl, proxyBypassList: ['<-loopback>'] } : { proxyServer: 'direct://' },
            );
            const page = await context.newPage();
            return {
                page,
                close: async () => {
                    await context.close().catch(() => {});
                    await closeProxy();
                },
            };
        } catch (error) {
            await closeProxy();
            throw error;
        }
    }

    async closeBrowser(browser: Browser): Promise<void> {
        await browser.close();
    }
}
