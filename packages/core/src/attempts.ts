/**
 * AttemptTracker: binds each attempt of a request to its session and makes sure every attempt is reported exactly
 * once, whatever order the crawler's hooks run in. Adapters call `begin` where Crawlee asks for a proxy, `end` in the
 * post-navigation hook (bad outcome) or around the request handler (ok / handler-error).
 *
 * The attempt is the one owner of its use: `begin` returns the attempt's handle on the session (what `ctx.session`
 * holds). `markGood()` / `markBad()` / `retire()` on the handle while the attempt is open merge into its report;
 * after `end` (Crawlee's own bookkeeping after the handlers) they are ignored.
 */
import type { AcquireOptions } from './init.js';
import type { SessionManager } from './manager.js';
import type { AttemptMarks, ManagedSession } from './session.js';
import type { Outcome, RequestLike } from './types.js';

interface Attempt {
    /** The attempt's handle on the session. */
    handle: ManagedSession;
    marks: AttemptMarks;
}

export class AttemptTracker {
    private readonly attempts = new WeakMap<object, Attempt>();

    constructor(readonly manager: SessionManager) {}

    /**
     * Starts an attempt of `request` and returns its handle on the session. If the previous attempt of the same
     * Request object was never ended (the crawler failed before any hook could report), it is ended first as an
     * abandoned target-error.
     */
    async begin(request: RequestLike, options?: AcquireOptions): Promise<ManagedSession> {
        const previous = this.attempts.get(request);
        if (previous?.marks.open) this.end(request, { type: 'target-error', reason: 'attempt abandoned (never reported)' });
        const session = await this.manager.acquire(request, options);
        const marks: AttemptMarks = { open: true, badMarks: 0, retireCalled: false };
        const handle = session.forAttempt(marks);
        this.attempts.set(request, { handle, marks });
        return handle;
    }

    /** The handle of the latest attempt of `request` (ended or not), or undefined. */
    current(request: RequestLike): ManagedSession | undefined {
        return this.attempts.get(request)?.handle;
    }

    /** Whether the latest attempt of `request` is still open. */
    isOpen(request: RequestLike): boolean {
        return this.attempts.get(request)?.marks.open === true;
    }

    /**
     * Ends the latest attempt of `request` with `outcome` (reports it to the manager, merged with what was called on
     * its handle). Returns false, doing nothing, if there is no open attempt (already ended, or never begun).
     */
    end(request: RequestLike, outcome: Outcome): boolean {
        const a = this.attempts.get(request);
        if (!a?.marks.open) return false;
        this.manager.report(a.handle, outcome, request);
        return true;
    }
}
