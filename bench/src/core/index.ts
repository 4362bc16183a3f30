/**
 * Core cost (`pnpm bench core`): what one acquire + report costs as the number of sessions grows, in one pool and
 * spread over 1,000 pools, against Crawlee's own `SessionPool.getSession()` + `markGood()` at the same sizes; memory
 * per session; time to persist and restore 100k sessions. No network: sessions are only bookkeeping here.
 */
import { Configuration, log as crawleeLog, LogLevel, SessionPool, type Session } from '@crawlee/core';
import { SessionManager, type ManagedSession, type PersistedState, type SessionStore } from '@sessionpack/core';

import { mulberry32, randomInt, withSeededMathRandom, type Random } from '../shared/prng.js';
import { collectGarbage, median } from '../shared/stats.js';
import { fmt, int, times, type PartResult, type Table } from '../shared/table.js';

export interface CoreBenchOptions {
    /** Tiny sizes for CI. */
    smoke?: boolean;
    seed?: number;
    /** Progress lines (stderr by default). */
    progress?: (line: string) => void;
}

/** One measured configuration. */
/** One measured configuration. */
export interface CoreRow {
    sessions: number;
    pools: number;
    /** Microseconds per acquire + report pair (median of the rounds). */
    oursMicros: number;
    /** Microseconds per getSession + markGood pair. */
    crawleeMicros: number;
    /** Seconds to create the sessions, acquire by acquire. */
    oursFillSecs: number;
    crawleeFillSecs: number;
}

export interface CoreResult extends PartResult {
    rows: CoreRow[];
    memory: { sessions: number; oursCreatedBytes: number; oursRestoredBytes: number; crawleeBytes: number } | undefined;
    persistence: {
        sessions: number;
        oursPersistSecs: number;
        oursRestoreSecs: number;
        crawleePersistSecs: number;
        crawleeRestoreSecs: number;
        oursBytes: number;
        crawleeBytes: number;
    };
}

const PROXIES = Array.from({ length: 100 }, (_, i) => `http://127.0.0.1:${20_000 + i}`);

function requestsFor(pools: number): { url: string; userData: { sessionPool: string } }[] {
    return Array.from({ length: pools }, (_, i) => ({ url: 'http://site.test/', userData: { sessionPool: `pool-${i}` } }));
}

function seconds(since: bigint): number {
    return Number(process.hrtime.bigint() - since) / 1e9;
}

/** An in-memory store that serializes like a KeyValueStore would (JSON), so persist/restore pay for it. */
class MemoryStore implements SessionStore {
    json: string | undefined;
    async load(): Promise<unknown> {
        return this.json === undefined ? undefined : JSON.parse(this.json);
    }
    async save(state: PersistedState): Promise<void> {
        this.json = JSON.stringify(state);
    }
}

async function openOurs(sessions: number, pools: number, random: Random, store?: SessionStore): Promise<SessionManager> {
    return SessionManager.open({
        proxyUrls: PROXIES,
        pool: { size: Math.max(1, Math.round(sessions / pools)) },
        store: store ? { custom: store } : false,
        statsIntervalSecs: 0,
        random,
        config: new Configuration({ persistStorage: false }),
    });
}

/** Creates every session of every pool: acquire until the pool is full (no report in between), then report them all. */
async function fillOurs(manager: SessionManager, sessions: number, pools: number): Promise<void> {
    const requests = requestsFor(pools);
    const perPool = Math.max(1, Math.round(sessions / pools));
    for (const request of requests) {
        const held: ManagedSession[] = [];
        for (let i = 0; i < perPool; i++) held.push(await manager.acquire(request));
        for (const s of held) manager.report(s, { type: 'ok' });
    }
}

/**
 * Times acquire + report pairs: `rounds` rounds of up to `ops` pairs or `budgetSecs` of wall time each (whichever ends
 * first), after one untimed warm-up round. Returns the median CPU microseconds (user + system) per pair: on a shared
 * machine wall time mostly measures the other processes.
 */
