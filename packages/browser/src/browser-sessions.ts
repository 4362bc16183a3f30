/**
 * The browser half of sessionpack, shared by the Playwright and Puppeteer adapters: turns a browser crawler's options
 * into options where every page belongs to one session and opens in that session's own context.
 *
 * How a page is tied to its session: Crawlee asks our ProxyConfiguration for a proxy with `{ request }`; the attempt
 * acquires its session there and gets back a route (see `routes.ts`) instead of the proxy URL. Crawlee then opens the
 * attempt's page in the browser it got from our launcher: one browser for all sessions, whose page creation takes the
 * route and opens the page in the session's context (see `session-contexts.ts`), which has the session's real proxy,
 * fingerprint, cookies and storage. The first pre-navigation hook finds the session again from the request and gives
 * the page what is set per page. After navigation (and after the handler) the context's cookies go back into the
 * session's jar, and the rendered page is checked.
 */
import type { Request } from '@crawlee/core';
import ow from 'ow';
import { ProxyConfiguration } from '@crawlee/core';
import type { InitToolHelpers, ManagedSession, SessionManager, SessionManagerOptions } from '@sessionpack/core';
import { CrawlerBinding } from '@sessionpack/core/adapter';

import { jarToBrowserCookies, saveBrowserCookies } from './cookies.js';
import type { BrowserDriver, ResponseInfo } from './driver.js';
import { browserWideHeaders, SessionFingerprints, type SessionFingerprintsOptions } from './fingerprints.js';
import { PageRoutes } from './routes.js';
import { SessionContexts, type SessionContextStats } from './session-contexts.js';
import { SharedBrowser } from './shared-browser.js';


/** Browser-specific options of `withSessions()` in the Playwright and Puppeteer adapters. */
export interface BrowserSessionsOptions extends SessionFingerprintsOptions {
    /**
     * How many session contexts without an open page stay open. Beyond it the least recently used idle context is
     * closed (its `localStorage` saved first) and its session's next page gets a new context with the same identity,
     * cookies and storage. Bounds the browser's memory when a crawl uses many sessions; keep it at or above the pool
     * size (`pool.size`, 20 by default) unless memory is short, or sessions taking turns recreate their contexts over
     * and over. An idle context costs about 1 MB of Chromium's memory (20 idle: ~20 MB more than 3); a recreation costs
     * a context created and closed, the saved `localStorage` and a cold HTTP cache. Measured on a 100-page crawl at
     * concurrency 3 (BENCHMARKS.md, browser-overhead): a bound of 3 instead of 20 was slower and peaked higher, since
     * contexts being closed and created overlap. @default 20
     */
    maxIdleContexts?: number;
    /**
     * How many tabs stay open for their sessions' next pages, in all (at most one per session). When Crawlee closes a
     * page that ended well, its tab stays open in its session's context and is that session's next page: no tab to
     * open, its identity already applied, its renderer warm, and its `sessionStorage` kept, as in a visitor's tab.
     * Beyond the bound the tab kept longest ago is closed. A kept tab holds a renderer process of its own (a context's
     * pages cannot share another context's), 130-140 MiB at the benchmark's peak: keep the bound near the crawl's
     * concurrency unless memory is plentiful; 0 closes every page's tab, as Crawlee does (the browser then keeps
     * Chromium's spare renderer, which a new tab per page needs: see `chromiumLaunchArgs()`'s `keptTabs`). @default 6
     */
    maxKeptTabs?: number;
    /**
     * Seconds the browser stays open when a session's `init` launched it and no crawler page came to use it (the
     * crawler's pages then launch it again). @default 5
     */
    initBrowserIdleSecs?: number;
}

/** Tools a rule's `init` gets in browser crawlers, next to core's `sendRequest`. */
export type BrowserInitTools<Page> = {
    /**
     * Opens a page in the session's own context (the one its crawled pages use), with the session's proxy, user agent,
     * fingerprint, cookies and storage: what the init stores there (cookies, `localStorage`) is there for its later
     * pages. Cookies are also saved to the session's jar when the init ends, and the page is closed then. Its `goto()`
     * is checked like a crawled page: a block or rate limit throws and fails the init as the proxy's fault.
     *
     * ```ts
     * init: async ({ newPage }) => {
     *     const page = await newPage();
     *     await page.goto('http://shop.test/location');
     *     await page.selectOption('select[name=country]', 'US');
     *     await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
     * }
     * ```
     */
    newPage(): Promise<Page>;
};

