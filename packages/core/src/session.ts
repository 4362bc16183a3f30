/**
 * ManagedSession: a Crawlee `Session` (cookie jar, userData, counters; `markGood/markBad/retire` keep Crawlee's
 * meaning) that also carries an identity, the key of its pool, a life-cycle state and how many uses are open on it.
 *
 * Its counters are its own fields, read through the getters Crawlee's API reads (`usageCount`, `errorScore`,
 * `expiresAt`, `cookieJar`...): nothing here writes Crawlee's private fields.
 *
 * One owner per attempt: an adapter's attempt gets its own handle on the session ({@link ManagedSession.forAttempt},
 * what `ctx.session` holds). Verdicts called on that handle while the attempt is open merge into the attempt's report;
 * once it ended (Crawlee's own bookkeeping after the handlers) they are ignored. Verdicts called on the session itself
 * behave exactly like Crawlee's `Session`: `markGood()`/`markBad()` count a use and retire the session once it is no
 * longer usable (error score, use limit, age), `retire()` retires it.
 */
import { EventEmitter } from 'node:events';

import { Session, type Log } from '@crawlee/core';

import type { ProxySlot } from './slot.js';
import type { Identity, JsonObject, SessionStateName } from './types.js';
import { SessionLayout } from './session-layout.js';

/** What a session needs from the manager that owns it. */
export interface SessionOwner {
    /** Current time in epoch millis (the manager's clock). */
    now(): number;
    /** Crawlee's `retire()` (or a self-retirement) asks the manager to retire this session. */
    retireSession(session: ManagedSession, reason: string): void;
    /** Its counters changed outside of a report (Crawlee's `markGood()` / `markBad()`): re-index it. */
    countersChanged?(session: ManagedSession): void;
}

/** The part of an open attempt a session's handle writes to (see `attempts.ts`). */
export interface AttemptMarks {
    /** False once the attempt was reported. */
    open: boolean;
    /** `markBad()` calls during the attempt. */
    badMarks: number;
    /** `retire()` was called during the attempt. */
    retireCalled: boolean;
}

/** Everything a {@link ManagedSession} is built from (new or restored). */
export interface ManagedSessionOptions {
    id: string;
    poolKey: string;
    identity: Identity;
    owner: SessionOwner;
    /** The EventEmitter Crawlee's `Session` API exposes as `sessionPool` (the manager's `events`). */
    events: object;
    log: Log;
    maxAgeSecs: number;
    maxUsageCount: number;
    maxErrorScore: number;
    errorScoreDecrement: number;
    createdAt: Date;
    expiresAt?: Date;
    usageCount?: number;
    errorScore?: number;
    userData?: Record<string, unknown>;
    /** A tough-cookie jar, or its JSON (restored sessions). */
    cookieJar?: unknown;
}

const sessionLogs = new WeakMap<Log, Log>();

/** Crawlee gives every session `log.child({ prefix: 'Session' })`; one shared child per parent log is enough. */
function sessionLogOf(log: Log): Log {
    let child = sessionLogs.get(log);
    if (!child) {
        child = log.child({ prefix: 'Session' });
        sessionLogs.set(log, child);
    }
    return child;
}

type CookieJar = Session['cookieJar'];
interface CookieJarClass {
    new (): CookieJar;
    fromJSON(json: string): CookieJar;
}
let cookieJarClass: CookieJarClass | undefined;

/** The tough-cookie `CookieJar` class Crawlee's `Session` uses (the same copy, so Crawlee and got accept our jars). */
function CookieJarOf(): CookieJarClass {
    cookieJarClass ??= new Session({ sessionPool: new EventEmitter() as never }).cookieJar.constructor as unknown as CookieJarClass;
    return cookieJarClass;
}

let emptyJarJson: Record<string, unknown> | undefined;

/** A jar from a jar, its JSON, or just its cookies (`{ cookies }`, what the stored state keeps). */
function jarOf(input: unknown): CookieJar {
    const Jar = CookieJarOf();
    if (!input) return new Jar();
    if (typeof (input as { setCookie?: unknown }).setCookie === 'function') return input as CookieJar;
    const json = input as { version?: unknown; cookies?: unknown[] };
    if (json.version === undefined) {
        if (!json.cookies?.length) return new Jar();
        emptyJarJson ??= new Jar().toJSON() as unknown as Record<string, unknown>;
        return Jar.fromJSON(JSON.stringify({ ...emptyJarJson, cookies: json.cookies }));
    }
    return Jar.fromJSON(JSON.stringify(input));
}

const ATTEMPT = Symbol('sessionpack.attempt');
const REAL = Symbol('sessionpack.session');

/**
 * A Crawlee `Session` managed by a {@link SessionManager}. Get one from `manager.acquire(request)`, hand it back with
 * `manager.report(session, outcome)`.
 */