async function timeRounds(step: () => Promise<void>, ops: number, rounds: number, budgetSecs: number): Promise<number> {
    const perRound: number[] = [];
    for (let r = 0; r <= rounds; r++) {
        const started = process.hrtime.bigint();
        const cpu = process.cpuUsage();
        const budget = BigInt(Math.round(budgetSecs * 1e9));
        let done = 0;
        while (done < ops) {
            await step();
            done++;
            if ((done & 63) === 0 && process.hrtime.bigint() - started > budget) break;
        }
        const used = process.cpuUsage(cpu);
        if (r > 0) perRound.push((used.user + used.system) / done);
    }
    return median(perRound);
}

function oursStep(manager: SessionManager, pools: number, random: Random): () => Promise<void> {
    const requests = requestsFor(pools);
    return async () => {
        const s = await manager.acquire(requests[pools === 1 ? 0 : randomInt(random, pools)]!);
        manager.report(s, { type: 'ok' });
    };
}

async function openCrawlee(sessions: number, pools: number, config: Configuration, persist = false): Promise<SessionPool[]> {
    const perPool = Math.max(1, Math.round(sessions / pools));
    const out: SessionPool[] = [];
    for (let i = 0; i < pools; i++) {
        out.push(await SessionPool.open({ maxPoolSize: perPool, persistStateKey: `BENCH_POOL_${i}`, persistenceOptions: { enable: persist } }, config));
    }
    return out;
}

/** Crawlee fills a pool by itself: getSession() creates a session while the pool has room. */
async function fillCrawlee(pools: SessionPool[], perPool: number): Promise<void> {
    for (const pool of pools) {
        const held: Session[] = [];
        for (let i = 0; i < perPool; i++) held.push((await pool.getSession())!);
        for (const s of held) s.markGood();
    }
}

function crawleeStep(pools: SessionPool[], random: Random): () => Promise<void> {
    return async () => {
        const pool = pools[pools.length === 1 ? 0 : randomInt(random, pools.length)]!;
        (await pool.getSession())!.markGood();
    };
}

function heapUsed(): number {
    collectGarbage();
    return process.memoryUsage().heapUsed;
}

