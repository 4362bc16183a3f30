export { resolveChromiumPath, chromiumLaunchArgs, runsAsRoot, SYSTEM_CHROMIUM_PATH, type ChromiumArgsOptions } from './chromium.js';
export { jarToBrowserCookies, saveBrowserCookies, type BrowserCookie, type ReportedCookie } from './cookies.js';
export type { BrowserDriver, InitPage, ResponseInfo } from './driver.js';
export {
    SessionFingerprints,
    browserWideHeaders,
    userAgentMetadata,
    type FingerprintIdentity,
    type SessionFingerprintsOptions,
} from './fingerprints.js';
export { InitBrowser } from './init-browser.js';
export { BrowserSessions, type BrowserSessionsOptions, type BrowserInitTools } from './browser-sessions.js';
export type { BrowserHookExtras } from './hook-extras.js';
export { FingerprintInjector } from 'fingerprint-injector';
export type { BrowserFingerprintWithHeaders, FingerprintGeneratorOptions } from 'fingerprint-generator';
export { withChromiumIdentities } from './identities.js';
