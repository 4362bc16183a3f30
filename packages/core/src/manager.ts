/**
 * SessionManager: all pools, proxy health, rules, store and stats. Core verbs: `acquire(request)` and
 * `report(session, outcome)`; adapters add `evaluate` (classify + checks) and `prepare` (prepare hooks).
 */
import { EventEmitter } from 'node:events';

import { Configuration, log as crawleeLog, type Log } from '@crawlee/core';

import { classify } from './classifier.js';
import { systemClock, type Clock, type TimerHandle } from './clock.js';
import {
    AcquireTimeoutError,
    CrawlAbortError,
    InitFailedError,
    ManagerClosedError,
    NoUsableProxyError,
    isCrawlStoppingError,
} from './errors.js';
import { IdentityFactory } from './identity.js';
import { resolveBackoff, resolvePoolOptions, validateOptions, type SessionManagerOptions } from './options.js';
import type { PolicyContext, ProxyCandidate } from './policies.js';
import { Pool, RETIRED_HISTORY, type ProxySlot } from './pool.js';
import { DIRECT_PROXY_ID, ProxyHealth, ProxySource, type OutcomeEffect } from './proxies.js';
import { Redactor } from './redact.js';
import { poolKeyOf, RuleSet, type CheckState, type CompiledRule, type HookExtras, type PrepareState, type Rule } from './rules.js';
import { createSendRequest } from './send-request.js';
import { ManagedSession, type ManagedSessionOptions, type SessionOwner } from './session.js';
import {
    addCounters,
    addSessionCounts,
    emptyCounters,
    emptySessionCounts,
    StatsCounters,
    summaryLine,
    type CounterName,
    type ManagerStats,
} from './stats.js';
import {
    KeyValueSessionStore,
    parseState,
    STATE_FORMAT,
    STATE_VERSION,
    type PersistedPool,
    type PersistedSession,
    type PersistedState,
    type SessionStore,
} from './store.js';
import type { JsonObject, Outcome, OutcomeType, ProxyRef, RequestLike, ResponseSnapshot, SendRequest } from './types.js';

const isRecord = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Crawlee's `EventType.PERSIST_STATE` (a const enum, so not importable under `verbatimModuleSyntax`). */
const PERSIST_STATE_EVENT = 'persistState' as never;

/** Options of one `acquire()`. */
export interface AcquireOptions {
    /**
     * Extra properties for the state of the rule's `init` hooks when this acquire creates a session (e.g. a way to
     * drive a browser page). A `sendRequest` here replaces the default one ({@link createSendRequest}).
     */
    initTools?: Record<string, unknown> | ((session: ManagedSession, helpers: InitToolHelpers) => Record<string, unknown>);
}

/** What an `initTools` function gets besides the session, for tools that see responses outside `sendRequest`. */
export interface InitToolHelpers {
    /**
     * Classifies a response an init tool saw (e.g. a browser page's navigation) with the manager's classifier. A block,
     * rate limit or proxy failure fails the init as the proxy's fault, exactly like one seen through `sendRequest`.
     */
    classify(response: ResponseSnapshot): Outcome;
}

/** Input of `manager.evaluate()`: the session, the request and what the crawler saw, plus adapter extras (page...). */
export interface EvaluateInput {
    session: ManagedSession;
    request: RequestLike;
    response: ResponseSnapshot;
    /** `false`: classify only, without the rule's `check` hooks (status and headers seen before the body). @default true */
    checks?: boolean;
    [extra: string]: unknown;
}

/** Input of `manager.prepare()`: `headers` is the outgoing header object, edited in place by prepare hooks. */
export interface PrepareInput {
    session: ManagedSession;
    request: RequestLike;
    headers: Record<string, string>;
    [extra: string]: unknown;
}

/**
 * The EventEmitter every managed session reports to as its Crawlee `sessionPool`: Crawlee's `Session` requires one and
 * emits `sessionRetired` on it (browser-pool listens to retire the session's browser). Emitted for every retirement.
 */
export class SessionEvents extends EventEmitter {
    /** Read by Crawlee's `Session.retireOnBlockedStatusCodes()`. */
    readonly blockedStatusCodes: number[] = [401, 403, 429];
}

type Decision =
    | { kind: 'session'; session: ManagedSession }
    | { kind: 'create'; proxyId: string | undefined; evict?: ManagedSession }
    | { kind: 'wait'; wakeAt: number; reason: string; proxiesExhausted: boolean; allBanned: boolean };

const OUTCOME_TYPES: readonly OutcomeType[] = [
    'ok',
    'blocked',
    'rate-limited',
    'proxy-failure',
    'target-error',
    'handler-error',
    'check-failed',
];

/**
 * All session pools of a crawl (or of several crawlers sharing it).
 *
 * ```ts
 * const manager = await SessionManager.open({ proxyUrls, pool: { size: 10 }, rules: [{ match: 'https://shop.example/**', init }] });
 * const session = await manager.acquire(request);
 * // ... use session.identity.proxy?.url, session.identity.headers, session.cookieJar ...
 * manager.report(session, await manager.evaluate({ session, request, response: { statusCode: 200, body } }));
 * await manager.close();
 * ```
 */