export async function runCore(options: CoreBenchOptions = {}): Promise<CoreResult> {
    const seed = options.seed ?? 1;
    const progress = options.progress ?? ((line: string) => process.stderr.write(`${line}\n`));
    const started = process.hrtime.bigint();
    const smoke = options.smoke ?? false;
    const sizes = smoke ? [200, 2_000] : [1_000, 10_000, 100_000];
    // Many pools first: the heap per session is measured there, before any 100k-session Crawlee pool (whose storage
    // Crawlee keeps in process-wide caches) exists.
    const layouts = smoke ? [100, 1] : [1_000, 1];
    const largest = sizes[sizes.length - 1]!;
    // At most 20,000 pairs per round: fewer than 50 uses per session at 1k sessions (the default max uses of both
    // pools), so nothing gets used up and this measures picking, not churn.
    const ops = smoke ? 2_000 : 20_000;
    const rounds = smoke ? 1 : 3;
    const budgetSecs = smoke ? 0.3 : 0.75;
    const canMeasureMemory = collectGarbage();
    const previousLevel = crawleeLog.getLevel();
    crawleeLog.setLevel(LogLevel.OFF);
    const rows: CoreRow[] = [];
    const memory = { sessions: largest, oursCreatedBytes: NaN, oursRestoredBytes: NaN, crawleeBytes: NaN };
    const persistence = { sessions: largest, oursPersistSecs: NaN, oursRestoreSecs: NaN, crawleePersistSecs: NaN, crawleeRestoreSecs: NaN, oursBytes: NaN, crawleeBytes: NaN };
    try {
        for (const sessions of sizes) {
            for (const pools of layouts) {
                const random = mulberry32(seed * 7919 + sessions + pools);
                const tracked = sessions === largest && pools === layouts[0];
                // sessionpack
                let heapBefore = heapUsed();
                let t = process.hrtime.bigint();
                const store = new MemoryStore();
                const manager = await openOurs(sessions, pools, random, tracked ? store : undefined);
                await fillOurs(manager, sessions, pools);
                const oursFillSecs = seconds(t);
                if (tracked && canMeasureMemory) memory.oursCreatedBytes = (heapUsed() - heapBefore) / sessions;
                const oursMicros = await timeRounds(oursStep(manager, pools, random), ops, rounds, budgetSecs);
                if (tracked) {
                    t = process.hrtime.bigint();
                    await manager.persist();
                    persistence.oursPersistSecs = seconds(t);
                    persistence.oursBytes = store.json!.length;
                }
                await manager.close();
                if (tracked) {
                    heapBefore = heapUsed();
                    t = process.hrtime.bigint();
                    const restored = await openOurs(sessions, pools, random, store);
                    persistence.oursRestoreSecs = seconds(t);
                    if (canMeasureMemory) memory.oursRestoredBytes = (heapUsed() - heapBefore) / sessions;
                    // Every session the store held comes back (a few may have been used up by the timed rounds and retired).
                    const saved = Object.values((JSON.parse(store.json!) as PersistedState).pools).reduce((n, p) => n + p.sessions.length, 0);
                    const live = restored.stats().totals.sessions;
                    if (live.ready + live.cooling !== saved || saved < sessions * 0.95) {
                        throw new Error(`restored ${live.ready + live.cooling} of ${saved} stored sessions (${sessions} created)`);
                    }
                    await restored.close();
                }

                // Crawlee, with Math.random seeded (its pool picks with it)
                const config = new Configuration({ persistStorage: false });
                const crawlee = await withSeededMathRandom(mulberry32(seed * 104_729 + sessions + pools), async () => {
                    const before = heapUsed();
                    const t0 = process.hrtime.bigint();
                    const crawleePools = await openCrawlee(sessions, pools, config, sessions === largest && pools === 1);
                    await fillCrawlee(crawleePools, Math.max(1, Math.round(sessions / pools)));
                    const fill = seconds(t0);
                    const bytes = (heapUsed() - before) / sessions;
                    const micros = await timeRounds(crawleeStep(crawleePools, random), ops, rounds, budgetSecs);
                    const extra = { persistSecs: NaN, restoreSecs: NaN, stateBytes: NaN };
                    if (sessions === largest && pools === 1) {
                        const [pool] = crawleePools;
                        let t1 = process.hrtime.bigint();
                        await pool!.persistState();
                        extra.persistSecs = seconds(t1);
                        extra.stateBytes = JSON.stringify(pool!.getState()).length;
                        await pool!.teardown({ persistState: false });
                        t1 = process.hrtime.bigint();
                        const again = await SessionPool.open({ maxPoolSize: sessions, persistStateKey: 'BENCH_POOL_0' }, config);
                        extra.restoreSecs = seconds(t1);
                        if (again.usableSessionsCount !== sessions) throw new Error(`Crawlee restored ${again.usableSessionsCount} of ${sessions} sessions`);
                        await again.teardown({ persistState: false });
                    } else {
                        for (const p of crawleePools) await p.teardown({ persistState: false });
                    }
                    return { fill, bytes, micros, ...extra };
                });
                if (sessions === largest && pools === 1) {
                    if (canMeasureMemory) memory.crawleeBytes = crawlee.bytes;
                    persistence.crawleePersistSecs = crawlee.persistSecs;
                    persistence.crawleeRestoreSecs = crawlee.restoreSecs;
                    persistence.crawleeBytes = crawlee.stateBytes;
                }
                rows.push({ sessions, pools, oursMicros, crawleeMicros: crawlee.micros, oursFillSecs, crawleeFillSecs: crawlee.fill });
                progress(
                    `core: ${int(sessions)} sessions in ${int(pools)} pool(s): sessionpack ${fmt(oursMicros, 1)} CPU µs/op, Crawlee ${fmt(crawlee.micros, 1)} CPU µs/op ` +
                        `(create: ${fmt(oursFillSecs, 2)} s vs ${fmt(crawlee.fill, 2)} s)`,
                );
            }
        }
        return buildResult({ rows, memory: canMeasureMemory ? memory : undefined, persistence, seed, seconds: seconds(started), ops, rounds, budgetSecs });
    } finally {
        crawleeLog.setLevel(previousLevel);
    }
}

