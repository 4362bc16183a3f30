/**
 * The {@link BrowserDriver} for Playwright (Chromium): how a session's context is created in the shared browser, how
 * its pages take the session's identity, and how cookies, storage and the rendered HTML are read.
 */
import {
    type BrowserCookie,
    type BrowserDriver,
    type BrowserFingerprintWithHeaders,
    type BrowserHooks,
    FingerprintInjector,
    type OriginStorage,
    type ReportedCookie,
    type ResponseInfo,
    type SessionContextOptions,
    userAgentMetadata,
    viewWith,
    windowViewport,
} from '@sessionpack/browser';
import type { Browser, BrowserContext, BrowserContextOptions, BrowserType, CDPSession, LaunchOptions, Page, Response } from 'playwright';

export interface PlaywrightDriverOptions {
    /** Launches the browser all sessions share (the crawler's launcher and launch options). */
    launch: () => Promise<Browser>;
}

export class PlaywrightDriver implements BrowserDriver<Page, Response, Browser, BrowserContext> {
    readonly name = 'Playwright';
    private readonly injector = new FingerprintInjector();
    /** The CDP session each Chromium page got its user agent override through (it also reads the rendered HTML). */
    private readonly cdpSessions = new WeakMap<Page, CDPSession>();

    constructor(private readonly options: PlaywrightDriverOptions) {}

    launch(): Promise<Browser> {
        return this.options.launch();
    }

    async closeBrowser(browser: Browser): Promise<void> {
        await browser.close();
    }

    onDisconnected(browser: Browser, listener: () => void): void {
        browser.once('disconnected', listener);
    }

    /**
     * Crawlee's PlaywrightController (incognito pages) opens each page with `browser.newPage(contextOptions)`, whose
     * `proxy.server` is the attempt's route; it closes the browser with `close()`.
     */
    viewForCrawlee(browser: Browser, hooks: BrowserHooks<Page>): Browser {
        return viewWith(browser, {
            newPage: async (contextOptions?: BrowserContextOptions) => hooks.newPage(contextOptions?.proxy?.server),
            close: async () => hooks.release(),
        });
    }

