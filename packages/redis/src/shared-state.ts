/**
 * RedisSharedState: the shared state of many crawler processes (one machine or many) under one key prefix: proxy health per
 * (proxy, pool key), sessions, and leases on sessions. Each worker works on a local view and syncs in batches
 * ({@link RedisSharedState.sync}, every `syncIntervalMillis`): it pushes its deltas (increments, deadlines, newest values)
 * and pulls the records others changed since its last pull. Redis lost mid-crawl: the worker keeps its changes, warns
 * once, and merges them when Redis is back (re-seeding an emptied Redis from what it knows).
 *
 * ```ts
 * const store = new RedisSharedState({ url: 'redis://127.0.0.1:6379', prefix: 'shop-crawl' });
 * await store.open();
 * store.recordHealth(proxyId, 'shop.example', { add: { blocked: 1 }, max: { backoffUntil: Date.now() + 5000 } });
 * await store.sync(); // or wait for the timer
 * ```
 */
import { log as crawleeLog, type Log } from '@crawlee/core';
import { redactText, systemClock, type Clock, type JsonObject, type TimerHandle } from '@sessionpack/core';

import { connect, type Connection } from './connection.js';
import { InternTables } from './interned.js';
import { Keys } from './keys.js';
import { LeaseBook } from './leases.js';
import { resolveOptions, DEFAULT_REDIS_URL, type RedisStoreOptions, type ResolvedRedisStoreOptions } from './options.js';
import { emptyRecord, type RecordDelta, type SharedRecord } from './record.js';
import { Replica, type SharedChange } from './replica.js';
import { SessionLeases } from './session-leases.js';
import { PULL_LIMIT, syncRound, TOMBSTONE_KEEP, type SyncReport } from './sync-round.js';

/** Shared state on Redis; see the module comment. `redisStore()` wraps one for a SessionManager. */
export class RedisSharedState {
    readonly options: ResolvedRedisStoreOptions;
    readonly keys: Keys;
    readonly log: Log;
    private readonly clock: Clock;
    private conn: Connection | undefined;
    private epoch = '';
    private readonly leases: LeaseBook;
    private readonly sessionLeases: SessionLeases;
    /** What this worker knows of the shared records. */
    private readonly replica: Replica;
    /** Header sets and fingerprints. */
    private readonly interned = new InternTables();
    private readonly beforeSync = new Set<() => void>();
    private lastRenewAt = -Infinity;
    private down = false;
    private reseedNeeded = false;
    private inFlight: Promise<SyncReport> | undefined;
    private timer: TimerHandle | undefined;
    private closed = false;

    constructor(options: RedisStoreOptions = {}) {
        this.options = resolveOptions(options);
        this.keys = new Keys(this.options.prefix);
        this.leases = new LeaseBook(this.options.workerId, this.options.leaseTtlMillis);
        this.clock = this.options.clock ?? systemClock;
        this.log = (this.options.log ?? crawleeLog).child({ prefix: 'Redis' });
        this.replica = new Replica(this.keys, this.clock, this.options.healthHalfLifeMillis, this.leases, this.log);
        this.sessionLeases = new SessionLeases(this.leases, this.keys, this.clock, this.options, {
            client: () => (this.closed ? undefined : this.conn?.client),
            isDown: () => this.down,
            markDown: (error) => this.markDown(error),
        });
    }

    /** This worker's id in leases. */
    get workerId(): string {
        return this.options.workerId;
    }

    /** The store's clock. */
    now(): number {
        return this.clock.now();
    }

    /** Whether the last contact with Redis worked. */
    get connected(): boolean {
        return this.conn !== undefined && !this.down;
    }

    /** The Redis URL with its password redacted. */
    get safeUrl(): string {
        return this.conn?.safeUrl ?? redactText(this.options.url ?? DEFAULT_REDIS_URL);
    }