/** Crawler options sessionpack owns in browser crawlers. */
const OWNED_OPTIONS = ['proxyConfiguration', 'useSessionPool', 'persistCookiesPerSession', 'sessionPoolOptions'] as const;

type Ctx = {
    request: Request;
    page: any;
    response?: any;
    session?: ManagedSession;
    proxyInfo?: { sessionId?: string; url?: string; hostname?: string; port?: number | string; username?: string; password?: string };
};
type Hook = (ctx: any, gotoOptions?: any) => unknown;
type AnyOptions = Record<string, any>;

/** What a route stands for: one attempt's session. */
interface Route {
    session: ManagedSession;
    request: Request;
}

/** Builds the launcher Crawlee launches "its" browsers with: each launch gives a view of the one shared browser. */
export type LauncherFactory<Browser> = (launch: () => Promise<Browser>) => unknown;

/**
 * Wires a {@link SessionManager} into a browser crawler. Adapters call {@link BrowserSessions.crawlerOptions} from their
 * `withSessions()`.
 */
export class BrowserSessions<Page = any, Response = any, Browser = any, Context = any> {
    readonly binding: CrawlerBinding;
    readonly fingerprints: SessionFingerprints;
    readonly browser: SharedBrowser<Page, Browser>;
    readonly contexts: SessionContexts<Page, Browser, Context>;
    private readonly routes = new PageRoutes<Route>();
    /** The jar's cookies as the session's context last got or reported them (no need to add them again). */
    private readonly jarInBrowser = new WeakMap<ManagedSession, string>();
    private listening?: { manager: SessionManager; listener: (session: ManagedSession) => void };
    /**
     * Whether sessions keep their tabs (`maxKeptTabs` above 0): the adapters then launch Chromium without its spare
     * renderer and back/forward cache (`chromiumLaunchArgs()`'s `keptTabs`).
     */
    readonly keepsTabs: boolean;

    constructor(
        sessions: SessionManager | SessionManagerOptions,
        readonly driver: BrowserDriver<Page, Response, Browser, Context>,
        options: BrowserSessionsOptions = {},
    ) {
        ow(
            options,
            'withSessions() browser options',
            ow.object.partialShape({
                maxIdleContexts: ow.optional.number.integer.greaterThanOrEqual(0),
                maxKeptTabs: ow.optional.number.integer.greaterThanOrEqual(0),
                initBrowserIdleSecs: ow.optional.number.finite.greaterThanOrEqual(0),
                fingerprintGeneratorOptions: ow.optional.object,
            }),
        );
        const maxIdleContexts = options.maxIdleContexts ?? 20;
        const maxKeptTabs = options.maxKeptTabs ?? 6;
        this.keepsTabs = maxKeptTabs > 0;
        const idleSecs = options.initBrowserIdleSecs ?? 5;
        this.binding = new CrawlerBinding(sessions);
        this.fingerprints = new SessionFingerprints(options);
        this.browser = new SharedBrowser(driver, { idleSecs, onClose: async () => this.onBrowserClose() });
        this.contexts = new SessionContexts(driver, this.fingerprints, async () => this.browser.get(), maxIdleContexts, maxKeptTabs);
        // Cookies still being read after the last pages are in their jars before an owned manager stores them.
        this.binding.onRunEnd(async () => this.contexts.settled());
    }

    /** Contexts of sessions: open, idle, created, recreated. */
    contextStats(): SessionContextStats {
        return this.contexts.stats();
    }

