/**
 * Every error class of sessionpack. Each says what was wrong and what to do, carries `cause` where it wraps another
 * error, and has a type guard. The ones with `stopsCrawl = true` mean "this crawl cannot continue": adapters turn
 * them into a stopped crawl with the error's message as the reason.
 */
import { NonRetryableError, SessionError } from '@crawlee/core';

import type { ManagedSession } from './session.js';
import type { Outcome } from './types.js';

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
        readonly details: { total: number; backoff: number; banned: number; nextRetryAt?: number; stalled?: boolean },
    ) {
        super(
            `No usable proxy for pool "${pool}": ${details.total} configured, ${details.backoff} in backoff, ${details.banned} banned for this site` +
                (details.stalled ? ', every one failed again on its probe after a backoff (refused connections, a dead proxy farm?)' : '') +
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
        options?: { cause?: unknown },
    ) {
        super(
            `Session init failed ${failures} times in a row in pool "${pool}" (last: ${lastError}). ` +
                'Fix the rule\'s init hook or the site/proxy it depends on; raise pool.maxInitFailuresInRow to tolerate more.',
            options,
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

/**
 * Blocks stayed site-wide (every proxy blocked on the pool's site, no success in between) for longer than the
 * learner's `siteWide.stopAfterMillis`: the site is down or blocks everyone, or the rule's check rejects good pages.
 * No proxy was blamed for it.
 */
export class SiteUnavailableError extends SessionpackError {
    override readonly stopsCrawl = true;

    constructor(
        readonly pool: string,
        readonly reason: string,
    ) {
        super(`${reason} (pool "${pool}"). No proxy was charged for it; check the site and the rule's check, then run again.`);
    }
}

/** The manager was closed; no more sessions are handed out. */
export class ManagerClosedError extends SessionpackError {
    constructor() {
        super('The SessionManager is closed: open a new one with SessionManager.open().');
    }
}

/**
 * The crawl can no longer get sessions (every proxy burnt, init failing over and over, a check aborted). Its stack is
 * its message alone: Crawlee prints the stack of every failed request, and each remaining request fails with this one.
 */
export class SessionsUnavailableError extends NonRetryableError {
    constructor(
        readonly reason: string,
        options?: { cause?: unknown },
    ) {
        super(`sessionpack stopped the crawl: ${reason}`);
        this.name = 'SessionsUnavailableError';
        this.stack = `${this.name}: ${this.message}`;
        if (options?.cause !== undefined) (this as { cause?: unknown }).cause = options.cause;
    }
}

/** What happens to a session after a bad outcome, in the words of the retry log line. */
function consequence(outcome: Outcome, session: ManagedSession): string {
    if (outcome.type === 'rate-limited') {
        const secs = outcome.retryAfterMillis !== undefined ? ` for ${Math.ceil(outcome.retryAfterMillis / 1000)} s` : '';
        return `session ${session.id} (pool ${session.poolKey}) is kept, cooling down${secs} (not retired)`;
    }
    return `session ${session.id} (pool ${session.poolKey}) is retired (a retry gets another session)`;
}

/** Why an outcome is bad, without credentials; a 407 says the proxy refused its credentials. */
function describe(outcome: Outcome, session: ManagedSession): string {
    const proxy = session.identity.proxy;
    if (outcome.type === 'proxy-failure' && outcome.statusCode === 407 && proxy) {
        return `proxy ${proxy.hostPort} (${proxy.id}) rejected its credentials (407 Proxy Authentication Required): check the user name and password in proxyUrls`;
    }
    return outcome.reason ?? 'no reason given';
}

/**
 * Thrown to Crawlee when a response showed the session is bad (blocked, rate-limited, proxy failure, a failed check):
 * Crawlee retries the request, at most `maxSessionRotations` times. The message says what happens to the session.
 */
export class BadSessionError extends SessionError {
    constructor(
        readonly outcome: Outcome,
        session: ManagedSession,
    ) {
        super();
        this.name = 'BadSessionError';
        this.message = `${outcome.type}: ${describe(outcome, session)}; ${consequence(outcome, session)}.`;
    }
}

/**
 * Thrown to Crawlee for a target's own error (a 5xx page): not a session error, so Crawlee retries it within
 * `maxRequestRetries` like any other error, and the next attempt gets a session from the pool as usual.
 */
export class TargetError extends Error {
    constructor(readonly outcome: Outcome) {
        super(`${outcome.type}: ${outcome.reason ?? 'no reason given'}`);
        this.name = 'TargetError';
    }
}

/** True for errors that mean "stop the crawl with this reason" (`stopsCrawl = true`). */
export function isCrawlStoppingError(error: unknown): error is SessionpackError {
    return error instanceof SessionpackError && error.stopsCrawl;
}

/** True for any error thrown by the session engine. */
export const isSessionpackError = (error: unknown): error is SessionpackError => error instanceof SessionpackError;
export const isAcquireTimeoutError = (error: unknown): error is AcquireTimeoutError => error instanceof AcquireTimeoutError;
export const isNoUsableProxyError = (error: unknown): error is NoUsableProxyError => error instanceof NoUsableProxyError;
export const isInitFailedError = (error: unknown): error is InitFailedError => error instanceof InitFailedError;
export const isCrawlAbortError = (error: unknown): error is CrawlAbortError => error instanceof CrawlAbortError;
export const isSiteUnavailableError = (error: unknown): error is SiteUnavailableError => error instanceof SiteUnavailableError;
export const isManagerClosedError = (error: unknown): error is ManagerClosedError => error instanceof ManagerClosedError;
export const isSessionsUnavailableError = (error: unknown): error is SessionsUnavailableError => error instanceof SessionsUnavailableError;
export const isBadSessionError = (error: unknown): error is BadSessionError => error instanceof BadSessionError;
export const isTargetError = (error: unknown): error is TargetError => error instanceof TargetError;
