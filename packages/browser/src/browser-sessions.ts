/**
 * The browser half of sessionpack, shared by the Playwright and Puppeteer adapters: turns a browser crawler's options
 * into options where every page belongs to one session.
 *
 * How a page is tied to its session: Crawlee (with `useIncognitoPages`) asks our ProxyConfiguration for a proxy with
 * `{ request }` and then opens a page in a new incognito context with that proxy, for that same attempt. The attempt's
 * session is found again from the request in the first pre-navigation hook, while the page is still blank: there it
 * gets the session's user agent, fingerprint, headers and cookie jar. After navigation (and after the handler) the
 * context's cookies go back into the session's jar, and the rendered page is checked. Contexts live as long as their
 * page (Crawlee closes both after the attempt), so a session's next page is a new context rebuilt from the same
 * identity and jar, and nothing but the jar outlives an attempt: storage never crosses sessions.
 */
import type { Request } from '@crawlee/core';
import { ProxyConfiguration } from '@crawlee/core';
import type { BrowserController } from '@crawlee/browser-pool';
import type { InitToolHelpers, ManagedSession, SessionManager, SessionManagerOptions } from '@sessionpack/core';
import { CrawlerBinding } from '@sessionpack/core/adapter';

import { jarToBrowserCookies, saveBrowserCookies } from './cookies.js';
import type { BrowserDriver, InitPage } from './driver.js';
import { browserWideHeaders, SessionFingerprints, type SessionFingerprintsOptions } from './fingerprints.js';
import { InitBrowser } from './init-browser.js';

/** The most of a rendered page the checks look at (challenge markers sit near the top of a page). */
const BODY_CHECK_LIMIT = 512 * 1024;

/** Browser-specific options of `withSessions()` in the Playwright and Puppeteer adapters. */
export interface BrowserSessionsOptions extends SessionFingerprintsOptions {
    /** Seconds the browser of `init` pages stays open without an init before it is closed. @default 5 */
    initBrowserIdleSecs?: number;
}