export class ManagedSession extends Session {
    /** What the site sees: proxy, user agent and headers (and a browser fingerprint once set). */
    declare readonly identity: Identity;
    /** Key of the pool this session belongs to (the site's hostname unless a rule or the request named another). */
    declare readonly poolKey: string;
    /** Why the session was retired; undefined while it is alive. */
    declare retiredReason: string | undefined;
    /** Uses handed out by `acquire` and not yet ended by `report`. */
    declare inUse: number;
    /** Epoch millis before which the session is cooling down (min delay between uses, Retry-After). */
    declare availableAt: number;
    /** Concurrent uses other crawler processes hold (a shared store's leases); 0 without one. */
    declare heldElsewhere: number;
    /** Epoch millis of the last hand-out, if any. */
    declare lastUsedAt: number | undefined;
    /** Whether the session went through its rule's `init` (or needed none). */
    declare initialized: boolean;
    /** Whether an `init` is running right now. */
    declare initializing: boolean;
    /** @internal Order of the last hand-out in its pool (round-robin, use-until-failure). */
    declare handOutSeq: number;
    /** @internal Order in which its pool adopted it (ties of `handOutSeq`). */
    declare ordinal: number;
    /** @internal Its proxy's slot in its pool (set when the pool adopts it). */
    declare proxySlot: ProxySlot<ManagedSession> | undefined;
    /** @internal Position in its slot's ready heap or its pool's cooling heap (-1: in neither). */
    declare queuePos: number;
    /** @internal Position in its pool's expiry heap (-1: not in it). */
    declare expiryPos: number;
    /**
     * @internal `expiresAt` in whole seconds: a small integer stored in the session itself, where the Date is an object
     * of its own (with 100k sessions, reading it on every report is a cache miss). See {@link expiredAt}.
     */
    declare private expirySecs: number;

    declare private owner: SessionOwner;
    declare private uses: number;
    declare private errors: number;
    declare private maxUses: number;
    declare private maxErrors: number;
    declare private errorDecrement: number;
    declare private created: Date;
    declare private expires: Date;
    declare private jar: CookieJar;

    /** Use {@link ManagedSession.create}: Crawlee's constructor validates with `ow` on every call (~250 µs). */
    private constructor(options: ManagedSessionOptions) {
        super({ sessionPool: options.events as never, id: options.id });
    }

    /** Builds a session without running Crawlee's constructor; every field Crawlee's API reads has a getter here. */
    static create(options: ManagedSessionOptions): ManagedSession {
        const s = Reflect.construct(SessionLayout, [], ManagedSession) as ManagedSession;
        const raw = s as unknown as Record<string, unknown>;
        raw.id = options.id;
        raw.userData = options.userData ?? {};
        raw.maxAgeSecs = options.maxAgeSecs;
        raw.sessionPool = options.events;
        raw.log = sessionLogOf(options.log);
        raw.identity = options.identity;
        raw.poolKey = options.poolKey;
        s.owner = options.owner;
        s.uses = options.usageCount ?? 0;
        s.errors = options.errorScore ?? 0;
        s.maxUses = options.maxUsageCount;
        s.maxErrors = options.maxErrorScore;
        s.errorDecrement = options.errorScoreDecrement;
        s.created = options.createdAt;
        s.expires = options.expiresAt ?? new Date(options.createdAt.getTime() + options.maxAgeSecs * 1000);
        s.expirySecs = Math.floor(s.expires.getTime() / 1000);
        s.jar = jarOf(options.cookieJar);
        // The other fields keep a fresh session's values from SessionLayout's constructor.
        return s;
    }

    override get usageCount(): number {
        return this.uses;
    }
    override get errorScore(): number {
        return this.errors;
    }
    override get maxErrorScore(): number {
        return this.maxErrors;
    }
    override get errorScoreDecrement(): number {
        return this.errorDecrement;
    }
    override get maxUsageCount(): number {
        return this.maxUses;
    }
    override get createdAt(): Date {
        return this.created;
    }
    override get expiresAt(): Date {
        return this.expires;
    }
    override get cookieJar(): CookieJar {
        return this.jar;
    }

    /**
     * A handle on this session for one attempt (what adapters put on `ctx.session`): it reads and writes the same
     * session, but its `markGood()` / `markBad()` / `retire()` merge into that attempt while it is open and are
     * ignored once it was reported.
     */
    forAttempt(marks: AttemptMarks): ManagedSession {
        const real = this.real;
        const view = Object.create(real, {
            [ATTEMPT]: { value: marks },
            [REAL]: { value: real },
            userData: {
                get: () => real.userData,
                set: (v: Record<string, unknown>) => {
                    real.userData = v;
                },
                enumerable: true,
            },
        }) as ManagedSession;
        return view;
    }

