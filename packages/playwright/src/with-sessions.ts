import type { PlaywrightCrawlerOptions, PlaywrightCrawlingContext, PlaywrightHook } from '@crawlee/playwright';
import {
    type BrowserHookExtras,
    BrowserSessions,
    type BrowserSessionsOptions,
    chromiumLaunchArgs,
    mergeFeatureSwitches,
    resolveChromiumPath,
    withChromiumIdentities,
} from '@sessionpack/browser';
import type { SessionCrawlerOptionsOf, SessionManager, SessionManagerOptions } from '@sessionpack/core';
import { type Browser, chromium, type LaunchOptions, type Page, type Response } from 'playwright';

import { PlaywrightDriver, sharedLauncher } from './playwright-driver.js';
import { playwrightFeatureSwitches } from './playwright-defaults.js';

/** Options of the Playwright adapter itself (next to the crawler's and the sessions' options). */
export interface PlaywrightSessionsOptions extends BrowserSessionsOptions {}

/** What Playwright adds to a rule's hook states: `newPage()` in `init`, the crawled `page` in `check` and `prepare`. */
export interface PlaywrightHookExtras extends BrowserHookExtras<Page, Response> {}

/**
 * A PlaywrightCrawler's options as `withSessions()` takes them: without the options sessionpack owns, and with handlers
 * and hooks that see `ctx.session` as a `ManagedSession`.
 */
export type PlaywrightSessionCrawlerOptions = SessionCrawlerOptionsOf<PlaywrightCrawlerOptions, PlaywrightCrawlingContext, Parameters<PlaywrightHook>[1]>;

/**
 * Returns `crawlerOptions` for a PlaywrightCrawler with sessionpack wired in: each attempt acquires a session from its
 * site's pool, and its page opens in the session's own context (created on its first page, reused by the later ones)
 * with the session's proxy, user agent, a fingerprint consistent with them, its cookies and storage; the response and
 * the rendered page are checked, and bad sessions are retired (their context closed) and the request retried on
 * another session. All sessions share one browser.
 *
 * ```ts
 * const crawler = new PlaywrightCrawler(withSessions({ requestHandler }, { proxyUrls, pool: { size: 8 } }));
 * ```
 *
 * Chromium is `launchContext.launchOptions.executablePath`, else `$CHROMIUM_PATH`, else `/usr/bin/chromium` if it
 * exists, else Playwright's own. Your `preNavigationHooks` run after ours (the page already has its identity, and
 * `ctx.session` is set), your `postNavigationHooks` after the page was checked.
 *
 * @param crawlerOptions The crawler's options. `proxyConfiguration`, `useSessionPool`, `persistCookiesPerSession`,
 *   `launchContext.userAgent`, `launchContext.browserPerProxy` and `browserPoolOptions.useFingerprints` must be left
 *   out: sessionpack owns them.
 * @param sessions A {@link SessionManager} to share with other crawlers, or the options to open one.
 * @param options Browser-specific options (idle contexts, fingerprint generation).
 */
export function withSessions(
    crawlerOptions: PlaywrightSessionCrawlerOptions,
    sessions: SessionManager | SessionManagerOptions<PlaywrightHookExtras>,
    options: PlaywrightSessionsOptions = {},
): PlaywrightCrawlerOptions {
    const userLaunchContext = crawlerOptions.launchContext ?? {};
    const userLaunchOptions = (userLaunchContext.launchOptions ?? {}) as LaunchOptions;
    const executablePath = userLaunchOptions.executablePath ?? resolveChromiumPath();
    const headless = crawlerOptions.headless ?? userLaunchOptions.headless;
    const launcher = (userLaunchContext.launcher ?? chromium) as typeof chromium;
    const driver = new PlaywrightDriver({ launch: async () => launcher.launch(launchOptions) });
    const browserSessions = new BrowserSessions(withChromiumIdentities(sessions as SessionManager | SessionManagerOptions), driver, options);
    // Read by the driver's launch, which runs after this (its options need the sessions' `keepsTabs`).
    const launchOptions: LaunchOptions = {
        ...userLaunchOptions,
        ...(executablePath ? { executablePath } : {}),
        ...(headless !== undefined ? { headless: Boolean(headless) } : {}),
        ...featureArgs(userLaunchOptions, browserSessions.keepsTabs),
    };
    return browserSessions.crawlerOptions(
        { ...crawlerOptions, launchContext: { ...userLaunchContext, launchOptions } },
        'PlaywrightCrawler',
        (launchView: () => Promise<Browser>) => sharedLauncher(launcher, launchView),
    ) as PlaywrightCrawlerOptions;
}

/**
 * The launch's `args` and `ignoreDefaultArgs`: `chromiumLaunchArgs()` (no omnibox popup renderer per context, and with
 * `keptTabs` when sessions keep their tabs: no spare renderer), each feature switch merged into Playwright's own
 * (Chromium takes the last `--disable-features` only, and Playwright puts its list before the user's flags),
 * Playwright's replaced switches ignored. When Playwright's switches cannot be read, no `--disable-features` of ours is
 * added (a user's own goes through, replacing Playwright's as before).
 */
function featureArgs(user: LaunchOptions, keptTabs: boolean): Pick<LaunchOptions, 'args' | 'ignoreDefaultArgs'> {
    // Playwright adds no default of its own: the user's flags are the whole command line.
    if (user.ignoreDefaultArgs === true) return { args: chromiumLaunchArgs(user.args, { keptTabs, noBrowserUi: true }) };
    const defaults = playwrightFeatureSwitches();
    const { args, replaced } = mergeFeatureSwitches(defaults ?? [], chromiumLaunchArgs(user.args, { keptTabs: keptTabs && defaults !== undefined, noBrowserUi: defaults !== undefined }));
    const ignored = [...(Array.isArray(user.ignoreDefaultArgs) ? user.ignoreDefaultArgs : []), ...replaced];
    return { args, ...(ignored.length ? { ignoreDefaultArgs: ignored } : {}) };
}
