/**
 * What @sessionpack/browser needs from an automation library. Each adapter implements it for its library
 * (Playwright, Puppeteer); everything else about browser sessions is written once, in this package.
 */
import type { BrowserFingerprintWithHeaders } from 'fingerprint-generator';

import type { BrowserCookie, ReportedCookie } from './cookies.js';

/** The parts of a navigation response the classifier and checks look at. */
export interface ResponseInfo {
    url?: string;
    statusCode?: number;
    headers?: Record<string, string | string[] | undefined>;
}

/** `localStorage` of one origin, as Playwright's `storageState().origins` holds it. */
export interface OriginStorage {
    origin: string;
    localStorage: { name: string; value: string }[];
}

/** What a session's context is created with. */
export interface SessionContextOptions {
    /** The session's proxy (with credentials, which must never reach a URL Chromium logs); none: a direct connection. */
    proxyUrl?: string;
    fingerprint: BrowserFingerprintWithHeaders;
    /** The identity's browser-wide headers (sent on every request of the context). */
    headers: Record<string, string>;
    /** The session's whole cookie jar. */
    cookies: BrowserCookie[];
    /** `localStorage` saved when an earlier context of the session was closed for being idle. */
    origins: OriginStorage[];
}

/** What the browser handed to Crawlee does when Crawlee opens or closes things in it. */
export interface BrowserHooks<Page> {
    /** Crawlee opens a page with `proxyServer` as its proxy (a route, see `routes.ts`): give it the session's page. */
    newPage(proxyServer: string | undefined): Promise<Page>;
    /** Crawlee closed its browser (each view once). */
    release(): void;
}

export interface BrowserDriver<Page = unknown, Response = unknown, Browser = unknown, Context = unknown> {
    /** Library name, for messages. */
    readonly name: string;
    /** Launches the one browser every session's context lives in. */
    launch(): Promise<Browser>;
    /** Closes a browser from {@link launch}. */
    closeBrowser(browser: Browser): Promise<void>;
    /** Calls `listener` once when the browser goes away (crash, or closed). */
    onDisconnected(browser: Browser, listener: () => void): void;
    /**
     * A view of `browser` for one Crawlee browser controller: its page creation goes to `hooks.newPage`, its `close()`
     * to `hooks.release` (once), everything else to the browser itself.
     */
    viewForCrawlee(browser: Browser, hooks: BrowserHooks<Page>): Browser;
    /** A new context of `browser` with the session's proxy, identity, cookies and storage. */
    newContext(browser: Browser, options: SessionContextOptions): Promise<Context>;
    /** A new page in `context`. */
    newPage(context: Context): Promise<Page>;
    /** The `localStorage` of the origins the context has been on. */
    storage(context: Context, origins: readonly string[]): Promise<OriginStorage[]>;
    /** Closes a context from {@link newContext} (and whatever it needed, e.g. a forwarding proxy). */
    closeContext(context: Context): Promise<void>;
    /** Releases what a context needed besides the browser (its browser is closing and takes the context with it). */
    releaseContext(context: Context): Promise<void>;
    /** Contexts open in `browser` (its default context not counted). */
    contextCount(browser: Browser): number;
    /**
     * Gives a page of a session's context what is set per page: in Chromium the user agent override with client hints
     * (and, in Puppeteer, the fingerprint's navigator/screen/WebGL overrides and headers).
     */
    applyPageIdentity(page: Page, fingerprint: BrowserFingerprintWithHeaders, headers: Record<string, string>): Promise<void>;
    /**
     * A tab was kept for its session's next page (see `session-contexts.ts`): frees what its last document left behind
     * in its renderer (a full garbage collection), so a renderer that serves page after page stays as lean as a new
     * one. Not waited for.
     */
    tidyKeptTab?(page: Page): Promise<void>;
    /** Adds cookies to the page's context. */
    addCookies(page: Page, cookies: BrowserCookie[]): Promise<void>;
    /** Every cookie of the page's context. */
    cookies(page: Page): Promise<ReportedCookie[]>;
    /** The rendered page's HTML. */
    content(page: Page): Promise<string>;
    /** The page's current URL. */
    url(page: Page): string;
    /** Closes a page. */
    closePage(page: Page): Promise<void>;
    /** Calls `listener` once when the page closes. */
    onPageClose(page: Page, listener: () => void): void;
    /** Status, headers and URL of a navigation response. */
    responseInfo(response: Response): ResponseInfo | Promise<ResponseInfo>;
}