export class SessionManager {
    /** Crawlee's `sessionPool` stand-in for every session; emits `sessionRetired`. */
    readonly events = new SessionEvents();
    readonly log: Log;
    readonly clock: Clock;
    /** Proxy health per proxy and site. */
    readonly health: ProxyHealth;
    /** Scrubs proxy credentials from any text. */
    readonly redactor = new Redactor();

    private readonly options: SessionManagerOptions;
    private readonly random: () => number;
    private readonly proxies: ProxySource;
    private readonly identities: IdentityFactory;
    private readonly rules: RuleSet;
    private readonly counters = new StatsCounters();
    private readonly store: SessionStore | undefined;
    private readonly poolMap = new Map<string, Pool>();
    private readonly liveSessions = new Map<string, ManagedSession>();
    private readonly owner: SessionOwner;
    private readonly config: Configuration;
    private readonly persistListener = () => {
        this.persist().catch((e) => this.log.warning(`Could not persist the session state: ${this.redactor.error(e)}`));
    };
    private statsTimer: TimerHandle | undefined;
    private passCounter = 0;
    private closed = false;
    private listening = false;

    private constructor(options: SessionManagerOptions) {
        validateOptions(options);
        this.options = options;
        this.clock = options.clock ?? systemClock;
        this.random = options.random ?? Math.random;
        this.log = (options.log ?? crawleeLog).child({ prefix: 'SessionManager' });
        this.config = options.config ?? Configuration.getGlobalConfig();
        this.proxies = ProxySource.create(options, this.redactor);
        this.health = new ProxyHealth(resolveBackoff(options), this.clock, this.random);
        this.identities = new IdentityFactory({
            headerGeneratorOptions: options.headerGeneratorOptions,
            variants: options.identityVariants,
            random: this.random,
        });
        this.rules = new RuleSet(options.rules);
        if (options.store === false) this.store = undefined;
        else
            this.store =
                options.store?.custom ??
                new KeyValueSessionStore({
                    keyValueStoreName: options.store?.keyValueStoreName ?? 'sessionpack',
                    key: options.store?.key ?? 'SESSIONPACK_STATE',
                    statsKey: options.store?.statsKey ?? 'SESSIONPACK_STATS',
                    config: this.config,
                });
        this.owner = {
            now: () => this.clock.now(),
            retireSession: (session, reason) => this.retire(session, reason),
            onVerdict: (session, verdict) => this.onVerdict(session, verdict),
        };
    }

    /**
     * Validates `options`, restores the stored state (unless `store: false`), starts listening to Crawlee's
     * persist-state event and the periodic stats line. `X` types the rules' hooks for the crawler it serves, e.g.
     * `SessionManager.open<PlaywrightHookExtras>({ rules })` gives `init` its `newPage()`.
     */
    static async open<X extends HookExtras = {}>(options: SessionManagerOptions<X> = {}): Promise<SessionManager> {
        const manager = new SessionManager(options as SessionManagerOptions);
        await manager.restore();
        manager.start();
        return manager;
    }

    // ---------------------------------------------------------------- acquire

    /**
     * A session for `request`, from the pool of its key: an idle usable one, or a new one (initialized by the rule's
     * `init` hooks) while the pool has room. Counts one open use until {@link report}. Waits (no polling) while every
     * session is busy or cooling and the pool is full, up to `acquireTimeoutSecs`.
     *
     * @throws AcquireTimeoutError when nothing became usable in time.
     * @throws NoUsableProxyError when every proxy is banned, or still in backoff at the timeout, for this pool.
     * @throws InitFailedError after `maxInitFailuresInRow` failed inits in a row in this pool.
     * @throws CrawlAbortError when an init hook aborted.
     */
    async acquire(request: RequestLike, options: AcquireOptions = {}): Promise<ManagedSession> {
        this.assertOpen();
        const rule = this.rules.ruleFor(request);
        const pool = this.poolFor(poolKeyOf(request, rule), rule);
        const started = this.clock.now();
        const deadline = started + pool.options.acquireTimeoutSecs * 1000;
        let dynamicMisses = 0;
        let failedCreates = 0;
        for (;;) {
            if (pool.initAbort) throw pool.initAbort;
            this.assertOpen();
            const d = this.decide(pool);
            if (d.kind === 'session') {
                this.handOut(pool, d.session);
                return d.session;
            }
            if (d.kind === 'create') {
                if (d.evict) this.retire(d.evict, 'replaced: its proxy is in backoff');
                const created = await this.createSession(pool, d.proxyId, request, rule, options);
                if (created instanceof ManagedSession) return created;
                if (created === 'proxy-unusable') {
                    if (++dynamicMisses >= 10) {
                        throw new NoUsableProxyError(pool.key, { total: dynamicMisses, backoff: dynamicMisses, banned: 0 });
                    }
                    continue;
                }
                // Inits that fail on the proxy do not count toward maxInitFailuresInRow. With fixed proxies each one
                // teaches the proxy health something (repeated failures put the proxy in backoff), so other proxies are
                // tried until none is left or the deadline passes; a dynamic configuration can hand out new proxies
                // without end, so there they are bounded per acquire.
                failedCreates++;
                if (created === 'init-proxy-failed' && this.proxies.dynamic && failedCreates >= Math.max(16, 2 * pool.options.maxInitFailuresInRow)) {
                    throw new NoUsableProxyError(pool.key, this.proxySummary(pool.key));
                }
                if (this.clock.now() >= deadline) {
                    const summary = this.proxySummary(pool.key);
                    if (summary.total > 0 && summary.backoff + summary.banned >= summary.total) throw new NoUsableProxyError(pool.key, summary);
                    throw new AcquireTimeoutError(pool.key, `${failedCreates} new sessions failed their init`, this.clock.now() - started);
                }
                continue;
            }
            const now = this.clock.now();
            if (d.allBanned) throw new NoUsableProxyError(pool.key, this.proxySummary(pool.key));
            if (now >= deadline) {
                const summary = this.proxySummary(pool.key);
                if (d.proxiesExhausted || (summary.total > 0 && summary.backoff + summary.banned >= summary.total)) {
                    throw new NoUsableProxyError(pool.key, summary);
                }
                throw new AcquireTimeoutError(pool.key, d.reason, now - started);
            }
            await pool.wait(this.clock, Math.min(d.wakeAt, deadline));
        }
    }