    /**
     * Connects, pulls everything shared under the prefix, and starts the sync timer.
     *
     * @throws RedisUnavailableError naming the URL (password redacted) when Redis cannot be reached.
     */
    async open(): Promise<void> {
        if (this.conn) return;
        this.conn = await connect({ url: this.options.url ?? DEFAULT_REDIS_URL, client: this.options.client, timeoutMillis: this.options.connectTimeoutMillis });
        await this.adoptEpoch();
        await this.pullAll();
        this.schedule();
    }

    // ---------------------------------------------------------------- local view

    /** Calls `listener` for every record pulled from Redis. Returns a function that removes it. */
    onChange(listener: (change: SharedChange) => void): () => void {
        return this.replica.onChange(listener);
    }

    /** Calls `hook` at the start of every sync (to queue what changed locally since the last one). */
    onBeforeSync(hook: () => void): () => void {
        this.beforeSync.add(hook);
        return () => this.beforeSync.delete(hook);
    }

    /** Every health record known here, by proxy id and scope. */
    healthRecords(): Iterable<{ proxyId: string; scope: string; record: SharedRecord }> {
        return this.replica.healthRecords();
    }

    /** The pools that have sessions known here. */
    sessionPools(): string[] {
        return this.replica.sessionPools();
    }

    /** Health of `proxyId` on `scope` (a pool key, or `'*'` for everywhere): the last pull plus this worker's unpushed changes. */
    health(proxyId: string, scope: string): SharedRecord {
        return this.replica.view(this.keys.health(proxyId, scope)) ?? emptyRecord();
    }

    /** Queues a change of a proxy's health (pushed on the next sync). Proxies are recorded by id only. */
    recordHealth(proxyId: string, scope: string, delta: RecordDelta): void {
        if (/:\/\//.test(proxyId) || /:\/\//.test(scope)) {
            throw new TypeError(`RedisSharedState: proxy id and scope must be ids, not URLs (got ${redactText(proxyId)} on ${redactText(scope)}).`);
        }
        this.replica.queue(this.keys.health(proxyId, scope), delta);
    }

    /** One session of a pool (undefined if unknown here). */
    session(pool: string, id: string): SharedRecord | undefined {
        return this.replica.view(this.keys.session(pool, id));
    }

    /** Ids of the sessions of `pool` known here (retired ones included until they expire). */
    sessionIds(pool: string): string[] {
        return this.replica.sessionIds(pool);
    }

    /** Queues a change of a session. Text is scrubbed of URL credentials before it leaves the process. */
    recordSession(pool: string, id: string, delta: RecordDelta): void {
        const safe: RecordDelta = { ...delta };
        if (delta.lww) safe.lww = Object.fromEntries(Object.entries(delta.lww).map(([k, v]) => [k, { value: redactText(v.value), at: v.at }]));
        if (delta.once) safe.once = Object.fromEntries(Object.entries(delta.once).map(([k, v]) => [k, redactText(v)]));
        this.replica.indexSession(pool, id);
        this.replica.queue(this.keys.session(pool, id), safe);
    }

    /** Stores a header set once (content-addressed) and returns its id, which sessions refer to. */
    putHeaderSet(headers: Readonly<Record<string, string>>): string {
        return this.interned.intern('headersets', headers);
    }

    /** A header set by id (pulled along with the sessions that refer to it). */
    headerSet(id: string): Readonly<Record<string, string>> | undefined {
        return this.interned.get('headersets', id) as Readonly<Record<string, string>> | undefined;
    }

    /** Stores a browser fingerprint once (content-addressed) and returns its id. */
    putFingerprint(fingerprint: Readonly<JsonObject>): string {
        return this.interned.intern('fingerprints', fingerprint);
    }

    /** A fingerprint by id (pulled along with the sessions that refer to it). */
    fingerprint(id: string): Readonly<JsonObject> | undefined {
        return this.interned.get('fingerprints', id) as Readonly<JsonObject> | undefined;
    }

