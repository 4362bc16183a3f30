import type { SessionManager, SessionManagerOptions } from '@sessionpack/core';

/** An operating system as header-generator and fingerprint-generator name it. */
export type OperatingSystemName = 'windows' | 'macos' | 'linux';

/**
 * The operating system Chromium really runs on, as Crawlee's browser pool picks it for its own fingerprints
 * (`getGeneratorDefaultOptions()` in @crawlee/browser-pool: `win32` is Windows, `darwin` macOS, anything else Linux).
 */
export function hostOperatingSystem(platform: NodeJS.Platform = process.platform): OperatingSystemName {
    if (platform === 'win32') return 'windows';
    if (platform === 'darwin') return 'macos';
    return 'linux';
}

/**
 * Sessions opened by a browser adapter get the identities a stock Crawlee browser crawler gives its fingerprints
 * unless told otherwise: desktop Chrome on the operating system Chromium runs on, `en-US` (Crawlee's default
 * fingerprint-generator options). A Firefox or Safari user agent in Chromium contradicts its own fingerprint, and a
 * Windows or macOS one its fonts and WebGL. Each option the user gave in `headerGeneratorOptions` is kept (the operating
 * system is only added when neither `operatingSystems` nor `devices` was given); a shared manager keeps the
 * identities it was given.
 */
export function withChromiumIdentities(sessions: SessionManager | SessionManagerOptions): SessionManager | SessionManagerOptions {
    if (typeof (sessions as SessionManager).acquire === 'function') return sessions;
    const options = sessions as SessionManagerOptions;
    const given = options.headerGeneratorOptions ?? {};
    return {
        ...options,
        headerGeneratorOptions: {
            devices: ['desktop'],
            locales: ['en-US'],
            ...given,
            browsers: given.browsers ?? ['chrome'],
            ...(given.operatingSystems || given.devices ? {} : { operatingSystems: [hostOperatingSystem()] }),
        },
    };
}
