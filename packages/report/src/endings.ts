/**
 * Why a session ended, as a short category: core retires sessions with reasons like `blocked: 403 status code`,
 * `init failed: no CSRF token`, `max error score reached (timeout)`; the report groups them by what comes before the
 * first colon or parenthesis (`blocked`, `init failed`, `max error score reached`).
 */
export function endingCategory(reason: string): string {
    const cut = reason.search(/[:(]/);
    const head = (cut === -1 ? reason : reason.slice(0, cut)).trim();
    return head.length > 0 ? head.slice(0, 60) : 'unknown';
}
