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

/** A page opened for a session's `init`, in a context of its own; `close()` closes that context. */
export interface InitPage<Page> {
    page: Page;
    close(): Promise<void>;
}

export interface BrowserDriver<Page = unknown, Response = unknown, Browser = unknown> {
    /** Library name, for messages. */
    readonly name: string;
    /**
     * Gives a fresh page (still on about:blank, in its own context) the session's identity: user agent (header and
     * `navigator.userAgent` alike), the fingerprint's navigator/screen/WebGL overrides, and `headers` on every request.
     */
    applyIdentity(page: Page, fingerprint: BrowserFingerprintWithHeaders, headers: Record<string, string>): Promise<void>;
    /** Adds cookies to the page's context. */
    addCookies(page: Page, cookies: BrowserCookie[]): Promise<void>;
    /** Every cookie of the page's context. */
    cookies(page: Page): Promise<ReportedCookie[]>;
    /** The rendered page's HTML. */
    content(page: Page): Promise<string>;
    /** The page's current URL. */
    url(page: Page): string;
    /** Status, headers and URL of a navigation response. */
    responseInfo(response: Response): ResponseInfo | Promise<ResponseInfo>;
    /**
     * Edits the options of a new incognito page (a `prePageCreateHooks` entry sees them): a page without a proxy must
     * not fall back to the browser-wide proxy (the first session's), and loopback targets must go through the proxy too.
     */
    preparePageOptions(pageOptions: Record<string, unknown>): void;
    /** Launches the browser `init` pages run in (one per crawler, closed when idle). */
    launchInitBrowser(): Promise<Browser>;
    /** Opens a page in a new context of `browser` with the session's proxy (credentials never in a URL it logs). */
    newInitPage(browser: Browser, options: { proxyUrl?: string }): Promise<InitPage<Page>>;
    /** Closes a browser from {@link launchInitBrowser}. */
    closeBrowser(browser: Browser): Promise<void>;
}