    // ---------------------------------------------------------------- leases

    /** Slots of `pool`/`id` that live leases of other workers hold, as of the last pull. */
    othersSlots(pool: string, id: string): number {
        return this.sessionLeases.othersSlots(pool, id);
    }

    /** The sessions this worker holds leases on. */
    heldLeases(): { pool: string; id: string }[] {
        return this.sessionLeases.heldLeases();
    }

    /** Slots this worker holds on a session (0: none). */
    heldSlots(pool: string, id: string): number {
        return this.sessionLeases.heldSlots(pool, id);
    }

    /**
     * Leases up to `want` slots of a session whose concurrency cap is `cap` (one round trip). Returns the slots granted
     * (0 when other workers hold the rest). A lease already held is extended to `want`. While Redis is unreachable the
     * local view decides: a session no other worker held when last seen is claimed here, and the claim is registered
     * when Redis is back (or reported in `lostLeases` if another worker got there first).
     */
    lease(pool: string, id: string, want: number, cap: number): Promise<number> {
        return this.sessionLeases.lease(pool, id, want, cap);
    }

    /** Whether Redis (as last pulled) or this worker knows the session. */
    knows(pool: string, id: string): boolean {
        return this.replica.knows(pool, id);
    }

    /** Claims a session this worker just created (nobody else can know it yet): no round trip, registered on the next sync. */
    claim(pool: string, id: string, slots: number, cap: number): void {
        this.sessionLeases.claim(pool, id, slots, cap);
    }

    /** Marks a held session busy (a use is open) or idle; idle leases are given back after `leaseIdleMillis`. */
    setBusy(pool: string, id: string, busy: boolean): void {
        this.sessionLeases.setBusy(pool, id, busy);
    }

    /** Gives a lease back (on the next sync). */
    release(pool: string, id: string): void {
        this.sessionLeases.release(pool, id);
    }

    // ---------------------------------------------------------------- sync

    /** Pushes this worker's changes and pulls everyone's (one round trip; a second one after Redis lost its data). */
    sync(): Promise<SyncReport> {
        if (!this.inFlight) {
            this.inFlight = this.syncOnce()
                .then(async (r) => (this.reseedNeeded && r.ok ? { ...(await this.syncOnce()), reseeded: true } : r))
                .finally(() => (this.inFlight = undefined));
        }
        return this.inFlight;
    }

    private async syncOnce(): Promise<SyncReport> {
        const conn = this.conn;
        if (!conn) return { ok: false, pushed: 0, pulled: 0, reseeded: false, lostLeases: [] };
        for (const hook of this.beforeSync) {
            try {
                hook();
            } catch (error) {
                this.log.warning(`A before-sync hook threw: ${redactText(String((error as Error)?.message ?? error))}`);
            }
        }
        const now = this.clock.now();
        if (this.reseedNeeded) this.prepareReseed();
        const renewDue = now - this.lastRenewAt >= this.options.leaseTtlMillis / 3;
        const { report, epochLost, renewed, ...round } = await syncRound(
            { client: conn.client, keys: this.keys, epoch: this.epoch, workerId: this.workerId, options: this.options, replica: this.replica, leases: this.leases, interned: this.interned },
            now,
            renewDue,
        );
        let failure = round.failure;
        if (renewed) this.lastRenewAt = now;
        if (epochLost) {
            // Redis lost what was shared: adopt (or start) its new epoch and push, on the next round, all this worker knows.
            this.reseedNeeded = true;
            await this.adoptEpoch().catch((e: unknown) => (failure ??= e));
        }
        if (failure !== undefined) {
            this.markDown(failure);
            return report;
        }
        if (report.pulled >= PULL_LIMIT) report.pulled += await this.pullAll();
        await this.fetchMissingInterned().catch((e: unknown) => this.markDown(e));
        this.replica.emit();
        report.ok = !this.down || this.markUp(report);
        return report;
    }

