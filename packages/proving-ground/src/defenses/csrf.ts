import { timingSafeEqual } from 'node:crypto';
import type { SiteSession } from './sessions.js';

/** Header the API expects the CSRF token in. */
export const CSRF_HEADER = 'x-csrf-token';
/** Form field `POST /location` expects the CSRF token in. */
export const CSRF_FIELD = '_csrf';

/** Is `token` the CSRF token of `session`? (False without a session or token.) */
export function csrfValid(session: SiteSession | undefined, token: string | undefined): boolean {
    if (!session || !token) return false;
    const a = Buffer.from(token);
    const b = Buffer.from(session.csrfToken);
    return a.length === b.length && timingSafeEqual(a, b);
}