    /** One pass over the pool: hand out, create, or wait (and until when). Retires expired/used-up idle sessions. */
    private decide(pool: Pool): Decision {
        const now = this.clock.now();
        const o = pool.options;
        const key = pool.key;
        const candidates: ManagedSession[] = [];
        let wakeAt = Infinity;
        let busy = 0;
        let cooling = 0;
        let backoff = 0;
        let initializing = 0;
        let evictable: ManagedSession | undefined;
        // Sessions share proxies: each proxy's state is looked up once per pass, through the session's slot.
        const pass = ++this.passCounter;
        const proxyState = (s: ManagedSession): ProxySlot => {
            const slot = s.proxySlot ?? pool.slot(s.identity.proxy?.id ?? DIRECT_PROXY_ID);
            if (slot.stamp !== pass) {
                slot.stamp = pass;
                slot.availability = this.health.availability(slot.id, key, now);
                slot.usableAt = slot.availability === 'backoff' ? this.health.usableAt(slot.id, key) : undefined;
                slot.pacedUntil = this.health.pacedUntil(slot.id, key);
            }
            return slot;
        };
        const maxUses = o.maxUses;
        const maxConcurrent = o.maxConcurrentUses;
        for (const s of pool.sessions.values()) {
            if (s.initializing) {
                initializing++;
                continue;
            }
            const inUse = s.inUse;
            const expired = s.expiresAt.getTime() <= now;
            const usedUp = s.usageCount + inUse >= maxUses;
            const errored = s.errorScore >= s.maxErrorScore;
            if (expired || usedUp || errored) {
                if (inUse === 0) this.retire(s, expired ? 'max age reached' : usedUp ? 'max uses reached' : 'max error score reached');
                else busy++;
                continue;
            }
            if (inUse >= maxConcurrent) {
                busy++;
                continue;
            }
            const st = proxyState(s);
            if (st.availability === 'banned') {
                if (inUse === 0) this.retire(s, 'proxy banned for this site');
                else busy++;
                continue;
            }
            if (st.availability === 'backoff') {
                backoff++;
                if (inUse === 0) evictable ??= s;
                if (st.usableAt !== undefined) wakeAt = Math.min(wakeAt, st.usableAt);
                continue;
            }
            if (st.availability === 'probing') {
                busy++;
                continue;
            }
            const readyAt = s.availableAt > st.pacedUntil ? s.availableAt : st.pacedUntil;
            if (readyAt > now) {
                cooling++;
                if (readyAt < wakeAt) wakeAt = readyAt;
                continue;
            }
            candidates.push(s);
        }

        const ctx = this.policyContext(pool);
        const hasRoom = pool.occupancy < o.size;
        const room = hasRoom || evictable !== undefined;
        let proxiesExhausted = false;
        let allBanned = false;
        if (room && (candidates.length === 0 || pool.policy.preferNew(candidates, ctx))) {
            const evict = hasRoom ? undefined : evictable;
            if (this.proxies.dynamic) return { kind: 'create', proxyId: undefined, evict };
            const proxies: ProxyCandidate[] = [];
            let total = 0;
            let banned = 0;
            let unusable = 0;
            for (const p of this.proxies.fixed!) {
                const id = p?.id ?? DIRECT_PROXY_ID;
                total++;
                const a = this.health.availability(id, key, now);
                if (a === 'usable') {
                    const paced = this.health.pacedUntil(id, key);
                    if (paced > now) {
                        wakeAt = Math.min(wakeAt, paced);
                        continue;
                    }
                    proxies.push({ id, load: pool.proxyLoad.get(id) ?? 0, lastPickedSeq: pool.proxyLastPicked.get(id) ?? 0 });
                    continue;
                }
                if (a === 'banned') banned++;
                else unusable++;
                if (a === 'backoff') {
                    const at = this.health.usableAt(id, key);
                    if (at !== undefined) wakeAt = Math.min(wakeAt, at);
                }
            }
            if (proxies.length > 0) return { kind: 'create', proxyId: pool.policy.pickProxy(proxies, ctx).id, evict };
            if (candidates.length === 0) {
                allBanned = total > 0 && banned === total && busy + cooling + initializing === 0;
                proxiesExhausted = total > 0 && banned + unusable === total;
            }
        }
        if (candidates.length > 0) return { kind: 'session', session: pool.policy.pickSession(candidates, ctx) };

        const parts: string[] = [];
        if (busy) parts.push(`${busy} busy`);
        if (initializing) parts.push(`${initializing} initializing`);
        if (cooling) parts.push(`${cooling} cooling down`);
        if (backoff) parts.push(`${backoff} on proxies in backoff`);
        const full = `${pool.occupancy}/${o.size} sessions`;
        const reason = proxiesExhausted
            ? `every proxy is in backoff or banned for this pool (${full}${parts.length ? `: ${parts.join(', ')}` : ''})`
            : `pool full (${full}${parts.length ? `: ${parts.join(', ')}` : ''})`;
        return { kind: 'wait', wakeAt, reason, proxiesExhausted, allBanned };
    }

