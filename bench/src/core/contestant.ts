/**
 * One contestant of the core part in a process of its own (forked by `./index.ts`): sessionpack's SessionManager or
 * Crawlee's SessionPool(s), filled to one size and layout, then timed round by round when the parent asks. A process
 * each, so that neither contestant's garbage collections mark the other's heap (CPU time counts the GC threads) and
 * nothing is left over from an earlier configuration.
 *
 * Protocol (IPC): argv[2] is a {@link ContestantSpec}; the child fills and sends a {@link Filled}; then for every
 * `{ kind: 'round', ops }` it collects garbage, idles until its GC threads are done ({@link settle}: on nobody's
 * clock), runs `ops` pairs and answers a {@link RoundResult}; `{ kind: 'finish' }` measures persistence (when asked in
 * the spec), answers a {@link Finished} and exits.
 */
import { setTimeout as sleep } from 'node:timers/promises';

import { Configuration, log as crawleeLog, LogLevel, SessionPool, type Session } from '@crawlee/core';
import { SessionManager, type ManagedSession, type PersistedState, type SessionStore } from '@sessionpack/core';

import { mulberry32, randomInt, type Random } from '../shared/prng.js';
import { collectGarbage } from '../shared/stats.js';

export interface ContestantSpec {
    who: 'sessionpack' | 'crawlee';
    sessions: number;
    pools: number;
    seed: number;
    /** Raised above the pairs any session gets, for both contestants: the rounds measure picking, not churn. */
    maxUses: number;
    /** Measure persistence (persist, and restore into a new pool or manager) at `finish`; also the restored heap (sessionpack). */
    persistence: boolean;
}

export interface Filled {
    kind: 'filled';
    /** Wall seconds to create every session, acquire by acquire. */
    fillSecs: number;
    /** Heap per live session after forced GCs (NaN without --expose-gc). */
    bytesPerSession: number;
}

export interface RoundResult {
    kind: 'round';
    /** CPU microseconds (user + system, every thread of this process) per pair. */
    cpuMicros: number;
    wallMicros: number;
}

export interface Finished {
    kind: 'finished';
    persistSecs: number;
    restoreSecs: number;
    stateBytes: number;
    restoredBytesPerSession: number;
}

export type ContestantRequest = { kind: 'round'; ops: number } | { kind: 'finish' };

/** Idle steps after the forced GC before a round (wall time only): see {@link settle}. */
const SETTLE_MILLIS = 25;

/**
 * A forced GC, then idle until this process spends (almost) no CPU while it waits (at most 2 s): the collection's
 * background work (concurrent sweeping of the whole heap, longer for a larger heap) ends before the clock starts
 * instead of running on the next round's CPU time.
 */
async function settle(): Promise<void> {
    collectGarbage();
    for (let i = 0; i < 2000 / SETTLE_MILLIS; i++) {
        const cpu = process.cpuUsage();
        await sleep(SETTLE_MILLIS);
        const used = process.cpuUsage(cpu);
        if (used.user + used.system < 1000) return;
    }
}

const PROXIES = Array.from({ length: 100 }, (_, i) => `http://127.0.0.1:${20_000 + i}`);

function seconds(since: bigint): number {
    return Number(process.hrtime.bigint() - since) / 1e9;
}