    /** The session itself (for an attempt's handle: the session it is a handle on). */
    get real(): ManagedSession {
        return ((this as unknown as Record<symbol, ManagedSession>)[REAL] ?? this) as ManagedSession;
    }

    /** @internal The attempt this handle belongs to (undefined on the session itself). */
    get attemptMarks(): AttemptMarks | undefined {
        return (this as unknown as Record<symbol, AttemptMarks | undefined>)[ATTEMPT];
    }

    /**
     * Gives the session its browser fingerprint (browser adapters call this once, on the session's first page); it is
     * persisted with the session and comes back as `identity.fingerprint` after a restore. Later calls are ignored.
     */
    setFingerprint(fingerprint: Readonly<JsonObject>): void {
        const real = this.real;
        if (real.identity.fingerprint !== undefined) return;
        (real as unknown as { identity: Identity }).identity = { ...real.identity, fingerprint };
    }

    /**
     * @internal A shared store merged what other processes did with this session: its counters, cool-down, cookies
     * (a new jar) and userData.
     */
    applyShared(update: { usageCount?: number; errorScore?: number; availableAt?: number; cookies?: unknown[]; userData?: Record<string, unknown> }): void {
        if (update.usageCount !== undefined) this.uses = update.usageCount;
        if (update.errorScore !== undefined) this.errors = update.errorScore;
        if (update.availableAt !== undefined) this.availableAt = Math.max(this.availableAt, update.availableAt);
        if (update.cookies) this.jar = jarOf({ cookies: update.cookies });
        if (update.userData) this.userData = update.userData;
    }

    /** The life-cycle state: new → initializing → ready ⇄ cooling → retired. */
    get state(): SessionStateName {
        if (this.retiredReason !== undefined) return 'retired';
        if (this.initializing) return 'initializing';
        if (!this.initialized) return 'new';
        if (this.availableAt > this.owner.now()) return 'cooling';
        return 'ready';
    }

    /** True once retired (for any reason). */
    get isRetired(): boolean {
        return this.retiredReason !== undefined;
    }

    /** Expiry by the manager's clock (Crawlee's own check reads the wall clock). */
    override isExpired(): boolean {
        return this.expiredAt(this.owner.now());
    }

    /** @internal Whether `expiresAt` is at or before `now` (epoch millis); reads the Date only within its last second. */
    expiredAt(now: number): boolean {
        const secs = this.expirySecs;
        if (now >= (secs + 1) * 1000) return true;
        if (now < secs * 1000) return false;
        return this.expires.getTime() <= now;
    }

    /** Usable in Crawlee's sense (not blocked, expired or used up) and not retired. */
    override isUsable(): boolean {
        return this.retiredReason === undefined && super.isUsable();
    }

    /** Crawlee: "this use went well". During an attempt: merged into its report. Otherwise as in Crawlee. */
    override markGood(): void {
        const marks = this.attemptMarks;
        if (marks) return;
        const real = this.real;
        if (real.isRetired) return;
        real.countUse(-real.errorDecrement);
        real.maybeSelfRetire('markGood()');
    }

    /** Crawlee: "this use went badly" (error score +1). During an attempt: merged into its report. Otherwise as in Crawlee. */
    override markBad(): void {
        const marks = this.attemptMarks;
        if (marks) {
            if (marks.open) marks.badMarks++;
            return;
        }
        const real = this.real;
        if (real.isRetired) return;
        real.countUse(1);
        real.maybeSelfRetire('markBad()');
    }

    /** Crawlee: "this session is blocked". Retires it in its pool (on an attempt's handle: only while it is open). */
    override retire(): void {
        const marks = this.attemptMarks;
        if (marks) {
            if (!marks.open) return;
            marks.retireCalled = true;
        }
        const real = this.real;
        if (real.retiredReason !== undefined) return;
        real.owner.retireSession(real, 'retire() called');
    }

    private maybeSelfRetire(by: string): void {
        if (this.errors >= this.maxErrors) this.owner.retireSession(this, `max error score reached (${by})`);
        else if (this.uses >= this.maxUses) this.owner.retireSession(this, 'max uses reached');
        else if (this.isExpired()) this.owner.retireSession(this, 'max age reached');
        else this.owner.countersChanged?.(this);
    }

    /** @internal Counts one use and moves the error score by `errorDelta` (never below 0). */
    countUse(errorDelta: number): void {
        this.uses += 1;
        this.errors = Math.max(0, this.errors + errorDelta);
    }

    /** @internal Marks the session retired (called by the manager, which also removes it from its pool). */
    markRetired(reason: string): void {
        this.retiredReason = reason;
        this.errors = Math.max(this.errors, this.maxErrors);
    }
}
