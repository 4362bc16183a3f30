/**
 * The {@link BrowserDriver} for Puppeteer: how a session's context is created in the shared browser, how its pages
 * take the session's identity, and how cookies, storage and the rendered HTML are read.
 */
import { anonymizeProxySugar } from '@crawlee/browser-pool';
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
import type { Browser, BrowserContext, BrowserContextOptions, CDPSession, CookieData, HTTPResponse, LaunchOptions, Page, PuppeteerNode } from 'puppeteer';

export interface PuppeteerDriverOptions {
    /** Launches the browser all sessions share (the crawler's launcher and launch options). */
    launch: () => Promise<Browser>;
}

/** What a session's context needs closed with it (its local forwarding proxy). */
const contextCleanups = new WeakMap<BrowserContext, () => Promise<void>>();

export class PuppeteerDriver implements BrowserDriver<Page, HTTPResponse, Browser, BrowserContext> {
    readonly name = 'Puppeteer';
    private readonly injector = new FingerprintInjector();
    /** The CDP session each page got its screen metrics through (it stays attached, see applyPageIdentity()). */
    private readonly cdpSessions = new WeakMap<Page, CDPSession>();

    constructor(private readonly options: PuppeteerDriverOptions) {}

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
     * Crawlee's PuppeteerController (incognito pages) opens each page with `browser.createBrowserContext(options)`
     * and `context.newPage()`, `options.proxyServer` being the attempt's route, and closes that context with the page.
     */
    viewForCrawlee(browser: Browser, hooks: BrowserHooks<Page>): Browser {
        return viewWith(browser, {
            createBrowserContext: async (options?: BrowserContextOptions) => ({
                newPage: async () => hooks.newPage(options?.proxyServer),
                // The session's context outlives the page.
                close: async () => {},
            }),
            close: async () => hooks.release(),
        });
    }

    async newContext(browser: Browser, options: SessionContextOptions): Promise<BrowserContext> {
        // Credentials stay out of Chromium's flags and logs: a local proxy without them forwards to the real one.
        const [anonymized, closeProxy] = await anonymizeProxySugar(options.proxyUrl);
        let context: BrowserContext | undefined;
        try {
            // Without a proxy the context connects directly (the shared browser has no proxy of its own).
            context = await browser.createBrowserContext(
                options.proxyUrl ? { proxyServer: anonymized ?? options.proxyUrl, proxyBypassList: ['<-loopback>'] } : {},
            );
            contextCleanups.set(context, closeProxy);
            if (options.cookies.length) await context.setCookie(...(options.cookies as CookieData[]));
            if (options.origins.length) {
                await onEachOrigin(context, options.origins.map((o) => o.origin), async (page, origin) => {
                    const items = options.origins.find((o) => o.origin === origin)?.localStorage ?? [];
                    await page.evaluate((entries: { name: string; value: string }[]) => {
                        for (const { name, value } of entries) localStorage.setItem(name, value);
                    }, items);
                });
            }
            return context;
        } catch (error) {
            await context?.close().catch(() => {});
            await closeProxy();
            throw error;
        }
    }

    async newPage(context: BrowserContext): Promise<Page> {
        return context.newPage();
    }

    async storage(context: BrowserContext, origins: readonly string[]): Promise<OriginStorage[]> {
        const out: OriginStorage[] = [];
        await onEachOrigin(context, origins, async (page, origin) => {
            const localStorage = await page.evaluate(() => Object.entries(window.localStorage).map(([name, value]) => ({ name, value })));
            if (localStorage.length) out.push({ origin, localStorage });
        });
        return out;
    }

    async closeContext(context: BrowserContext): Promise<void> {
        try {
            await context.close();
        } finally {
            await contextCleanups.get(context)?.();
        }
    }

    async releaseContext(context: BrowserContext): Promise<void> {
        await contextCleanups.get(context)?.();
    }

    contextCount(browser: Browser): number {
        // The default context is always there; only the sessions' count.
        return browser.browserContexts().length - 1;
    }