function heapUsed(): number {
    return collectGarbage() ? process.memoryUsage().heapUsed : NaN;
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

interface Contestant {
    /** Loads and runs once what the first session of a process pays for (modules, lazy data, JIT), on a throwaway pool. */
    prime(): Promise<void>;
    fill(): Promise<void>;
    /** `ops` pairs, each on the pool `pick` names. */
    run(ops: number, pick: () => number): Promise<void>;
    finish(): Promise<Omit<Finished, 'kind'>>;
}

function sessionpack(spec: ContestantSpec, perPool: number): Contestant {
    const random = mulberry32(spec.seed * 7919 + spec.sessions + spec.pools);
    const store = new MemoryStore();
    const requests = Array.from({ length: spec.pools }, (_, i) => ({ url: 'http://site.test/', userData: { sessionPool: `pool-${i}` } }));
    const open = (size = perPool, withRandom = random, withStore: SessionStore | undefined = spec.persistence ? store : undefined) =>
        SessionManager.open({
            proxyUrls: PROXIES,
            pool: { size, maxUses: spec.maxUses },
            store: withStore ? { custom: withStore } : false,
            statsIntervalSecs: 0,
            random: withRandom,
            config: new Configuration({ persistStorage: false }),
        });
    let manager: SessionManager | undefined;
    return {
        async prime() {
            const m = await open(1, mulberry32(1), undefined);
            m.report(await m.acquire(requests[0]!), { type: 'ok' });
            await m.close();
        },
        async fill() {
            manager = await open();
            // Acquire until the pool is full (no report in between), then report them all.
            for (const request of requests) {
                const held: ManagedSession[] = [];
                for (let i = 0; i < perPool; i++) held.push(await manager.acquire(request));
                for (const s of held) manager.report(s, { type: 'ok' });
            }
        },
        async run(ops, pick) {
            const m = manager!;
            for (let i = 0; i < ops; i++) {
                const s = await m.acquire(requests[pick()]!);
                m.report(s, { type: 'ok' });
            }
        },
        async finish() {
            const out = { persistSecs: NaN, restoreSecs: NaN, stateBytes: NaN, restoredBytesPerSession: NaN };
            if (!spec.persistence) {
                await manager!.close();
                return out;
            }
            let t = process.hrtime.bigint();
            await manager!.persist();
            out.persistSecs = seconds(t);
            out.stateBytes = store.json!.length;
            await manager!.close();
            manager = undefined;
            const before = heapUsed();
            t = process.hrtime.bigint();
            const restored = await open();
            out.restoreSecs = seconds(t);
            out.restoredBytesPerSession = (heapUsed() - before) / spec.sessions;
            // Every session the store held comes back.
            const saved = Object.values((JSON.parse(store.json!) as PersistedState).pools).reduce((n, p) => n + p.sessions.length, 0);
            const live = restored.stats().totals.sessions;
            if (live.ready + live.cooling !== saved || saved < spec.sessions * 0.95) {
                throw new Error(`restored ${live.ready + live.cooling} of ${saved} stored sessions (${spec.sessions} created)`);
            }
            await restored.close();
            return out;
        },
    };
}

/** Crawlee, with `Math.random` replaced by a seeded stream for the whole life of the process (its pool picks with it). */
function crawlee(spec: ContestantSpec, perPool: number): Contestant {
    Math.random = mulberry32(spec.seed * 104_729 + spec.sessions + spec.pools);
    const config = new Configuration({ persistStorage: false });
    const pools: SessionPool[] = [];
    return {
        async prime() {
            const pool = await SessionPool.open({ maxPoolSize: 1, persistStateKey: 'BENCH_PRIME', persistenceOptions: { enable: false } }, config);
            (await pool.getSession())!.markGood();
            await pool.teardown({ persistState: false });
        },
        async fill() {
            for (let i = 0; i < spec.pools; i++) {
                const options = { maxPoolSize: perPool, persistStateKey: `BENCH_POOL_${i}`, persistenceOptions: { enable: spec.persistence } };
                pools.push(await SessionPool.open({ ...options, sessionOptions: { maxUsageCount: spec.maxUses } }, config));
            }
            // Crawlee fills a pool by itself: getSession() creates a session while the pool has room.
            for (const pool of pools) {
                const held: Session[] = [];
                for (let i = 0; i < perPool; i++) held.push((await pool.getSession())!);
                for (const s of held) s.markGood();
            }
        },
        async run(ops, pick) {
            for (let i = 0; i < ops; i++) (await pools[pick()]!.getSession())!.markGood();
        },
        async finish() {
            const out = { persistSecs: NaN, restoreSecs: NaN, stateBytes: NaN, restoredBytesPerSession: NaN };
            if (!spec.persistence) {
                for (const p of pools) await p.teardown({ persistState: false });
                return out;
            }
            const [pool] = pools;
            let t = process.hrtime.bigint();
            await pool!.persistState();
            out.persistSecs = seconds(t);
            out.stateBytes = JSON.stringify(pool!.getState()).length;
            await pool!.teardown({ persistState: false });
            t = process.hrtime.bigint();
            const again = await SessionPool.open({ maxPoolSize: spec.sessions, persistStateKey: 'BENCH_POOL_0' }, config);
            out.restoreSecs = seconds(t);
            if (again.usableSessionsCount !== spec.sessions) throw new Error(`Crawlee restored ${again.usableSessionsCount} of ${spec.sessions} sessions`);
            await again.teardown({ persistState: false });
            return out;
        },
    };
}

async function main(): Promise<void> {
    const spec = JSON.parse(process.argv[2]!) as ContestantSpec;
    crawleeLog.setLevel(LogLevel.OFF);
    const perPool = Math.max(1, Math.round(spec.sessions / spec.pools));
    const contestant = spec.who === 'sessionpack' ? sessionpack(spec, perPool) : crawlee(spec, perPool);
    // Both contestants get the same sequence of pools, op by op.
    const pickRandom: Random = mulberry32(spec.seed * 31 + spec.sessions + spec.pools);
    const pick = spec.pools === 1 ? () => 0 : () => randomInt(pickRandom, spec.pools);
    await contestant.prime();
    const before = heapUsed();
    const t = process.hrtime.bigint();
    await contestant.fill();
    const fillSecs = seconds(t);
    const send = (message: Filled | RoundResult | Finished) => new Promise<void>((resolve, reject) => process.send!(message, (e: Error | null) => (e ? reject(e) : resolve())));
    await send({ kind: 'filled', fillSecs, bytesPerSession: (heapUsed() - before) / spec.sessions });
    process.on('message', (request: ContestantRequest) => {
        void (async () => {
            if (request.kind === 'round') {
                await settle();
                const wall = process.hrtime.bigint();
                const cpu = process.cpuUsage();
                await contestant.run(request.ops, pick);
                const used = process.cpuUsage(cpu);
                await send({ kind: 'round', cpuMicros: (used.user + used.system) / request.ops, wallMicros: Number(process.hrtime.bigint() - wall) / 1e3 / request.ops });
            } else {
                await send({ kind: 'finished', ...(await contestant.finish()) });
                process.exit(0);
            }
        })().catch((e: unknown) => {
            process.stderr.write(`core contestant ${spec.who}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
            process.exit(1);
        });
    });
}

await main();