    private policyContext(pool: Pool): PolicyContext {
        const pass = this.passCounter;
        const site = pool.key;
        return {
            site,
            health: this.health,
            random: this.random,
            explorationRate: pool.options.explorationRate,
            sessionScore: (s) => {
                const slot = s.proxySlot ?? pool.slot(s.identity.proxy?.id ?? DIRECT_PROXY_ID);
                if (slot.scoreStamp !== pass) {
                    slot.scoreStamp = pass;
                    slot.score = this.health.score(slot.id, site);
                }
                return slot.score;
            },
        };
    }

    private proxySummary(site: string) {
        if (this.proxies.dynamic) return { total: 0, backoff: 0, banned: 0 };
        return this.health.summarize(
            this.proxies.fixed!.map((p) => p?.id ?? DIRECT_PROXY_ID),
            site,
        );
    }

    private handOut(pool: Pool, session: ManagedSession): void {
        session.inUse++;
        session.handOutSeq = pool.nextSeq();
        session.lastUsedAt = this.clock.now();
        this.health.onHandOut(session.identity.proxy?.id ?? DIRECT_PROXY_ID, pool.key);
    }

    /** A session of `pool` with the pool's limits; `fields` says who it is (new, or restored with its counters). */
    private newSession(
        pool: Pool,
        fields: Omit<ManagedSessionOptions, 'poolKey' | 'owner' | 'events' | 'log' | 'maxAgeSecs' | 'maxUsageCount' | 'maxErrorScore' | 'errorScoreDecrement'>,
    ): ManagedSession {
        const o = pool.options;
        return ManagedSession.create({
            ...fields,
            poolKey: pool.key,
            owner: this.owner,
            events: this.events,
            log: this.log,
            maxAgeSecs: o.maxAgeSecs,
            maxUsageCount: o.maxUses,
            maxErrorScore: o.maxErrorScore,
            errorScoreDecrement: o.errorScoreDecrement,
        });
    }

    private newSessionId(): string {
        for (;;) {
            let id = 'session_';
            for (let i = 0; i < 10; i++) id += 'abcdefghijklmnopqrstuvwxyz0123456789'[Math.floor(this.random() * 36) % 36];
            if (!this.liveSessions.has(id)) return id;
        }
    }

