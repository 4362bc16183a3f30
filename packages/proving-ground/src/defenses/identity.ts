import type { SiteSession } from './sessions.js';

/**
 * Identity consistency. A session is one browser: its header user agent must not change between
 * requests, and the `navigator.userAgent` its pages report through the beacon must match it.
 * Each inconsistency is one mismatch; the session stays flagged afterwards.
 */

/** Records the header user agent of a request of `session`; true when it differs from the previous one. */
export function observeHeaderUserAgent(session: SiteSession, userAgent: string): boolean {
    const previous = session.headerUserAgent;
    session.headerUserAgent = userAgent;
    if (previous !== undefined && previous !== userAgent) {
        session.flagged = true;
        return true;
    }
    return false;
}

/**
 * Records a beacon report; true when `navigator.userAgent` differs from the session's header user
 * agent (or, for a session not seen before, from the beacon request's own header).
 */
export function observeBeacon(session: SiteSession | undefined, reportedUserAgent: string, headerUserAgent: string): boolean {
    const expected = session?.headerUserAgent ?? headerUserAgent;
    if (reportedUserAgent === expected) return false;
    if (session) session.flagged = true;
    return true;
}