    /**
     * Returns `crawlerOptions` with sessionpack's hooks: the proxy of each attempt is a route to its session, Crawlee's
     * browsers are views of one shared browser (from `launcher`) where each page opens in its session's context, and
     * every hook and handler is wrapped.
     */
    crawlerOptions<Options extends AnyOptions>(crawlerOptions: Options, adapterName: string, launcher: LauncherFactory<Browser>): Options {
        for (const option of OWNED_OPTIONS) {
            if (crawlerOptions[option] !== undefined) {
                throw new Error(
                    `withSessions(): crawler option "${option}" must be left out: sessionpack manages proxies, sessions and their cookies. Give proxies to the sessions options (proxyUrls or proxyConfiguration) instead.`,
                );
            }
        }
        const launchContext: AnyOptions = { ...crawlerOptions.launchContext };
        if (launchContext.useIncognitoPages === false) {
            throw new Error(
                `withSessions() for ${adapterName}: launchContext.useIncognitoPages must stay on: each session's page opens in a context of its own (its own proxy, cookies and storage).`,
            );
        }
        for (const option of ['userAgent', 'browserPerProxy', 'experimentalContainers'] as const) {
            if (launchContext[option] !== undefined) {
                throw new Error(
                    `withSessions() for ${adapterName}: launchContext.${option} must be left out: each session has its own user agent and proxy in a context of its own, in one browser (set headerGeneratorOptions in the sessions options to choose browsers).`,
                );
            }
        }
        const browserPoolOptions: AnyOptions = { ...crawlerOptions.browserPoolOptions };
        if (browserPoolOptions.useFingerprints === true) {
            throw new Error(
                `withSessions() for ${adapterName}: browserPoolOptions.useFingerprints must be left out: Crawlee gives every context of a browser the same fingerprint, sessionpack gives each session its own.`,
            );
        }
        // Crawlee's implicit router: without a requestHandler, requests go to `crawler.router`.
        const requestHandler =
            (crawlerOptions.requestHandler as ((ctx: any) => unknown) | undefined) ??
            ((ctx: any) => (ctx as { crawler: { router: (c: unknown) => unknown } }).crawler.router(ctx));

        return {
            ...crawlerOptions,
            useSessionPool: false,
            proxyConfiguration: this.proxyConfiguration(),
            launchContext: {
                ...launchContext,
                useIncognitoPages: true,
                launcher: launcher(async () => this.browser.viewForCrawlee(async (proxyServer) => this.pageForCrawlee(proxyServer))),
            },
            browserPoolOptions: { ...browserPoolOptions, useFingerprints: false },
            preNavigationHooks: [this.preNavigation, ...(crawlerOptions.preNavigationHooks ?? [])],
            postNavigationHooks: [this.postNavigation, ...(crawlerOptions.postNavigationHooks ?? [])],
            requestHandler: this.binding.wrapRequestHandler((async (ctx: Ctx) => {
                await requestHandler(ctx);
                // The page ended well: its tab may be the session's next page.
                if (ctx.page) this.contexts.markReusable(ctx.page as Page);
                // What the handler's clicks and forms set belongs to the session too: read while Crawlee closes the
                // page and moves on (the session's next page, its context's closing and the run's end wait for it).
                this.saveCookiesLater(ctx);
            }) as never),
            errorHandler: this.wrapErrorHandler(crawlerOptions.errorHandler),
            failedRequestHandler: this.wrapErrorHandler(crawlerOptions.failedRequestHandler),
        };
    }

    /** The ProxyConfiguration each attempt acquires its session through, with browser tools for `init`. */
    proxyConfiguration(): ProxyConfiguration {
        return new ProxyConfiguration({
            newUrlFunction: async (_sessionId, options) => {
                // Crawlee also asks for a proxy without a request when it launches a browser: that one needs none.
                const request = options?.request;
                if (!request) return null;
                await this.listenForRetirements();
                const initPages: ((passed: boolean) => Promise<void>)[] = [];
                let session: ManagedSession;
                let passed = false;
                try {
                    session = await this.binding.begin(request, { initTools: this.initTools(initPages) });
                    passed = true;
                } finally {
                    // An init's pages live as long as the init: their cookies go to the jar, then they close (the tab of
                    // a passed init's page is kept for the session's first crawled page).
                    await Promise.all(initPages.map(async (close) => close(passed)));
                }
                this.routes.drop((r) => r.request === request);
                return this.routes.add({ session, request });
            },
        });
    }

    /** Crawlee opens the page of a route: it opens in the route's session's context. */
    private async pageForCrawlee(proxyServer: string | undefined): Promise<Page> {
        const route = this.routes.take(proxyServer);
        if (!route) {
            throw new Error(
                `sessionpack: a page was opened without a session's route (proxy ${proxyServer ? 'set by someone else' : 'none'}); is the crawler's proxyConfiguration the one withSessions() set?`,
            );
        }
        return this.contexts.newPage(route.session);
    }