    /**
     * Creates (and inits) a session. Otherwise says why not: its init failed (on the proxy, or otherwise: try again),
     * or, with dynamic proxies, the URL handed out belongs to a proxy in backoff.
     */
    private async createSession(
        pool: Pool,
        proxyId: string | undefined,
        request: RequestLike,
        rule: CompiledRule | undefined,
        options: AcquireOptions,
    ): Promise<ManagedSession | 'init-failed' | 'init-proxy-failed' | 'proxy-unusable'> {
        const id = this.newSessionId();
        let proxy: ProxyRef | undefined;
        if (this.proxies.dynamic) {
            pool.pending++;
            try {
                proxy = (await this.proxies.fromConfiguration(id, request)) ?? undefined;
            } finally {
                pool.pending--;
            }
            this.assertOpen();
            if (this.health.availability(proxy?.id ?? DIRECT_PROXY_ID, pool.key) !== 'usable') return 'proxy-unusable';
        } else {
            proxy = proxyId === DIRECT_PROXY_ID || proxyId === undefined ? undefined : this.proxies.byId(proxyId);
        }
        const o = pool.options;
        const now = this.clock.now();
        const session = this.newSession(pool, { id, identity: this.identities.create(proxy), createdAt: new Date(now) });
        const pid = proxy?.id ?? DIRECT_PROXY_ID;
        pool.add(session);
        pool.proxyLastPicked.set(pid, pool.nextSeq());
        this.liveSessions.set(id, session);
        this.counters.inc(pool.key, 'session/created');
        this.handOut(pool, session);

        const hooks = rule?.init ?? [];
        if (hooks.length === 0) {
            session.initialized = true;
            return session;
        }
        session.initializing = true;
        // Every response init gets is classified like any other use: a block or rate limit seen during init is the
        // proxy's fault on this site (and fails the init), not a broken init flow, so it does not count toward
        // maxInitFailuresInRow.
        let initBlock: Outcome | undefined;
        const send = createSendRequest(session);
        const classifyInit = (response: ResponseSnapshot): Outcome => {
            const verdict = classify(response, { ...this.options.classifier, usingProxy: Boolean(proxy), proxyUrl: proxy?.url, now: this.clock.now() });
            if (verdict.type === 'blocked' || verdict.type === 'rate-limited' || verdict.type === 'proxy-failure') initBlock ??= verdict;
            return verdict;
        };
        const classifyingSend: SendRequest = async (input) => {
            const response = await send(input);
            classifyInit(response);
            return response;
        };
        try {
            const state = {
                sendRequest: classifyingSend,
                ...(typeof options.initTools === 'function' ? options.initTools(session, { classify: classifyInit }) : options.initTools),
                session,
                request,
                log: this.log,
                pool: pool.key,
            };
            for (const hook of hooks) await hook(state);
            if (initBlock) throw new Error(`init got ${initBlock.type}: ${initBlock.reason ?? 'no reason given'}`);
            session.initializing = false;
            session.initialized = true;
            pool.initFailuresInRow = 0;
            this.counters.inc(pool.key, 'init/passed');
            pool.notify();
            return session;
        } catch (error) {
            session.initializing = false;
            session.inUse = Math.max(0, session.inUse - 1);
            this.counters.inc(pool.key, 'init/failed');
            const message = this.redactor.error(error);
            if (error instanceof CrawlAbortError || isCrawlStoppingError(error)) {
                this.health.record(pid, pool.key, 'neutral');
                this.retire(session, `init aborted: ${message}`);
                throw error;
            }
            const verdict = initBlock ?? classify({ error }, { usingProxy: Boolean(proxy), proxyUrl: proxy?.url });
            const effect: OutcomeEffect =
                verdict.type === 'proxy-failure' ? 'proxy-failure' : verdict.type === 'blocked' ? 'blocked' : verdict.type === 'rate-limited' ? 'rate-limited' : 'neutral';
            this.recordHealth(pid, pool.key, effect, verdict.retryAfterMillis ?? 0);
            this.retire(session, `init failed: ${message}`);
            this.log.debug(`Init of a session in pool "${pool.key}" failed: ${message}`);
            if (effect === 'neutral') {
                pool.initFailuresInRow++;
                if (pool.initFailuresInRow >= o.maxInitFailuresInRow) {
                    pool.initAbort = new InitFailedError(pool.key, pool.initFailuresInRow, message);
                    this.log.error(pool.initAbort.message);
                    pool.notify();
                    throw pool.initAbort;
                }
            }
            return effect === 'neutral' ? 'init-failed' : 'init-proxy-failed';
        }
    }

    // ---------------------------------------------------------------- report

    /**
     * Ends one open use of `session` (never below zero) and applies the outcome (DESIGN.md's table): ok → good, reused,
     * proxy success; blocked/check-failed → retired, proxy failure on this site; rate-limited → cools down for
     * Retry-After, proxy paced on this site; proxy-failure → retired, proxy backoff; target-error → error score +1;
     * handler-error → nothing but the use.
     */
    report(session: ManagedSession, outcome: Outcome): void {
        if (session.inUse > 0) session.inUse--;
        const key = session.poolKey;
        const pool = this.poolMap.get(key);
        const o = pool?.options ?? resolvePoolOptions(this.options, key);
        const type: OutcomeType = OUTCOME_TYPES.includes(outcome.type) ? outcome.type : 'target-error';
        const pid = session.identity.proxy?.id ?? DIRECT_PROXY_ID;
        const reason = outcome.reason ? this.redactor.text(outcome.reason) : type;
        const now = this.clock.now();
        this.counters.inc(key, `use/${type}` as CounterName);

        let effect: OutcomeEffect = 'neutral';
        let rateLimitMillis = 0;
        switch (type) {
            case 'ok':
                effect = 'success';
                break;
            case 'blocked':
            case 'check-failed':
                effect = 'blocked';
                break;
            case 'rate-limited':
                effect = 'rate-limited';
                rateLimitMillis = Math.min(outcome.retryAfterMillis ?? o.rateLimitCooldownMillis, o.maxRateLimitCooldownMillis);
                break;
            case 'proxy-failure':
                effect = 'proxy-failure';
                break;
            case 'target-error':
                // The target's own error: a direct connection has no other route to back off to, so it is not blamed.
                effect = pid === DIRECT_PROXY_ID ? 'neutral' : 'target-error';
                break;
            case 'handler-error':
                effect = 'neutral';
                break;
        }
        this.recordHealth(pid, key, effect, rateLimitMillis);

        // Crawlee's own markBad() (navigation timeout) already counted this use and its error: do not count it twice.
        const alreadyCounted = type === 'target-error' && session.pendingBadMarks > 0;
        session.pendingBadMarks = 0;
        if (!session.isRetired && !alreadyCounted) {
            switch (type) {
                case 'ok':
                    session.applyUse(-o.errorScoreDecrement);
                    this.coolDown(session, o.minDelayBetweenUsesMillis, o.delayJitterMillis, now);
                    break;
                case 'blocked':
                case 'check-failed':
                case 'proxy-failure':
                    session.applyUse(0);
                    this.retire(session, `${type}: ${reason}`);
                    break;
                case 'rate-limited':
                    session.applyUse(0);
                    session.availableAt = Math.max(session.availableAt, now + rateLimitMillis);
                    break;
                case 'target-error':
                    session.applyUse(1);
                    this.coolDown(session, o.minDelayBetweenUsesMillis, o.delayJitterMillis, now);
                    break;
                case 'handler-error':
                    session.applyUse(0);
                    this.coolDown(session, o.minDelayBetweenUsesMillis, o.delayJitterMillis, now);
                    break;
            }
            if (!session.isRetired && session.inUse === 0) {
                if (session.errorScore >= session.maxErrorScore) this.retire(session, `max error score reached (${reason})`);
                else if (session.usageCount >= o.maxUses) this.retire(session, 'max uses reached');
                else if (session.isExpired()) this.retire(session, 'max age reached');
            }
        }
        if (alreadyCounted && !session.isRetired) this.coolDown(session, o.minDelayBetweenUsesMillis, o.delayJitterMillis, now);
        pool?.notify();
    }