    async newContext(browser: Browser, options: SessionContextOptions): Promise<BrowserContext> {
        const { fingerprint, headers } = options;
        const { screen } = fingerprint.fingerprint;
        const userAgent = headers['user-agent'] ?? fingerprint.fingerprint.navigator.userAgent;
        const contextOptions: BrowserContextOptions = {
            userAgent,
            // The window's inner size (the screen is the fingerprint's): see windowViewport().
            viewport: windowViewport(fingerprint.fingerprint),
            screen: { width: screen.width, height: screen.height },
            storageState: { cookies: options.cookies.map(toPlaywrightCookie), origins: options.origins },
        };
        if (headers['accept-language']) contextOptions.locale = headers['accept-language'].split(',')[0]!.split(';')[0]!.trim();
        if (options.proxyUrl) {
            const url = new URL(options.proxyUrl);
            contextOptions.proxy = {
                server: `${url.protocol}//${url.host}`,
                // Loopback targets go through the session's proxy too.
                bypass: '<-loopback>',
                // Credentials go to Playwright separately, never inside a URL.
                ...(url.username ? { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) } : {}),
            };
        }
        // Without a proxy the context connects directly (the shared browser has no proxy of its own).
        const context = await browser.newContext(contextOptions);
        try {
            // Navigator, screen, WebGL... overrides and the browser-wide headers, for every page of the context.
            await this.injector.attachFingerprintToPlaywright(context, { fingerprint: fingerprint.fingerprint, headers: { ...headers, 'user-agent': userAgent } });
        } catch (error) {
            await context.close().catch(() => {});
            throw error;
        }
        return context;
    }

    async newPage(context: BrowserContext): Promise<Page> {
        return context.newPage();
    }

    async storage(context: BrowserContext): Promise<OriginStorage[]> {
        return (await context.storageState()).origins.map(({ origin, localStorage }) => ({ origin, localStorage }));
    }

    async closeContext(context: BrowserContext): Promise<void> {
        await context.close();
    }

    async releaseContext(): Promise<void> {
        // Nothing outside the browser: Playwright takes proxy credentials itself.
    }

    contextCount(browser: Browser): number {
        return browser.contexts().length;
    }

    async applyPageIdentity(page: Page, fp: BrowserFingerprintWithHeaders, headers: Record<string, string>): Promise<void> {
        const context = page.context();
        if (context.browser()?.browserType().name() !== 'chromium') return;
        // Playwright's context user agent has no client hints: Chromium's own override gives this page the user agent
        // with its client hints, so the header, navigator.userAgent (workers too) and userAgentData all agree.
        const { navigator } = fp.fingerprint;
        const cdp = await context.newCDPSession(page);
        this.cdpSessions.set(page, cdp);
        const override = { userAgent: headers['user-agent'] ?? navigator.userAgent, acceptLanguage: headers['accept-language'], platform: navigator.platform };
        const metadata = userAgentMetadata(fp);
        try {
            await cdp.send('Emulation.setUserAgentOverride', (metadata ? { ...override, userAgentMetadata: metadata } : override) as never);
        } catch {
            await cdp.send('Emulation.setUserAgentOverride', override);
        }
        // The CDP session stays attached: Chromium drops its overrides when it detaches. It ends with the page.
    }

    async tidyKeptTab(page: Page): Promise<void> {
        await this.cdpSessions.get(page)?.send('HeapProfiler.collectGarbage');
    }

    async addCookies(page: Page, cookies: BrowserCookie[]): Promise<void> {
        if (cookies.length) await page.context().addCookies(cookies);
    }

    async cookies(page: Page): Promise<ReportedCookie[]> {
        return page.context().cookies();
    }

    /**
     * The rendered HTML, as `page.content()` gives it. In Chromium it is read through the page's CDP session
     * (`DOM.getOuterHTML` of the document, the same string): `page.content()` first compiles Playwright's injected
     * script in a utility world of every new document, a cost stock crawls do not have. Nothing runs in the page's
     * JavaScript either way.
     */
    async content(page: Page): Promise<string> {
        const cdp = this.cdpSessions.get(page);
        if (!cdp) return page.content();
        const { root } = await cdp.send('DOM.getDocument', { depth: 0 });
        const outerHTML = cdp.send('DOM.getOuterHTML', { backendNodeId: root.backendNodeId });
        // getDocument turned the DOM domain on for this session: off again, so no DOM events are sent to it. Not waited
        // for: the session runs its commands in order, so it follows the read without a round trip of its own.
        void cdp.send('DOM.disable').catch(() => {});
        return (await outerHTML).outerHTML;
    }

    url(page: Page): string {
        return page.url();
    }

    async closePage(page: Page): Promise<void> {
        await page.close();
    }

    onPageClose(page: Page, listener: () => void): void {
        page.once('close', listener);
    }

    async responseInfo(response: Response): Promise<ResponseInfo> {
        return { url: response.url(), statusCode: response.status(), headers: response.headers() };
    }
}

/** Playwright's storage state wants `expires` (-1: a session cookie) on every cookie. */
function toPlaywrightCookie(cookie: BrowserCookie) {
    return { path: '/', httpOnly: false, secure: false, sameSite: 'Lax' as const, ...cookie, expires: cookie.expires ?? -1 };
}

/**
 * The launcher Crawlee gets (`launchContext.launcher`): Playwright's own, except that `launch()` gives a view of the
 * shared browser.
 */
export function sharedLauncher(launcher: BrowserType, launchView: () => Promise<Browser>): BrowserType {
    return viewWith(launcher, { launch: async (_options?: LaunchOptions) => launchView() });
}
