/**
 * Errors of the session engine. Each says what was wrong and what to do. The ones with `stopsCrawl = true`
 * mean "this crawl cannot continue": adapters turn them into a stopped crawl with the error's message as the reason.
 */

/** Base class of every error thrown by sessionpack. */
export class SessionpackError extends Error {
    /** True when the crawl should stop (adapters stop the crawler with this error's message as the reason). */
    readonly stopsCrawl: boolean = false;

    constructor(message: string, options?: { cause?: unknown }) {
        super(message, options);
        this.name = new.target.name;
    }
}

/** Why an acquire could not get a session in time. */
export type AcquireWaitReason = 'busy' | 'cooling' | 'proxies' | 'initializing' | 'mixed';

/** `acquire()` waited `acquireTimeoutSecs` and no session of the pool became usable. Retrying later may work. */
export class AcquireTimeoutError extends SessionpackError {
    constructor(
        readonly pool: string,
        readonly reason: string,
        readonly waitedMillis: number,
    ) {
        super(
            `Timed out after ${Math.round(waitedMillis)} ms waiting for a session of pool "${pool}": ${reason}. ` +
                'Raise pool.size, pool.maxConcurrentUses or pool.acquireTimeoutSecs, or lower the crawler concurrency.',
        );
    }
}

/** Every proxy is in backoff or banned for this pool: the crawl cannot go on with the configured proxies. */
export class NoUsableProxyError extends SessionpackError {
    override readonly stopsCrawl = true;

    constructor(
        readonly pool: string,
        readonly details: { total: number; backoff: number; banned: number; nextRetryAt?: number },
    ) {
        super(
            `No usable proxy for pool "${pool}": ${details.total} configured, ${details.backoff} in backoff, ${details.banned} banned for this site` +
                (details.nextRetryAt !== undefined ? `, the first backoff ends at ${new Date(details.nextRetryAt).toISOString()}` : '') +
                '. Add proxies, or raise proxyBackoff / pool.acquireTimeoutSecs to wait longer.',
        );
    }
}

/** `maxInitFailuresInRow` new sessions of one pool failed their `init` in a row: the init flow is probably broken. */
export class InitFailedError extends SessionpackError {
    override readonly stopsCrawl = true;

    constructor(
        readonly pool: string,
        readonly failures: number,
        readonly lastError: string,
    ) {
        super(
            `Session init failed ${failures} times in a row in pool "${pool}" (last: ${lastError}). ` +
                'Fix the rule\'s init hook or the site/proxy it depends on; raise pool.maxInitFailuresInRow to tolerate more.',
        );
    }
}

/** A rule's `check` asked to stop the crawl (e.g. "logged out and cannot log in again"). */
export class CrawlAbortError extends SessionpackError {
    override readonly stopsCrawl = true;

    constructor(
        readonly reason: string,
        readonly context: { pool?: string; sessionId?: string; url?: string } = {},
    ) {
        super(
            `Crawl aborted by a check: ${reason}` +
                (context.pool ? ` (pool "${context.pool}"` + (context.sessionId ? `, session ${context.sessionId}` : '') + ')' : ''),
        );
    }
}

/** The manager was closed; no more sessions are handed out. */
export class ManagerClosedError extends SessionpackError {
    constructor() {
        super('The SessionManager is closed: open a new one with SessionManager.open().');
    }
}

/** True for errors that mean "stop the crawl with this reason" (`stopsCrawl = true`). */
export function isCrawlStoppingError(error: unknown): error is SessionpackError {
    return error instanceof SessionpackError && error.stopsCrawl;
}
