/**
 * SessionManager: all pools, proxy health, rules, store and stats, wired together. Core verbs: `acquire(request)`
 * and `report(session, outcome)`; adapters add `evaluate` (classify + checks) and `prepare` (prepare hooks).
 * Each concern lives in its own module: pool.ts and scheduler.ts (which session), acquire.ts (the acquire loop and
 * session creation), init.ts, use-report.ts and outcomes.ts (what a use's outcome does), retire.ts, hooks.ts,
 * persistence.ts, stats.ts, learner/ (proxy health).
 */
import { Configuration, log as crawleeLog, type Log } from '@crawlee/core';
import type { ReportData } from '@sessionpack/report';

import { systemClock, type Clock } from './clock.js';
import { acquireContextFor, acquireFrom, type AcquireContext, type AcquireRequest } from './acquire.js';
import { CrawlReporter, type CrawlReportLocation } from './crawl-report.js';
import { ManagerClosedError } from './errors.js';
import { SessionEvents } from './events.js';
import { LearnedHealth } from './learner/model.js';
import { evaluateResponse, prepareRequest, type EvaluateInput, type HookRunnerDeps, type PrepareInput } from './hooks.js';
import { IdentityFactory } from './identity.js';
import { SessionFactory } from './factory.js';
import type { AcquireOptions, InitDeps } from './init.js';
import { resolveLearner, resolvePoolOptions, validateOptions, type SessionManagerOptions } from './options.js';
import { snapshotState } from './persistence.js';
import { poolFor, type Pool, type PoolDeps } from './pool.js';
import { DIRECT_PROXY_ID, ProxySource } from './proxies.js';
import { Redactor } from './redact.js';
import { retireSession, type RetireDeps } from './retire.js';
import { poolKeyOf, RuleSet, type CompiledRule, type HookExtras, type Rule } from './rules.js';
import { ManagedSession, type SessionOwner } from './session.js';
import { buildStats, StatsCounters, StatsTicker, summaryLine, type ManagerStats } from './stats.js';
import { StateLink } from './state-link.js';
import type { PersistedState } from './store.js';
import { TierGate } from './tier-gate.js';
import { UseReports } from './use-report.js';
import type { Outcome, RequestLike } from './types.js';