    private coolDown(session: ManagedSession, min: number, jitter: number, now: number): void {
        const delay = min + (jitter > 0 ? this.random() * jitter : 0);
        if (delay > 0) session.availableAt = Math.max(session.availableAt, now + delay);
    }

    private recordHealth(proxyId: string, site: string, effect: OutcomeEffect, rateLimitMillis = 0): void {
        const change = this.health.record(proxyId, site, effect, rateLimitMillis);
        if (change.backoff) {
            this.counters.inc(site, 'proxy/backoff');
            this.log.info(
                `Proxy ${proxyId} backs off ${change.backoff.scope === 'global' ? 'everywhere' : `for pool "${site}"`} until ` +
                    `${new Date(change.backoff.untilMillis).toISOString()}.`,
            );
        }
        if (change.banned) this.log.warning(`Proxy ${proxyId} is banned for pool "${site}" (blocked again after repeated backoffs).`);
        // A global probe holds back sessions of every pool on this proxy: let their waiters look again.
        if (change.probeEnded) for (const pool of this.poolMap.values()) if (pool.key !== site) pool.notify();
    }

    /** Retires a session (any reason): leaves its pool at once, emits `sessionRetired`, wakes waiters. */
    retire(session: ManagedSession, reason: string): void {
        if (session.isRetired) return;
        const safe = this.redactor.text(reason);
        session.markRetired(safe);
        const pool = this.poolMap.get(session.poolKey);
        pool?.remove(session, safe);
        this.liveSessions.delete(session.id);
        this.counters.inc(session.poolKey, 'session/retired');
        this.events.emit('sessionRetired', session);
        pool?.notify();
    }

    /** A Crawlee `markGood()`/`markBad()` that was not the echo of a reported use. */
    private onVerdict(session: ManagedSession, verdict: 'good' | 'bad'): void {
        if (session.isRetired) return;
        const pool = this.poolMap.get(session.poolKey);
        const o = pool?.options ?? resolvePoolOptions(this.options, session.poolKey);
        session.applyUse(verdict === 'good' ? -o.errorScoreDecrement : 1);
        if (verdict === 'bad') session.pendingBadMarks++;
        if (session.errorScore >= session.maxErrorScore) this.retire(session, 'max error score reached (markBad)');
        else if (session.usageCount >= o.maxUses) this.retire(session, 'max uses reached');
    }

    // ---------------------------------------------------------------- evaluate / prepare / rules

    /**
     * Classifies `response` ({@link classify} with the `classifier` options) and, when the classifier says ok, runs the
     * rule's `check` hooks. Returns the outcome to report.
     *
     * @throws CrawlAbortError when a check called `abort(reason)` (or threw a crawl-stopping error).
     */
    async evaluate(input: EvaluateInput): Promise<Outcome> {
        const { session, request, response, checks, ...extras } = input;
        const proxy = session.identity.proxy;
        const base = classify(response, {
            ...this.options.classifier,
            usingProxy: Boolean(proxy),
            proxyUrl: proxy?.url,
            now: this.clock.now(),
        });
        if (base.reason) base.reason = this.redactor.text(base.reason);
        if (base.type !== 'ok' || checks === false) return base;
        const hooks = this.rules.ruleFor(request)?.check ?? [];
        if (hooks.length === 0) return base;
        const context = { pool: session.poolKey, sessionId: session.id, url: request.url };
        const state: CheckState = {
            sendRequest: createSendRequest(session),
            ...extras,
            session,
            request,
            response,
            outcome: base,
            log: this.log,
            pool: session.poolKey,
            abort: (reason: string): never => {
                throw new CrawlAbortError(this.redactor.text(reason), context);
            },
        };
        for (const hook of hooks) {
            let verdict: unknown;
            try {
                verdict = await hook(state);
            } catch (error) {
                if (isCrawlStoppingError(error)) throw error;
                const message = this.redactor.error(error);
                this.log.warning(`A check hook threw in pool "${session.poolKey}" (treated as check-failed): ${message}`);
                return { type: 'check-failed', reason: `check threw: ${message}`, statusCode: base.statusCode };
            }
            if (verdict === 'retire' || verdict === false) {
                return { type: 'check-failed', reason: 'check asked to retire the session', statusCode: base.statusCode };
            }
            if (verdict && typeof verdict === 'object' && OUTCOME_TYPES.includes((verdict as Outcome).type)) {
                const out = { ...(verdict as Outcome) };
                if (out.reason) out.reason = this.redactor.text(out.reason);
                if (out.statusCode === undefined && base.statusCode !== undefined) out.statusCode = base.statusCode;
                if (out.type !== 'ok') return out;
            }
        }
        return base;
    }

