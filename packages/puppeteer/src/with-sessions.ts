import type { PuppeteerCrawlerOptions, PuppeteerCrawlingContext, PuppeteerHook } from '@crawlee/puppeteer';
import {
    type BrowserHookExtras,
    BrowserSessions,
    type BrowserSessionsOptions,
    chromiumLaunchArgs,
    resolveChromiumPath,
    withChromiumIdentities,
} from '@sessionpack/browser';
import type { SessionCrawlerOptionsOf, SessionManager, SessionManagerOptions } from '@sessionpack/core';
import puppeteer, { type Browser, type HTTPResponse, type LaunchOptions, type Page, type PuppeteerNode } from 'puppeteer';

import { PuppeteerDriver, sharedLauncher } from './puppeteer-driver.js';

/** Options of the Puppeteer adapter itself (next to the crawler's and the sessions' options). */
export interface PuppeteerSessionsOptions extends BrowserSessionsOptions {}

/** What Puppeteer adds to a rule's hook states: `newPage()` in `init`, the crawled `page` in `check` and `prepare`. */
export interface PuppeteerHookExtras extends BrowserHookExtras<Page, HTTPResponse> {}

/**
 * A PuppeteerCrawler's options as `withSessions()` takes them: without the options sessionpack owns, and with handlers
 * and hooks that see `ctx.session` as a `ManagedSession`.
 */
export type PuppeteerSessionCrawlerOptions = SessionCrawlerOptionsOf<PuppeteerCrawlerOptions, PuppeteerCrawlingContext, Parameters<PuppeteerHook>[1]>;

/**
 * Returns `crawlerOptions` for a PuppeteerCrawler with sessionpack wired in: each attempt acquires a session from its
 * site's pool, its page opens in the session's own context (created on its first page, reused by the later ones, one browser for all sessions) with the session's proxy (credentials go to a local
 * forwarding proxy, never into Chromium's flags), user agent, a fingerprint consistent with them, and its cookies; the
 * response and the rendered page are checked, and bad sessions are retired and the request retried on another session.
 *
 * ```ts
 * const crawler = new PuppeteerCrawler(withSessions({ requestHandler }, { proxyUrls, pool: { size: 8 } }));
 * ```
 *
 * Chromium is `launchContext.launchOptions.executablePath`, else `$CHROMIUM_PATH`, else `/usr/bin/chromium` if it
 * exists, else Puppeteer's own; `--no-sandbox` is added only when running as root. Loopback targets go through the
 * session's proxy too (`<-loopback>` in each context's bypass list).
 *
 * @param crawlerOptions The crawler's options. `proxyConfiguration`, `useSessionPool`, `persistCookiesPerSession`,
 *   `launchContext.userAgent` and `browserPoolOptions.useFingerprints` must be left out: sessionpack owns them.
 * @param sessions A {@link SessionManager} to share with other crawlers, or the options to open one.
 * @param options Browser-specific options (idle contexts, fingerprint generation).
 */
export function withSessions(
    crawlerOptions: PuppeteerSessionCrawlerOptions,
    sessions: SessionManager | SessionManagerOptions<PuppeteerHookExtras>,
    options: PuppeteerSessionsOptions = {},
): PuppeteerCrawlerOptions {
    const userLaunchContext = crawlerOptions.launchContext ?? {};
    const userLaunchOptions = (userLaunchContext.launchOptions ?? {}) as LaunchOptions;
    const executablePath = userLaunchOptions.executablePath ?? resolveChromiumPath();
    const headless = crawlerOptions.headless ?? userLaunchOptions.headless;
    const launcher = (userLaunchContext.launcher ?? puppeteer) as PuppeteerNode;
    const driver = new PuppeteerDriver({ launch: async () => launcher.launch(launchOptions) });
    const browserSessions = new BrowserSessions(withChromiumIdentities(sessions as SessionManager | SessionManagerOptions), driver, options);
    // Read by the driver's launch, which runs after this (its options need the sessions' `keepsTabs`).
    const launchOptions: LaunchOptions = {
        ...userLaunchOptions,
        ...(executablePath ? { executablePath } : {}),
        ...(headless !== undefined ? { headless: headless as never } : {}),
        // No omnibox popup renderer per context; sessions that keep their tabs: no spare renderer, no back/forward cache
        // (see chromiumLaunchArgs()). Puppeteer merges a --disable-features given into its own.
        args: chromiumLaunchArgs(userLaunchOptions.args, { noSandboxAsRoot: true, keptTabs: browserSessions.keepsTabs, noBrowserUi: true }),
    };
    return browserSessions.crawlerOptions(
        { ...crawlerOptions, launchContext: { ...userLaunchContext, launchOptions } },
        'PuppeteerCrawler',
        (launchView: () => Promise<Browser>) => sharedLauncher(launcher, launchView),
    ) as PuppeteerCrawlerOptions;
}