/** The options of an acquire that gives none (shared: an acquire allocates nothing for them). */
const NO_OPTIONS: AcquireOptions = Object.freeze({});

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
    /** Proxy health per proxy and site: the learner (recency, blame, decaying backoffs, pace, cap). */
    readonly health: LearnedHealth;
    /** Scrubs proxy credentials from any text. */
    readonly redactor = new Redactor();

    private readonly options: SessionManagerOptions;
    private readonly random: () => number;
    private readonly proxies: ProxySource;
    private readonly fixedIds: readonly string[] | undefined;
    /** With tiered proxies: which tier new sessions of each pool take. */
    private readonly tierGate: TierGate | undefined;
    private readonly rules: RuleSet;
    private readonly counters = new StatsCounters();
    /** Restore, writes and the shared store's host (state-link.ts). */
    private readonly state: StateLink;
    private readonly poolMap = new Map<string, Pool>();
    private readonly factory: SessionFactory;
    private readonly owner: SessionOwner;
    private readonly config: Configuration;
    private readonly hookDeps: HookRunnerDeps;
    private readonly initDeps: InitDeps;
    private readonly acquireContext: AcquireContext<AcquireRequest>;
    private readonly poolDeps: PoolDeps;
    private readonly retireDeps: RetireDeps;
    private readonly reporter: CrawlReporter;
    private readonly uses: UseReports;
    private readonly ticker: StatsTicker;
    private closed = false;

    private constructor(options: SessionManagerOptions) {
        validateOptions(options);
        this.options = options;
        this.clock = options.clock ?? systemClock;
        this.random = options.random ?? Math.random;
        this.log = (options.log ?? crawleeLog).child({ prefix: 'SessionManager' });
        this.config = options.config ?? Configuration.getGlobalConfig();
        this.proxies = ProxySource.create(options, this.redactor);
        this.fixedIds = this.proxies.fixed?.map((p) => p?.id ?? DIRECT_PROXY_ID);
        this.health = new LearnedHealth(resolveLearner(options), this.clock, this.random, this.fixedIds ?? [], this.proxies.tiers?.count ?? 0);
        this.tierGate = TierGate.create(this.proxies.tiers, this.health, this.log);
        const identities = IdentityFactory.forOptions(options, this.random);
        const tierGate = this.tierGate;
        const fixedProxies = this.fixedIds;
        this.poolDeps = { health: this.health, fixedProxies, random: this.random, retire: (s, r) => this.retire(s, r), ...(tierGate ? { tiersOf: (site: string) => tierGate.forSite(site) } : {}) };
        this.rules = new RuleSet(options.rules);
        this.state = new StateLink({
            options,
            config: this.config,
            clock: this.clock,
            log: this.log,
            redactor: this.redactor,
            health: this.health,
            tierGate: this.tierGate,
            proxies: this.proxies,
            factory: () => this.factory,
            pools: this.poolMap,
            poolFor: (key) => this.poolFor(key, undefined),
            snapshot: () => this.snapshot(),
            persist: () => this.persist(),
            isClosed: () => this.closed,
            retire: (s, reason) => this.retire(s, reason),
        });
        const saver = this.state.saver;
        this.reporter = new CrawlReporter(options.report, this.config, this.log, this.redactor, () => ({
            stats: this.stats(),
            health: this.health,
            proxyById: (id) => this.proxies.byId(id),
            now: this.clock.now(),
            ...this.tierGate?.reportSources(),
        }));
        const line = () => (this.poolMap.size > 0 ? summaryLine(this.stats()) : undefined);
        this.ticker = new StatsTicker(this.clock, (options.statsIntervalSecs ?? 60) * 1000, line, (l) => this.log.info(l));
        this.owner = {
            now: () => this.clock.now(),
            retireSession: (session, reason) => this.retire(session, reason),
            countersChanged: (session) => {
                this.poolMap.get(session.poolKey)?.scheduler.settle(session, this.clock.now());
                saver?.sessionChanged(session);
            },
        };
        const retire = (session: ManagedSession, reason: string) => this.retire(session, reason);
        // What the reporting, retiring and acquiring modules share of the manager (each takes the part it reads).
        const shared = {
            ...this.poolDeps,
            ...{ health: this.health, clock: this.clock, log: this.log, options, pools: this.poolMap, counters: this.counters, proxies: this.proxies },
            ...{ redactor: this.redactor, saver, tierGate: this.tierGate, timeline: this.reporter.timeline, retire },
        };
        this.uses = new UseReports(shared);
        const now = () => this.clock.now();
        this.factory = new SessionFactory({ proxies: this.proxies, identities, owner: this.owner, events: this.events, log: this.log, random: this.random, now });
        this.retireDeps = { ...shared, live: this.factory.live, events: this.events };
        this.hookDeps = { classifier: options.classifier, redactor: this.redactor, log: this.log, now };
        this.initDeps = {
            ...this.hookDeps,
            count: (pool, counter) => this.counters.inc(pool, counter),
            recordHealth: (pid, pool, effect, ms) => this.uses.recordHealth(pid, pool, effect, ms, { duringInit: true, goodUses: 0 }),
            retire,
        };
        const assertOpen = () => this.assertOpen();
        this.acquireContext = acquireContextFor({ ...shared, factory: () => this.factory, initDeps: this.initDeps, store: this.state.store, assertOpen });
    }

    /**
     * Validates `options`, restores the stored state (unless `store: false`), starts listening to Crawlee's
     * persist-state event and the periodic stats line. `X` types the rules' hooks for the crawler it serves, e.g.
     * `SessionManager.open<PlaywrightHookExtras>({ rules })` gives `init` its `newPage()`.
     */
    static async open<X extends HookExtras = {}>(options: SessionManagerOptions<X> = {}): Promise<SessionManager> {
        const manager = new SessionManager(options as SessionManagerOptions);
        await manager.state.restore();
        manager.start();
        manager.state.attach();
        return manager;
    }

    // ---------------------------------------------------------------- acquire

    /**
     * A session for `request`, from the pool of its key: an idle usable one, or a new one (initialized by the rule's
     * `init` hooks) while the pool has room. Counts one open use until {@link report}. Waits (no polling) while every
     * session is busy or cooling and the pool is full, up to `acquireTimeoutSecs`.
     *
     * @throws AcquireTimeoutError when nothing became usable in time.
     * @throws NoUsableProxyError when every proxy is banned, failed again after a backoff, or is still in backoff at the timeout.
     * @throws InitFailedError after `maxInitFailuresInRow` failed inits in a row in this pool.
     * @throws CrawlAbortError when an init hook aborted.
     */
    acquire(request: RequestLike, options: AcquireOptions = NO_OPTIONS): Promise<ManagedSession> {
        // Not async itself: the loop's own promise is the one returned (one promise per acquire, not two); what throws
        // before it still comes back as a rejection.
        try {
            this.assertOpen();
            const rule = this.rules.ruleFor(request);
            const pool = this.poolFor(poolKeyOf(request, rule), rule);
            return acquireFrom(pool, request, rule, options, this.acquireContext);
        } catch (e) {
            return Promise.reject(e);
        }
    }

    // ---------------------------------------------------------------- report

    /**
     * Ends one open use of `session` (never below zero) and applies the outcome (use-report.ts, through outcomes.ts: DESIGN.md's
     * table). A session given as an attempt's handle (`ctx.session`) merges what was called on it during the attempt:
     * `retire()` turns an ok use into a blocked one, `markBad()` into a target error; an error counts once.
     * `request` (the request of this use) gives the crawl report its example URLs.
     */
    report(session: ManagedSession, outcome: Outcome, request?: RequestLike): void {
        this.uses.report(session, outcome, request);
    }

    /** Retires a session (any reason): leaves its pool at once, emits `sessionRetired`, wakes waiters. */
    retire(session: ManagedSession, reason: string): void {
        retireSession(this.retireDeps, session, reason);
    }

    // ---------------------------------------------------------------- evaluate / prepare / rules

    /**
     * Classifies `response` ({@link classify} with the `classifier` options) and, when the classifier says ok, runs the
     * rule's `check` hooks. Returns the outcome to report.
     *
     * @throws CrawlAbortError when a check called `abort(reason)` (or threw a crawl-stopping error).
     */
    evaluate(input: EvaluateInput): Promise<Outcome> {
        return evaluateResponse(input, this.rules.ruleFor(input.request), this.hookDeps);
    }

    /** Runs the rule's `prepare` hooks for this request (they edit `input.headers` and the request in place). */
    prepare(input: PrepareInput): Promise<void> {
        return prepareRequest(input, this.rules.ruleFor(input.request), this.hookDeps);
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
        return this.factory.live.get(id);
    }

    private poolFor(key: string, rule: CompiledRule | undefined): Pool {
        return poolFor(this.poolMap, key, rule, this.options, this.poolDeps);
    }

    // ---------------------------------------------------------------- stats

    /** Counters per pool, session counts by state, proxy health summary. */
    stats(): ManagerStats {
        return buildStats(this.poolMap, this.counters, this.health.counts(), {
            configured: this.proxies.dynamic ? 'dynamic' : this.proxies.fixed!.length,
            sizeOf: (key) => resolvePoolOptions(this.options, key).size,
            learnedCap: (key) => this.health.learner.cap(key, this.clock.now()),
            tiers: (key) => this.tierGate?.stats(key),
        });
    }

    private start(): void {
        this.ticker.start();
        this.reporter.listen();
        this.state.listen();
    }

    // ---------------------------------------------------------------- store

    /** The whole state as plain data (what the store saves): live sessions, recently retired ones, proxy health by id. */
    snapshot(): PersistedState {
        return snapshotState(this.poolMap, this.health, this.clock.now(), this.tierGate);
    }

    /** Writes the whole state to the store now (also done on Crawlee's persist-state event and on close). */
    persist(): Promise<void> {
        return this.state.persist();
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
        this.ticker.stop();
        this.state.stopListening();
        for (const pool of this.poolMap.values()) pool.notify();
        const stats = this.stats();
        await this.reporter.close();
        if (this.poolMap.size > 0) this.log.info(`Final: ${summaryLine(stats)}`);
        await this.state.close(stats);
    }

    // ---------------------------------------------------------------- crawl report

    /** The crawl report's data now: per pool the stats, outcomes over time, proxy health, endings, failure reasons. */
    reportData(): ReportData {
        return this.reporter.data();
    }

    /** The crawl report as one self-contained HTML page (charts inlined: it works offline). */
    crawlReport(): string {
        return this.reporter.html();
    }

    /**
     * Writes the crawl report (and its data) to the key-value store of the `report` option now; also done on `close()`
     * and on Crawlee's persist-state events. Logs a failed write rather than throwing; returns where it went, or undefined.
     */
    writeCrawlReport(): Promise<CrawlReportLocation | undefined> {
        return this.reporter.write();
    }

    private assertOpen(): void {
        if (this.closed) throw new ManagerClosedError();
    }
}