    /** Runs the rule's `prepare` hooks for this request (they edit `input.headers` and the request in place). */
    async prepare(input: PrepareInput): Promise<void> {
        const { session, request, headers, ...extras } = input;
        const hooks = this.rules.ruleFor(request)?.prepare ?? [];
        if (hooks.length === 0) return;
        const state: PrepareState = {
            sendRequest: createSendRequest(session),
            ...extras,
            session,
            request,
            headers,
            log: this.log,
            pool: session.poolKey,
        };
        for (const hook of hooks) await hook(state);
    }

    /** The rule that applies to `request` (first match by priority), or undefined. */
    ruleFor(request: RequestLike): Rule | undefined {
        return this.rules.ruleFor(request)?.rule;
    }

    /** The pool key of `request`: `userData.sessionPool`, else the rule's `pool`, else its hostname. */
    poolKeyFor(request: RequestLike): string {
        return poolKeyOf(request, this.rules.ruleFor(request));
    }

    /** The pools created so far (read-only use: for inspection and tests). */
    get pools(): ReadonlyMap<string, Pool> {
        return this.poolMap;
    }

    /** A live session by id. */
    getSession(id: string): ManagedSession | undefined {
        return this.liveSessions.get(id);
    }

    private poolFor(key: string, rule: CompiledRule | undefined): Pool {
        let pool = this.poolMap.get(key);
        if (!pool) {
            pool = new Pool(key, resolvePoolOptions(this.options, key, rule?.rule.size));
            pool.sizeFromRule = rule !== undefined;
            this.poolMap.set(key, pool);
        } else if (!pool.sizeFromRule && rule) {
            // A pool restored from the store learns its rule's size on its first request.
            pool.sizeFromRule = true;
            if (rule.rule.size !== undefined && this.options.pools?.[key]?.size === undefined) pool.options.size = rule.rule.size;
        }
        return pool;
    }

    // ---------------------------------------------------------------- stats

    /** Counters per pool, session counts by state, proxy health summary. */
    stats(): ManagerStats {
        const pools: ManagerStats['pools'] = {};
        const totals = { counters: emptyCounters(), sessions: emptySessionCounts() };
        const keys = new Set([...this.poolMap.keys(), ...this.counters.pools()]);
        for (const key of keys) {
            const pool = this.poolMap.get(key);
            const counters = this.counters.get(key);
            const sessions = pool ? pool.counts() : emptySessionCounts();
            pools[key] = { size: pool?.options.size ?? resolvePoolOptions(this.options, key).size, counters, sessions };
            addCounters(totals.counters, counters);
            addSessionCounts(totals.sessions, sessions);
        }
        const h = this.health.counts();
        return {
            pools,
            totals,
            proxies: {
                configured: this.proxies.dynamic ? 'dynamic' : this.proxies.fixed!.length,
                tracked: h.tracked,
                backoff: h.backoff,
                bannedOnSites: h.bannedOnSites,
            },
        };
    }

    private start(): void {
        const interval = (this.options.statsIntervalSecs ?? 60) * 1000;
        if (interval > 0) {
            const tick = () => {
                if (this.closed) return;
                if (this.poolMap.size > 0) this.log.info(summaryLine(this.stats()));
                this.statsTimer = this.clock.setTimeout(tick, interval);
            };
            this.statsTimer = this.clock.setTimeout(tick, interval);
        }
        if (this.store && (this.options.store === undefined || (this.options.store && this.options.store.persistOnEvent !== false))) {
            this.config.getEventManager().on(PERSIST_STATE_EVENT, this.persistListener);
            this.listening = true;
        }
    }

    // ---------------------------------------------------------------- store