    /** Closes a session's context when it is retired (by a verdict, its limits, or `ctx.session.retire()`). */
    private async listenForRetirements() {
        if (this.listening) return;
        const manager = await this.binding.manager();
        if (this.listening) return;
        const listener = (session: ManagedSession) => this.contexts.retire(session);
        manager.events.on('sessionRetired', listener);
        this.listening = { manager, listener };
    }

    private async onBrowserClose() {
        await this.contexts.closeAll();
        if (this.listening) {
            this.listening.manager.events.off('sessionRetired', this.listening.listener);
            this.listening = undefined;
        }
    }

    /** The `init` tools of one acquire: `newPage()` opens pages in the session's own context. */
    private initTools(initPages: ((passed: boolean) => Promise<void>)[]): (session: ManagedSession, helpers: InitToolHelpers) => BrowserInitTools<Page> {
        return (session, helpers) => ({
            newPage: async () => {
                await this.browser.hold();
                let page: Page;
                try {
                    page = await this.contexts.newPage(session);
                } catch (error) {
                    this.browser.release();
                    throw error;
                }
                let released = false;
                const end = () => {
                    if (released) return;
                    released = true;
                    this.browser.release();
                };
                this.driver.onPageClose(page, end);
                initPages.push(async (passed) => {
                    await this.driver
                        .cookies(this.contexts.tabOf(page))
                        .then((cookies) => saveBrowserCookies(session, cookies))
                        .catch(() => {});
                    if (passed) this.contexts.markReusable(page);
                    await this.driver.closePage(page).catch(() => {});
                    end();
                });
                await this.contexts.identityApplied(page);
                this.classifyNavigations(page, helpers);
                return page;
            },
        });
    }

    /**
     * Every `page.goto()` of an init page is classified like a crawled page (status, headers, rendered HTML): a block,
     * rate limit or proxy failure fails the init at once as the proxy's fault (core counts it for the proxy, not as a
     * broken init flow), instead of the init timing out on a form the block page does not have.
     */
    private classifyNavigations(page: Page, helpers: InitToolHelpers) {
        const target = page as unknown as { goto(url: string, options?: unknown): Promise<Response | null> };
        const goto = target.goto.bind(target);
        target.goto = async (url: string, options?: unknown) => {
            let response: Response | null;
            try {
                response = await goto(url, options);
            } catch (error) {
                const verdict = helpers.classify({ url, error });
                if (verdict.type === 'proxy-failure') throw new Error(`init page ${verdict.type}: ${verdict.reason ?? ''}`, { cause: error });
                throw error;
            }
            const info = response ? await this.driver.responseInfo(response) : {};
            const body = await this.driver.content(this.contexts.tabOf(page)).catch(() => '');
            const verdict = helpers.classify({ url: info.url ?? url, statusCode: info.statusCode, headers: info.headers, body: body });
            if (verdict.type !== 'ok' && verdict.type !== 'target-error') {
                throw new Error(`init page ${url} got ${verdict.type}: ${verdict.reason ?? 'no reason given'}`);
            }
            return response;
        };
    }

    /** First pre-navigation hook: the page (already in its session's context) gets what is set per page, and the jar. */
    private preNavigation: Hook = async (ctx: Ctx) => {
        const session = this.binding.attach(ctx as never);
        this.routes.drop((r) => r.request === ctx.request);
        this.showRealProxy(ctx, session);
        const page = ctx.page as Page;
        const headers = browserWideHeaders(session.identity.headers);
        const manager = await this.binding.manager();
        await manager.prepare({ session, request: ctx.request, headers, page });
        // The jar is the source of truth (an HTTP crawler or an init's sendRequest may have added to it): whatever it
        // holds that the context was not given yet goes in (the context got the whole jar when it was created), once
        // the cookies the session's last page left in the context are in the jar. The page's identity has been on its
        // way since the page opened; both at once: they do not depend on each other.
        await this.contexts.settled(session);
        const cookies = jarToBrowserCookies(session);
        const key = JSON.stringify(cookies);
        const syncCookies = this.jarInBrowser.get(session) === key ? undefined : this.driver.addCookies(this.contexts.tabOf(page), cookies);
        await Promise.all([this.contexts.identityApplied(page), syncCookies]);
        if (syncCookies) this.jarInBrowser.set(session, key);
        this.contexts.visited(session, ctx.request.url);
    };

