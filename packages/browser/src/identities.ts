import type { SessionManager, SessionManagerOptions } from '@sessionpack/core';

/**
 * Sessions opened by a browser adapter get Chromium-family identities unless told otherwise: a Firefox or Safari user
 * agent in Chromium contradicts its own fingerprint. A shared manager keeps the identities it was given.
 */
export function withChromiumIdentities(sessions: SessionManager | SessionManagerOptions): SessionManager | SessionManagerOptions {
    if (typeof (sessions as SessionManager).acquire === 'function') return sessions;
    const options = sessions as SessionManagerOptions;
    if (options.headerGeneratorOptions?.browsers) return options;
    return {
        ...options,
        headerGeneratorOptions: { ...options.headerGeneratorOptions, browsers: ['chrome', 'edge'] },
    };
}