function buildResult(input: {
    rows: CoreRow[];
    memory: CoreResult['memory'];
    persistence: CoreResult['persistence'];
    seed: number;
    seconds: number;
    ops: number;
    rounds: number;
    budgetSecs: number;
}): CoreResult {
    const { memory, persistence } = input;
    const rows = [...input.rows].sort((a, b) => a.pools - b.pools || a.sessions - b.sessions);
    const speed: Table = {
        title: 'acquire + report (sessionpack) vs getSession + markGood (Crawlee SessionPool), one at a time',
        columns: ['sessions', 'pools', 'sessionpack CPU µs/op', 'sessionpack ops/CPU s', 'Crawlee CPU µs/op', 'Crawlee ops/CPU s', 'sessionpack ÷ Crawlee (time per op)', 'create all: sessionpack', 'create all: Crawlee'],
        rows: rows.map((r) => [
            int(r.sessions),
            int(r.pools),
            fmt(r.oursMicros, 1),
            int(1e6 / r.oursMicros),
            fmt(r.crawleeMicros, 1),
            int(1e6 / r.crawleeMicros),
            times(r.oursMicros, r.crawleeMicros),
            `${fmt(r.oursFillSecs, 2)} s`,
            `${fmt(r.crawleeFillSecs, 2)} s`,
        ]),
        notes: [
            `Median of ${input.rounds} rounds after a warm-up round; a round is ${int(input.ops)} pairs or ${input.budgetSecs} s, whichever ends first ` +
                '(on average fewer than 50 uses per session, so this measures picking rather than churn). In the many-pool layout each pair goes to a ' +
                'pool picked at random. "sessionpack ÷ Crawlee" below 1 means sessionpack is faster.',
            '"create all": every session created acquire by acquire (held until its pool is full, then reported).',
            'µs/op is CPU time of this process (user + system, GC threads included) per pair, the same clock for both; "create all" is wall time.',
        ],
    };
    const tables: Table[] = [speed];
    const stateRows: (string | number)[][] = [];
    if (memory) {
        stateRows.push(
            [`heap per live session, created (${int(memory.sessions)})`, `${fmt(memory.oursCreatedBytes, 0)} B`, `${fmt(memory.crawleeBytes, 0)} B`],
            [`heap per live session, restored (${int(memory.sessions)})`, `${fmt(memory.oursRestoredBytes, 0)} B`, 'not measured'],
        );
    } else stateRows.push(['heap per live session', 'not measured (needs node --expose-gc)', '']);
    stateRows.push(
        [`persist ${int(persistence.sessions)} sessions`, `${fmt(persistence.oursPersistSecs, 2)} s`, `${fmt(persistence.crawleePersistSecs, 2)} s`],
        [`restore ${int(persistence.sessions)} sessions`, `${fmt(persistence.oursRestoreSecs, 2)} s`, `${fmt(persistence.crawleeRestoreSecs, 2)} s`],
        ['state size (JSON)', `${fmt(persistence.oursBytes / 2 ** 20, 1)} MiB`, `${fmt(persistence.crawleeBytes / 2 ** 20, 1)} MiB`],
    );
    tables.push({
        title: 'memory and persistence',
        columns: ['', 'sessionpack', 'Crawlee SessionPool'],
        rows: stateRows,
        notes: [
            'sessionpack: the sessions spread over the many-pool layout, persisted to a custom in-memory store that JSON-serializes the state ' +
                '(proxy health included) and restored by `SessionManager.open()` from it. Crawlee: one SessionPool of the same size, persisted to an ' +
                'in-memory KeyValueStore (`persistStorage: false`) and restored by `SessionPool.open()`. Heap: `heapUsed` after a forced GC, before and after.',
        ],
    });

    const verdicts: string[] = [];
    for (const pools of [...new Set(rows.map((r) => r.pools))]) {
        const of = rows.filter((r) => r.pools === pools);
        const lo = of[0]!;
        const hi = of[of.length - 1]!;
        const growth = hi.oursMicros / lo.oursMicros;
        verdicts.push(
            `${pools === 1 ? 'one pool' : `${int(pools)} pools`}: sessionpack's cost per op from ${int(lo.sessions)} to ${int(hi.sessions)} sessions ` +
                `x${fmt(growth, 2)} (bar: within 1.5x: ${growth <= 1.5 ? 'met' : 'MISSED'}); at ${int(hi.sessions)} sessions sessionpack is ` +
                `${hi.crawleeMicros > hi.oursMicros ? `${fmt(hi.crawleeMicros / hi.oursMicros, 2)}x faster than` : `${fmt(hi.oursMicros / hi.crawleeMicros, 2)}x slower than`} Crawlee's pool.`,
        );
    }
    return { part: 'core', seeds: [input.seed], seconds: input.seconds, tables, verdicts, rows, memory, persistence };
}
