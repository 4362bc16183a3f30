/**
 * AttemptTracker: binds each attempt of a request to its session and makes sure every attempt is reported exactly
 * once, whatever order the crawler's hooks run in. Adapters call `begin` where Crawlee asks for a proxy, `end` in the
 * post-navigation hook (bad outcome) or around the request handler (ok / handler-error).
 */
import type { SessionManager } from './manager.js';
import type { ManagedSession } from './session.js';
import type { AcquireOptions } from './manager.js';
import type { Outcome, RequestLike } from './types.js';

interface Attempt {
    session: ManagedSession;
    ended: boolean;
}

export class AttemptTracker {
    private readonly attempts = new WeakMap<object, Attempt>();

    constructor(readonly manager: SessionManager) {}

    /**
     * Starts an attempt of `request` and returns its session. If the previous attempt of the same Request object was
     * never ended (the crawler failed before any hook could report), it is ended first as an abandoned target-error.
     */
    async begin(request: RequestLike, options?: AcquireOptions): Promise<ManagedSession> {
        const previous = this.attempts.get(request);
        if (previous && !previous.ended) {
            this.end(request, { type: 'target-error', reason: 'attempt abandoned (never reported)' });
        }
        const session = await this.manager.acquire(request, options);
        this.attempts.set(request, { session, ended: false });
        return session;
    }

    /** The session of the latest attempt of `request` (ended or not), or undefined. */
    current(request: RequestLike): ManagedSession | undefined {
        return this.attempts.get(request)?.session;
    }

    /** Whether the latest attempt of `request` is still open. */
    isOpen(request: RequestLike): boolean {
        const a = this.attempts.get(request);
        return Boolean(a && !a.ended);
    }

    /**
     * Ends the latest attempt of `request` with `outcome` (reports it to the manager). Returns false, doing nothing,
     * if there is no open attempt (already ended, or never begun).
     */
    end(request: RequestLike, outcome: Outcome): boolean {
        const a = this.attempts.get(request);
        if (!a || a.ended) return false;
        a.ended = true;
        this.manager.report(a.session, outcome, request);
        // Crawlee will now call markGood()/markBad()/retire() on ctx.session for this same use: absorb that echo.
        a.session.expectEcho();
        return true;
    }
}