    /** The whole state as plain data (what the store saves): live sessions, recently retired ones, proxy health by id. */
    snapshot(): PersistedState {
        const pools: Record<string, PersistedPool> = {};
        for (const [key, pool] of this.poolMap) {
            const sessions: PersistedSession[] = [];
            for (const s of pool.sessions.values()) {
                if (!s.initialized || s.initializing) continue;
                sessions.push({
                    id: s.id,
                    proxyId: s.identity.proxy?.id ?? DIRECT_PROXY_ID,
                    headers: { ...s.identity.headers },
                    ...(s.identity.fingerprint ? { fingerprint: s.identity.fingerprint as JsonObject } : {}),
                    cookieJar: s.cookieJar.toJSON(),
                    userData: s.userData as Record<string, unknown>,
                    createdAt: s.createdAt.getTime(),
                    expiresAt: s.expiresAt.getTime(),
                    usageCount: s.usageCount,
                    errorScore: s.errorScore,
                    availableAt: s.availableAt,
                });
            }
            pools[key] = {
                sessions,
                retired: pool.recentlyRetired.map((r) => ({ ...r })),
                retiredCount: pool.retiredCount,
                initFailuresInRow: pool.initFailuresInRow,
            };
        }
        return { format: STATE_FORMAT, version: STATE_VERSION, savedAt: this.clock.now(), pools, health: this.health.toJSON() };
    }

    /** Writes the state to the store now (also done on Crawlee's persist-state event and on close). */
    async persist(): Promise<void> {
        if (!this.store) return;
        await this.store.save(this.snapshot());
    }

    private async restore(): Promise<void> {
        if (!this.store || (this.options.store && this.options.store.restore === false)) return;
        let raw: unknown;
        try {
            raw = await this.store.load();
        } catch (error) {
            this.log.warning(`Could not read the stored session state (${this.redactor.error(error)}); starting fresh.`);
            return;
        }
        if (raw === undefined || raw === null) return;
        const state = parseState(raw);
        if (typeof state === 'string') {
            this.log.warning(`Ignoring the stored session state: ${state}. It will be replaced on the next save.`);
            return;
        }
        this.health.restore(state.health);
        let dropped = 0;
        for (const [key, p] of Object.entries(state.pools)) {
            const pool = this.poolFor(key, undefined);
            pool.retiredCount = p.retiredCount ?? 0;
            pool.initFailuresInRow = p.initFailuresInRow ?? 0;
            for (const r of p.retired.slice(-RETIRED_HISTORY)) pool.recentlyRetired.push({ ...r });
            for (const s of p.sessions) {
                const proxy = await this.reattach(s.proxyId, s.id);
                // Expired sessions come back as they were and are retired lazily like any other (equivalent state).
                const why = proxy === 'missing' ? 'proxy no longer configured' : undefined;
                if (why || this.liveSessions.has(s.id)) {
                    dropped++;
                    pool.retiredCount++;
                    pool.recentlyRetired.push({ id: s.id, proxyId: s.proxyId, reason: why ?? 'duplicate id' });
                    if (pool.recentlyRetired.length > RETIRED_HISTORY) pool.recentlyRetired.shift();
                    continue;
                }
                const session = this.newSession(pool, {
                    id: s.id,
                    identity: this.identities.restore(proxy as ProxyRef | undefined, Object.freeze({ ...s.headers })),
                    createdAt: new Date(s.createdAt),
                    expiresAt: new Date(s.expiresAt),
                    usageCount: s.usageCount,
                    errorScore: s.errorScore,
                    userData: s.userData,
                    cookieJar: s.cookieJar ?? undefined,
                });
                session.availableAt = s.availableAt;
                if (isRecord(s.fingerprint)) session.setFingerprint(s.fingerprint);
                session.initialized = true;
                pool.add(session);
                this.liveSessions.set(session.id, session);
            }
        }
        this.log.debug(
            `Restored ${this.liveSessions.size} sessions in ${this.poolMap.size} pools${dropped ? ` (${dropped} dropped)` : ''}.`,
        );
    }

    /** The current ProxyRef for a stored proxy id: undefined for direct, 'missing' if the configuration lacks it. */
    private async reattach(proxyId: string, sessionId: string): Promise<ProxyRef | undefined | 'missing'> {
        if (this.proxies.dynamic) {
            try {
                const ref = await this.proxies.fromConfiguration(sessionId);
                if (!ref) return proxyId === DIRECT_PROXY_ID ? undefined : 'missing';
                return ref.id === proxyId ? ref : 'missing';
            } catch {
                return 'missing';
            }
        }
        if (proxyId === DIRECT_PROXY_ID) return this.proxies.fixed!.includes(undefined) ? undefined : 'missing';
        return this.proxies.byId(proxyId) ?? 'missing';
    }

    // ---------------------------------------------------------------- close

    /** Whether {@link close} was called. */
    get isClosed(): boolean {
        return this.closed;
    }

    /**
     * Stops the stats timer and the persist-state listener, fails pending acquires, writes the state and the final
     * stats record, and logs a last summary line.
     */
    async close(): Promise<void> {
        if (this.closed) return;
        this.closed = true;
        if (this.statsTimer !== undefined) this.clock.clearTimeout(this.statsTimer);
        if (this.listening) this.config.getEventManager().off(PERSIST_STATE_EVENT, this.persistListener);
        for (const pool of this.poolMap.values()) pool.notify();
        const stats = this.stats();
        if (this.poolMap.size > 0) this.log.info(`Final: ${summaryLine(stats)}`);
        if (this.store) {
            await this.store.save(this.snapshot());
            await this.store.saveStats?.({ ...stats, savedAt: new Date(this.clock.now()).toISOString() });
        }
    }

    private assertOpen(): void {
        if (this.closed) throw new ManagerClosedError();
    }
}