/** Tools a rule's `init` gets in browser crawlers, next to core's `sendRequest`. */
export type BrowserInitTools<Page> = {
    /**
     * Opens a page in a new context with the session's proxy, user agent, fingerprint and cookies. Cookies the site sets
     * there are saved to the session when the init ends, and the page is closed then. Its `goto()` is checked like a
     * crawled page: a block or rate limit throws and fails the init as the proxy's fault.
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
    proxyInfo?: { sessionId?: string };
};
type Hook = (ctx: any, gotoOptions?: any) => unknown;
type AnyOptions = Record<string, any>;

/**
 * Wires a {@link SessionManager} into a browser crawler. Adapters call {@link BrowserSessions.crawlerOptions} from their
 * `withSessions()`.
 */
export class BrowserSessions<Page = any, Response = any, Browser = any> {
    readonly binding: CrawlerBinding;
    readonly fingerprints: SessionFingerprints;
    readonly initBrowser: InitBrowser<Page, Browser>;
    /** Pages open right now, per session (to close them when their session is retired). */
    private readonly openPages = new Map<ManagedSession, Set<Page>>();
    /** The crawler's browsers that are alive (the init browser closes with the last of them). */
    private readonly crawlerBrowsers = new Set<BrowserController>();

    constructor(
        sessions: SessionManager | SessionManagerOptions,
        readonly driver: BrowserDriver<Page, Response, Browser>,
        options: BrowserSessionsOptions = {},
    ) {
        this.binding = new CrawlerBinding(sessions);
        this.fingerprints = new SessionFingerprints(options);
        this.initBrowser = new InitBrowser(driver, options.initBrowserIdleSecs ?? 5);
    }

    /** How many pages (each in its own context) are open for sessions right now. */
    get openPageCount(): number {
        let n = 0;
        for (const pages of this.openPages.values()) n += pages.size;
        return n;
    }

    /**
     * Returns `crawlerOptions` with sessionpack's hooks: the proxy of each attempt comes from its session, pages are
     * incognito (a context each) with Crawlee's shared fingerprint turned off, and every hook and handler is wrapped.
     */
    crawlerOptions<Options extends AnyOptions>(crawlerOptions: Options, adapterName: string): Options {
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
                `withSessions() for ${adapterName}: launchContext.useIncognitoPages must stay on: each session's page needs a context of its own (its own proxy and cookies).`,
            );
        }
        if (launchContext.userAgent !== undefined) {
            throw new Error(
                `withSessions() for ${adapterName}: launchContext.userAgent must be left out: each session has its own user agent (set headerGeneratorOptions in the sessions options to choose browsers).`,
            );
        }
        const browserPoolOptions: AnyOptions = { ...crawlerOptions.browserPoolOptions };
        if (browserPoolOptions.useFingerprints === true) {
            throw new Error(
                `withSessions() for ${adapterName}: browserPoolOptions.useFingerprints must be left out: Crawlee gives every context of a browser the same fingerprint, sessionpack gives each session its own.`,
            );
        }
        const requestHandler = crawlerOptions.requestHandler as ((ctx: any) => unknown) | undefined;
        if (!requestHandler) throw new Error('withSessions(): crawler option "requestHandler" is required.');

        return {
            ...crawlerOptions,
            useSessionPool: false,
            proxyConfiguration: this.proxyConfiguration(),
            launchContext: { ...launchContext, useIncognitoPages: true },
            browserPoolOptions: {
                ...browserPoolOptions,
                useFingerprints: false,
                prePageCreateHooks: [this.prePageCreate, ...(browserPoolOptions.prePageCreateHooks ?? [])],
                postLaunchHooks: [this.postLaunch, ...(browserPoolOptions.postLaunchHooks ?? [])],
            },
            preNavigationHooks: [this.preNavigation, ...(crawlerOptions.preNavigationHooks ?? [])],
            postNavigationHooks: [this.postNavigation, ...(crawlerOptions.postNavigationHooks ?? [])],
            requestHandler: this.binding.wrapRequestHandler((async (ctx: Ctx) => {
                await requestHandler(ctx);
                // What the handler's clicks and forms set belongs to the session too.
                await this.saveCookies(ctx);
            }) as never),
            errorHandler: this.wrapErrorHandler(crawlerOptions.errorHandler),
            failedRequestHandler: this.wrapErrorHandler(crawlerOptions.failedRequestHandler),
        };
    }

    /** The ProxyConfiguration each attempt acquires its session through, with browser tools for `init`. */
    proxyConfiguration(): ProxyConfiguration {
        return new ProxyConfiguration({
            newUrlFunction: async (_sessionId, options) => {
                // Crawlee also asks for a proxy without a request when it launches a browser for a page without
                // one (a direct session): that browser-wide proxy must stay empty.
                const request = options?.request;
                if (!request) return null;
                const initPages: InitPage<Page>[] = [];
                try {
                    const session = await this.binding.begin(request, {
                        initTools: this.initTools(initPages),
                    });
                    return session.identity.proxy?.url ?? null;
                } finally {
                    await Promise.all(initPages.map(async (p) => p.close()));
                }
            },
        });
    }

    /** The `init` tools of one acquire: `newPage()` opens pages of the session being initialized. */
    private initTools(initPages: InitPage<Page>[]): (session: ManagedSession, helpers: InitToolHelpers) => BrowserInitTools<Page> {
        return (session, helpers) => ({
            newPage: async () => {
                const opened = await this.initBrowser.open({ proxyUrl: session.identity.proxy?.url });
                const entry: InitPage<Page> = {
                    page: opened.page,
                    close: async () => {
                        await this.driver
                            .cookies(opened.page)
                            .then((cookies) => saveBrowserCookies(session, cookies))
                            .catch(() => {});
                        await opened.close();
                    },
                };
                initPages.push(entry);
                await this.driver.applyIdentity(opened.page, this.fingerprints.for(session), this.identityHeaders(session));
                await this.driver.addCookies(opened.page, jarToBrowserCookies(session));
                this.classifyNavigations(opened.page, helpers);
                return opened.page;
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
            const body = await this.driver.content(page).catch(() => '');
            const verdict = helpers.classify({ url: info.url ?? url, statusCode: info.statusCode, headers: info.headers, body: body.slice(0, BODY_CHECK_LIMIT) });
            if (verdict.type !== 'ok' && verdict.type !== 'target-error') {
                throw new Error(`init page ${url} got ${verdict.type}: ${verdict.reason ?? 'no reason given'}`);
            }
            return response;
        };
    }

    /** The identity's browser-wide headers (no request-dependent ones). */
    private identityHeaders(session: ManagedSession): Record<string, string> {
        return browserWideHeaders(session.identity.headers);
    }

    /** prePageCreateHooks: no page falls back to the browser-wide proxy; loopback goes through the proxy too. */
    private prePageCreate = (_pageId: string, _controller: unknown, pageOptions?: Record<string, unknown>) => {
        if (pageOptions) this.driver.preparePageOptions(pageOptions);
    };

    /** postLaunchHooks: tracks the crawler's browsers; when the last one closes (end of the crawl), so does the init browser. */
    private postLaunch = (_pageId: string, controller: BrowserController) => {
        this.crawlerBrowsers.add(controller);
        // BROWSER_CONTROLLER_EVENTS.BROWSER_CLOSED (a const enum, not importable under verbatimModuleSyntax).
        (controller as unknown as NodeJS.EventEmitter).on('browserClosed', () => {
            this.crawlerBrowsers.delete(controller);
            if (this.crawlerBrowsers.size === 0) this.initBrowser.closeWhenIdle();
        });
    };

    /** First pre-navigation hook: the blank page takes its session's identity, headers and cookies. */
    private preNavigation: Hook = async (ctx: Ctx) => {
        const session = this.binding.attach(ctx as never);
        const page = ctx.page as Page;
        this.track(session, page);
        const headers = this.identityHeaders(session);
        const manager = await this.binding.manager();
        await manager.prepare({ session, request: ctx.request, headers, page });
        await this.driver.applyIdentity(page, this.fingerprints.for(session), headers);
        await this.driver.addCookies(page, jarToBrowserCookies(session));
    };

    /** First post-navigation hook: cookies back to the jar, then the response and the rendered page are checked. */
    private postNavigation: Hook = async (ctx: Ctx) => {
        const session = this.binding.current(ctx.request);
        if (!session) return;
        await this.saveCookies(ctx);
        const page = ctx.page as Page;
        const info = ctx.response ? await this.driver.responseInfo(ctx.response as Response) : {};
        const body = await this.driver.content(page).catch(() => '');
        try {
            await this.binding.check(
                ctx as never,
                {
                    url: info.url ?? this.driver.url(page),
                    statusCode: info.statusCode,
                    headers: info.headers,
                    body: body.slice(0, BODY_CHECK_LIMIT),
                },
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
            await wrapped(ctx as never, error);
            if (session?.isRetired) await this.closeOtherPages(session, ctx.page as Page);
        };
    }

    /** Saves the cookies of the attempt's context into its session's jar. */
    private async saveCookies(ctx: Ctx) {
        const session = this.binding.current(ctx.request);
        if (!session || !ctx.page) return;
        const cookies = await this.driver.cookies(ctx.page as Page).catch(() => []);
        saveBrowserCookies(session, cookies);
    }

    private track(session: ManagedSession, page: Page) {
        let pages = this.openPages.get(session);
        if (!pages) this.openPages.set(session, (pages = new Set()));
        pages.add(page);
        (page as { once?: (event: string, fn: () => void) => void }).once?.('close', () => {
            pages.delete(page);
            if (pages.size === 0 && this.openPages.get(session) === pages) this.openPages.delete(session);
        });
    }

    /**
     * A retired session must not keep browsing: its other pages (concurrent uses) are closed, their attempts fail and
     * are retried on other sessions. The current page is closed by Crawlee when its attempt ends.
     */
    private async closeOtherPages(session: ManagedSession, current: Page) {
        const pages = this.openPages.get(session);
        if (!pages) return;
        await Promise.all(
            [...pages]
                .filter((p) => p !== current)
                .map(async (p) => (p as { close(): Promise<void> }).close().catch(() => {})),
        );
    }
}