    /** `ctx.proxyInfo` was built from the route: from here on it shows the session's proxy (none for a direct session). */
    private showRealProxy(ctx: Ctx, session: ManagedSession) {
        const proxyUrl = session.identity.proxy?.url;
        if (!ctx.proxyInfo) return;
        if (!proxyUrl) {
            ctx.proxyInfo = undefined;
            return;
        }
        const url = new URL(proxyUrl);
        Object.assign(ctx.proxyInfo, {
            url: proxyUrl,
            hostname: url.hostname,
            port: url.port,
            username: decodeURIComponent(url.username),
            password: decodeURIComponent(url.password),
            sessionId: session.id,
        });
    }

    /**
     * First post-navigation hook: the response and the rendered page are checked, with the context's cookies already in
     * the session's jar when the rule has a check (it may read `session.getCookieString()`: what the page just set must
     * be there). They go back to the jar again after the handler, or in the error handler when the handler failed.
     */
    private postNavigation: Hook = async (ctx: Ctx) => {
        const session = this.binding.current(ctx.request);
        if (!session) return;
        const page = ctx.page as Page;
        const tab = this.contexts.tabOf(page);
        // Only a rule's check can read the jar before the handler: without one, the read after the handler is enough.
        const checks = (await this.binding.manager()).ruleFor(ctx.request)?.check;
        const jarFirst = checks !== undefined && (!Array.isArray(checks) || checks.length > 0);
        // The reads at once: they do not depend on each other.
        const [info, body] = await Promise.all([
            ctx.response ? this.driver.responseInfo(ctx.response as Response) : ({} as ResponseInfo),
            this.driver.content(tab).catch(() => ''),
            jarFirst ? this.readCookies(session, page) : undefined,
        ]);
        const url = info.url ?? this.driver.url(tab);
        this.contexts.visited(session, url);
        try {
            await this.binding.check(
                ctx as never,
                { url, statusCode: info.statusCode, headers: info.headers, body: body },
                { page, pageResponse: ctx.response },
            );
        } finally {
            if (session.isRetired) await this.closeOtherPages(session, page);
        }
    };

    private wrapErrorHandler(handler: ((ctx: any, error: Error) => unknown) | undefined) {
        const wrapped = this.binding.wrapErrorHandler(handler as never);
        return async (ctx: Ctx, error: Error) => {
            const session = this.binding.current(ctx.request);
            this.routes.drop((r) => r.request === ctx.request);
            if (session && !session.isRetired) await this.saveCookies(ctx);
            await wrapped(ctx as never, error);
            if (session?.isRetired) await this.closeOtherPages(session, ctx.page as Page);
        };
    }

    /** Saves the cookies of the attempt's context into its session's jar. */
    private async saveCookies(ctx: Ctx) {
        const session = this.binding.current(ctx.request);
        if (!session || !ctx.page) return;
        await this.readCookies(session, ctx.page as Page);
    }

    /** Starts saving the cookies of the attempt's context into its session's jar, tracked by the session's context. */
    private saveCookiesLater(ctx: Ctx) {
        const session = this.binding.current(ctx.request);
        if (!session || !ctx.page) return;
        this.contexts.track(session, this.readCookies(session, ctx.page as Page));
    }

    private async readCookies(session: ManagedSession, page: Page) {
        // The context's cookies, which outlive the page: the read is sent now, before Crawlee closes the page (read from
        // the tab: a closed page's lease no longer answers).
        const cookies = await this.driver.cookies(this.contexts.tabOf(page)).catch(() => []);
        saveBrowserCookies(session, cookies);
        // The jar now holds what the context holds.
        this.jarInBrowser.set(session, JSON.stringify(jarToBrowserCookies(session)));
    }

    /**
     * A retired session must not keep browsing: its other pages (concurrent uses) are closed, their attempts fail and
     * are retried on other sessions. The current page is closed by Crawlee when its attempt ends (its tab is not kept),
     * and the context with its last page.
     */
    private async closeOtherPages(session: ManagedSession, current: Page | undefined) {
        const tab = current === undefined ? undefined : this.contexts.tabOf(current);
        const others = [...this.contexts.pagesOf(session)].filter((p) => p !== tab);
        await Promise.all(others.map(async (p) => this.driver.closePage(p).catch(() => {})));
    }
}