    /**
     * What fingerprint-injector's `attachFingerprintToPuppeteer` sets on a page (user agent, screen metrics, the
     * browser-wide headers, dark color scheme, the navigator/screen/WebGL override script), plus client hints
     * consistent with the user agent, sent at once instead of one round trip after the other: none of them depends on
     * another, and each is a round trip to the browser before the page may navigate (eight in a row, before).
     */
    async applyPageIdentity(page: Page, fp: BrowserFingerprintWithHeaders, headers: Record<string, string>): Promise<void> {
        const { screen, navigator } = fp.fingerprint;
        const userAgent = headers['user-agent'] ?? navigator.userAgent;
        const metadata = userAgentMetadata(fp);
        // The screen metrics go over a CDP session of our own that stays attached (Chromium drops a session's overrides
        // when it detaches; it ends with the page), as the injector does.
        // The page area is the window's inner size (see windowViewport()), the screen the fingerprint's.
        const viewport = windowViewport(fp.fingerprint);
        const metrics = page.createCDPSession().then(async (cdp) => {
            this.cdpSessions.set(page, cdp);
            return cdp.send('Page.setDeviceMetricsOverride', {
                screenHeight: screen.height,
                screenWidth: screen.width,
                width: viewport.width,
                height: viewport.height,
                mobile: /phone|android|mobile/i.test(userAgent),
                screenOrientation: screen.height > screen.width ? { angle: 0, type: 'portraitPrimary' } : { angle: 90, type: 'landscapePrimary' },
                deviceScaleFactor: screen.devicePixelRatio,
            });
        });
        const userAgentOverride = metadata
            ? page
                  .setUserAgent({ userAgent, userAgentMetadata: metadata as never, platform: navigator.platform })
                  .catch(async () => page.setUserAgent({ userAgent }))
            : page.setUserAgent({ userAgent });
        await Promise.all([
            userAgentOverride,
            metrics,
            // `headers` are browser-wide already (no accept, sec-fetch-*, te...: what the injector leaves out too).
            page.setExtraHTTPHeaders({ ...headers, 'user-agent': userAgent }),
            page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'dark' }]),
            page.evaluateOnNewDocument(this.injector.getInjectableScript({ fingerprint: fp.fingerprint, headers })),
        ]);
    }

    async tidyKeptTab(page: Page): Promise<void> {
        await this.cdpSessions.get(page)?.send('HeapProfiler.collectGarbage');
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

    async closePage(page: Page): Promise<void> {
        await page.close();
    }

    onPageClose(page: Page, listener: () => void): void {
        page.once('close', listener);
    }

    responseInfo(response: HTTPResponse): ResponseInfo {
        return { url: response.url(), statusCode: response.status(), headers: response.headers() };
    }
}

/**
 * Runs `fn` on a page of `context` that is on each origin in turn, without any request leaving the browser (every
 * request is answered with an empty page): how `localStorage` of an origin is read or written (what Playwright's
 * `storageState` does).
 */
async function onEachOrigin(context: BrowserContext, origins: readonly string[], fn: (page: Page, origin: string) => Promise<void>) {
    if (origins.length === 0) return;
    const page = await context.newPage();
    try {
        await page.setRequestInterception(true);
        page.on('request', (request) => {
            void request.respond({ status: 200, contentType: 'text/html', body: '<!doctype html><title></title>' }).catch(() => {});
        });
        for (const origin of origins) {
            await page.goto(`${origin}/`);
            await fn(page, origin);
        }
    } finally {
        await page.close().catch(() => {});
    }
}

/** The launcher Crawlee gets (`launchContext.launcher`): Puppeteer, except that `launch()` gives a view of the shared browser. */
export function sharedLauncher(launcher: PuppeteerNode, launchView: () => Promise<Browser>): PuppeteerNode {
    return viewWith(launcher, { launch: async (_options?: LaunchOptions) => launchView() });
}
