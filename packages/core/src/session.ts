/**
 * ManagedSession: a Crawlee `Session` (cookie jar, userData, counters; `markGood/markBad/retire` keep Crawlee's
 * meaning) that also carries an identity, the key of its pool, a life-cycle state and how many uses are open on it.
 * Its Crawlee verdict methods reach the manager, so a `ctx.session.retire()` in a handler retires it in the pool too.
 */
import { EventEmitter as EventEmitterClass, type EventEmitter } from 'node:events';

import { Session, type Log } from '@crawlee/core';

import type { ProxySlot } from './pool.js';
import type { Identity, JsonObject, SessionStateName } from './types.js';

/** What a session needs from the manager that owns it. */
export interface SessionOwner {
    /** Current time in epoch millis (the manager's clock). */
    now(): number;
    /** Crawlee's `retire()` (or a self-retirement) asks the manager to retire this session. */
    retireSession(session: ManagedSession, reason: string): void;
    /** Crawlee's `markGood()` / `markBad()` was called outside of a reported use. */
    onVerdict(session: ManagedSession, verdict: 'good' | 'bad'): void;
}

/** Everything a {@link ManagedSession} is built from (new or restored). */
export interface ManagedSessionOptions {
    id: string;
    poolKey: string;
    identity: Identity;
    owner: SessionOwner;
    /** The EventEmitter Crawlee's `Session` emits `sessionRetired` on (the manager's `events`). */
    events: EventEmitter;
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

function expiresAtOf(options: ManagedSessionOptions): Date {
    return options.expiresAt ?? new Date(options.createdAt.getTime() + options.maxAgeSecs * 1000);
}

/** The own fields Crawlee 3.18's `Session` constructor defines; {@link ManagedSession.create} sets exactly these. */
const KNOWN_SESSION_FIELDS = [
    '_cookieJar',
    '_createdAt',
    '_errorScore',
    '_errorScoreDecrement',
    '_expiresAt',
    '_maxErrorScore',
    '_maxUsageCount',
    '_usageCount',
    'id',
    'log',
    'maxAgeSecs',
    'sessionPool',
    'userData',
].join(',');

interface CookieJarClass {
    new (): { setCookie: unknown };
    fromJSON(json: string): { setCookie: unknown };
}

let shapeCache: { CookieJar: CookieJarClass } | null | undefined;

/** Checks once that Crawlee's Session has the fields we know (else the fast path is off) and finds its CookieJar class. */
function fastShape(): { CookieJar: CookieJarClass } | null {
    if (shapeCache !== undefined) return shapeCache;
    const probe = new Session({ sessionPool: new EventEmitterClass() as never });
    const fields = Object.keys(probe).sort().join(',');
    const CookieJar = probe.cookieJar.constructor as unknown as CookieJarClass;
    shapeCache = fields === KNOWN_SESSION_FIELDS && typeof CookieJar.fromJSON === 'function' ? { CookieJar } : null;
    return shapeCache;
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

/** How long after a reported use the matching Crawlee call (`markGood`/`markBad`/`retire`) is still expected. */
const ECHO_WINDOW_MILLIS = 10 * 60_000;

/**
 * A Crawlee `Session` managed by a {@link SessionManager}. Get one from `manager.acquire(request)`, hand it back with
 * `manager.report(session, outcome)`.
 *
 * Crawlee calls `markGood()` / `markBad()` / `retire()` on `ctx.session` after the adapter has already reported the
 * same use; those calls (the "echo" of an {@link AttemptTracker}-ended attempt) are absorbed so a use counts once and a
 * rate-limited session is not retired by Crawlee's session rotation. Any other call is a real verdict: `retire()`
 * retires the session in its pool, `markBad()`/`markGood()` move its error score and usage count as in Crawlee.
 */
export class ManagedSession extends Session {
    /** What the site sees: proxy, user agent and headers. Fixed for the session's life. */
    declare readonly identity: Identity;
    /** Key of the pool this session belongs to (the site's hostname unless a rule or the request named another). */
    declare readonly poolKey: string;
    /** Why the session was retired; undefined while it is alive. */
    declare retiredReason: string | undefined;
    /** Uses handed out by `acquire` and not yet ended by `report`. */
    declare inUse: number;
    /** Epoch millis before which the session is cooling down (min delay between uses, Retry-After). */
    declare availableAt: number;
    /** Epoch millis of the last hand-out, if any. */
    declare lastUsedAt: number | undefined;
    /** Whether the session went through its rule's `init` (or needed none). */
    declare initialized: boolean;
    /** Whether an `init` is running right now. */
    declare initializing: boolean;
    /** @internal Order of the last hand-out in its pool (round-robin, use-until-failure). */
    declare handOutSeq: number;
    /**
     * @internal Real `markBad()` calls since the last report. Crawlee calls `markBad()` itself on navigation timeouts;
     * the adapter then reports the same use as a target-error, which must not count twice.
     */
    declare pendingBadMarks: number;
    /** @internal Its proxy's per-pass state in its pool (set when the pool adopts it). */
    declare proxySlot: ProxySlot | undefined;

    declare private readonly owner: SessionOwner;
    declare private echoes: number;
    declare private echoesAt: number;

    constructor(options: ManagedSessionOptions) {
        super({
            sessionPool: options.events as never,
            id: options.id,
            maxAgeSecs: options.maxAgeSecs,
            maxUsageCount: options.maxUsageCount,
            maxErrorScore: options.maxErrorScore,
            errorScoreDecrement: options.errorScoreDecrement,
            createdAt: options.createdAt,
            expiresAt: expiresAtOf(options),
            usageCount: options.usageCount ?? 0,
            errorScore: options.errorScore ?? 0,
            userData: options.userData ?? {},
            log: options.log,
            ...(options.cookieJar ? { cookieJar: options.cookieJar as never } : {}),
        });
        this.initManaged(options);
    }

    /**
     * Builds a session like `new ManagedSession(options)`, minus the cost of Crawlee's constructor (it builds an `ow`
     * validator on every call: ~250 µs, which dominates at 100k sessions). The fields are set exactly as Crawlee's
     * constructor sets them; if the installed Crawlee's `Session` has other fields than the ones known here, this
     * falls back to the real constructor.
     */
    static create(options: ManagedSessionOptions): ManagedSession {
        const shape = fastShape();
        if (!shape) return new ManagedSession(options);
        const s = Object.create(ManagedSession.prototype) as ManagedSession;
        const raw = s as unknown as Record<string, unknown>;
        let jar = options.cookieJar as { setCookie?: unknown } | undefined;
        if (!jar) jar = new shape.CookieJar();
        else if (typeof jar.setCookie !== 'function') jar = shape.CookieJar.fromJSON(JSON.stringify(jar));
        raw.id = options.id;
        raw.maxAgeSecs = options.maxAgeSecs;
        raw.userData = options.userData ?? {};
        raw._maxErrorScore = options.maxErrorScore;
        raw._errorScoreDecrement = options.errorScoreDecrement;
        raw._expiresAt = expiresAtOf(options);
        raw._createdAt = options.createdAt;
        raw._usageCount = options.usageCount ?? 0;
        raw._errorScore = options.errorScore ?? 0;
        raw._maxUsageCount = options.maxUsageCount;
        raw.sessionPool = options.events;
        raw._cookieJar = jar;
        raw.log = sessionLogOf(options.log);
        s.initManaged(options);
        return s;
    }

    private initManaged(options: ManagedSessionOptions): void {
        const self = this as unknown as Record<string, unknown>;
        self.identity = options.identity;
        self.poolKey = options.poolKey;
        self.owner = options.owner;
        this.retiredReason = undefined;
        this.inUse = 0;
        this.availableAt = 0;
        this.lastUsedAt = undefined;
        this.initialized = false;
        this.initializing = false;
        this.handOutSeq = 0;
        this.pendingBadMarks = 0;
        this.proxySlot = undefined;
        this.echoes = 0;
        this.echoesAt = 0;
    }

    /**
     * Gives the session its browser fingerprint (browser adapters call this once, on the session's first page); it is
     * persisted with the session and comes back as `identity.fingerprint` after a restore. Later calls are ignored.
     */
    setFingerprint(fingerprint: Readonly<JsonObject>): void {
        if (this.identity.fingerprint !== undefined) return;
        (this as unknown as { identity: Identity }).identity = { ...this.identity, fingerprint };
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
        return this.expiresAt.getTime() <= this.owner.now();
    }

    /** Usable in Crawlee's sense (not blocked, expired or used up) and not retired. */
    override isUsable(): boolean {
        return this.retiredReason === undefined && super.isUsable();
    }

    /** Crawlee: "this use went well". Reaches the manager unless it is the echo of a reported use. */
    override markGood(): void {
        if (this.consumeEcho(true)) return;
        this.owner.onVerdict(this, 'good');
    }

    /** Crawlee: "this use went badly" (error score +1). Reaches the manager unless it is the echo of a reported use. */
    override markBad(): void {
        if (this.consumeEcho(true)) return;
        this.owner.onVerdict(this, 'bad');
    }

    /** Crawlee: "this session is blocked". Retires it in its pool, unless it is the echo of a reported use. */
    override retire(): void {
        // Crawlee's session rotation calls retire() and then markBad(): only the latter consumes the echo.
        if (this.consumeEcho(false)) return;
        if (this.retiredReason !== undefined) return;
        this.owner.retireSession(this, 'retire() called');
    }

    /** @internal The last use was reported through an attempt tracker: expect Crawlee to echo it once. */
    expectEcho(): void {
        this.echoes++;
        this.echoesAt = this.owner.now();
    }

    private consumeEcho(consume: boolean): boolean {
        if (this.echoes === 0) return false;
        if (this.owner.now() - this.echoesAt > ECHO_WINDOW_MILLIS) {
            this.echoes = 0;
            return false;
        }
        if (consume) this.echoes--;
        return true;
    }

    /** @internal Counts one use (Crawlee's usage count) and moves the error score by `errorDelta` (never below 0). */
    applyUse(errorDelta: number): void {
        const self = this as unknown as { _usageCount: number; _errorScore: number };
        self._usageCount += 1;
        self._errorScore = Math.max(0, self._errorScore + errorDelta);
    }

    /** @internal Marks the session retired (called by the manager, which also removes it from its pool). */
    markRetired(reason: string): void {
        this.retiredReason = reason;
        const self = this as unknown as { _errorScore: number };
        self._errorScore = Math.max(self._errorScore, this.maxErrorScore);
    }
}
