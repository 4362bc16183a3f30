export {
    resolveChromiumPath,
    chromiumLaunchArgs,
    mergeFeatureSwitches,
    runsAsRoot,
    SYSTEM_CHROMIUM_PATH,
    type ChromiumArgsOptions,
    type MergedFeatureSwitches,
} from './chromium.js';
export { jarToBrowserCookies, saveBrowserCookies, type BrowserCookie, type ReportedCookie } from './cookies.js';
export type { BrowserDriver, BrowserHooks, OriginStorage, ResponseInfo, SessionContextOptions } from './driver.js';
export {
    SessionFingerprints,
    browserWideHeaders,
    userAgentMetadata,
    type FingerprintedSession,
    type FingerprintIdentity,
    type SessionFingerprintsOptions,
} from './fingerprints.js';
export { BrowserSessions, type BrowserSessionsOptions, type BrowserInitTools, type LauncherFactory } from './browser-sessions.js';
export { SessionContexts, type SessionContextStats } from './session-contexts.js';
export { TabLease, TAB_CHANGING_METHODS, type TabLeaseOptions } from './tab-lease.js';
export { SharedBrowser } from './shared-browser.js';
export { PageRoutes, tokenOf } from './routes.js';
export type { BrowserHookExtras } from './hook-extras.js';
export { FingerprintInjector } from 'fingerprint-injector';
export type { BrowserFingerprintWithHeaders, FingerprintGeneratorOptions } from 'fingerprint-generator';
export { withChromiumIdentities, hostOperatingSystem, type OperatingSystemName } from './identities.js';
export { viewWith } from './view.js';
export { windowViewport, BROWSER_UI_HEIGHT } from './viewport.js';