    /** Everything this worker knows goes back to Redis: its own pushed deltas, its leases, its header sets. */
    private prepareReseed(): void {
        this.reseedNeeded = false;
        this.replica.reseed();
        this.leases.reclaimAll();
        this.interned.requeueAll();
    }

    private async adoptEpoch(): Promise<void> {
        const client = this.conn!.client;
        const fresh = `${this.clock.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
        await client.set(this.keys.epoch, fresh, 'NX');
        this.epoch = (await client.get(this.keys.epoch)) ?? fresh;
    }

    /** Pulls until caught up. Returns how many records came in. */
    private async pullAll(): Promise<number> {
        let total = 0;
        for (;;) {
            const value = (await this.conn!.client.sessionpackPull(3, this.keys.epoch, this.keys.changes, this.keys.seq, this.epoch, this.replica.cursor, PULL_LIMIT, TOMBSTONE_KEEP)) as unknown[];
            if (value[0] === 'EPOCH') {
                await this.adoptEpoch();
                this.replica.cursor = 0;
                continue;
            }
            const n = this.replica.ingest(value);
            total += n;
            if (n < PULL_LIMIT) break;
        }
        await this.fetchMissingInterned();
        this.replica.emit();
        return total;
    }

    /** Fetches the header sets and fingerprints that pulled sessions refer to and this worker has not seen. */
    private async fetchMissingInterned(): Promise<void> {
        const missing = this.replica.missingInterned(this.interned);
        if (!this.conn) return;
        for (const [table, set] of missing) {
            if (set.size === 0) continue;
            const ids = [...set];
            const values = await this.conn.client.hmget(this.keys.table(table), ...ids);
            ids.forEach((id, i) => {
                const v = values[i];
                if (v) this.interned.set(table, id, Object.freeze(JSON.parse(v) as Record<string, unknown>));
            });
        }
    }

    private markDown(error: unknown): void {
        if (this.down) return;
        this.down = true;
        const pending = this.replica.pendingCount;
        this.log.warning(
            `Lost Redis at ${this.safeUrl} (${redactText(String((error as Error)?.message ?? error))}); crawling on with this worker's local view. ` +
                `Its changes (${pending} records so far) are kept and merged when Redis is back.`,
        );
    }

    private markUp(report: SyncReport): true {
        this.down = false;
        this.log.info(`Redis at ${this.safeUrl} is back: merged ${report.pushed} changed records${this.reseedNeeded || report.reseeded ? ' (it had lost its data: re-seeded from this worker)' : ''}.`);
        return true;
    }

    private schedule(): void {
        if (this.closed || this.options.syncIntervalMillis <= 0) return;
        this.timer = this.clock.setTimeout(() => {
            this.timer = undefined;
            void this.sync().finally(() => this.schedule());
        }, this.options.syncIntervalMillis);
    }

    /** Keeps this worker's final stats under `stats` (field: worker id), scrubbed of URL credentials. */
    async saveStats(stats: unknown): Promise<void> {
        if (!this.conn || this.down) return;
        await this.conn.client.hset(this.keys.stats, this.workerId, redactText(JSON.stringify(stats))).catch((e: unknown) => this.markDown(e));
    }

    // ---------------------------------------------------------------- close

    /** Stops the timer, gives every lease back, pushes what is left, and quits the connection (if the store made it). */
    async close(): Promise<void> {
        if (this.closed) return;
        this.closed = true;
        if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
        if (!this.conn) return;
        await this.inFlight?.catch(() => undefined);
        for (const key of [...this.leases.held.keys()]) this.leases.release(key);
        await this.syncOnce().catch(() => undefined);
        if (this.replica.pendingCount > 0) this.log.warning(`Closed with ${this.replica.pendingCount} changed records not pushed: Redis at ${this.safeUrl} was unreachable.`);
        if (this.conn.owned) await this.conn.client.quit().catch(() => this.conn?.client.disconnect());
    }
}
