/**
 * Core cost (`pnpm bench core`): what one acquire + report costs as the number of sessions grows, in one pool and
 * spread over 1,000 pools, against Crawlee's own `SessionPool.getSession()` + `markGood()` at the same sizes; memory
 * per session; time to persist and restore 100k sessions. No network: sessions are only bookkeeping here.
 *
 * How the per-op cost is timed (fair to both contestants, and why):
 * - Each contestant runs in a fresh process of its own for each configuration (`./contestant.ts`). CPU time counts the
 *   GC threads, and a major GC marks the whole heap: in one process, whoever is timed pays for marking the other's
 *   sessions too (branch perf4's same-process A/B, `bench/ab/core-ab.mjs`, charged Crawlee for our 100k sessions, ours
 *   for its), and each configuration inherited the garbage and the caches of the ones before it.
 * - Rounds alternate between the two processes (ABBA: sessionpack, Crawlee, Crawlee, sessionpack, ...), so the load of
 *   a shared machine drifts alike for both; the figure is the median of the timed rounds.
 * - Before every round the timed process collects garbage and idles until it spends no CPU while idle (its background
 *   GC threads are done; wall time only), so no round pays for GC work left from the fill or from earlier rounds; what
 *   a round allocates is collected on its own clock. (A fixed 50 ms idle was not enough after a GC of a 100k-session
 *   heap on a loaded machine: the concurrent sweeping spilled into the round.)
 * - Same warm-up (one untimed round after the fill), the same number of pairs per round, the same sequence of pools
 *   (one seeded stream each, the same seed) and the same use limit for both, raised above the pairs any session gets:
 *   with the default 50 uses, the 1k-session rows churned (sessions used up, retired and created) in later rounds,
 *   for both contestants, so they measured creation as much as picking.
 * - Only the contestant's own calls are in the timed loop (no closure or promise of the harness per pair).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { median } from '../shared/stats.js';
import { fmt, int, times, type PartResult, type Table } from '../shared/table.js';
import type { ContestantRequest, ContestantSpec, Filled, Finished, RoundResult } from './contestant.js';

export interface CoreBenchOptions {
    /** Tiny sizes for CI. */
    smoke?: boolean;
    seed?: number;
    /** Progress lines (stderr by default). */
    progress?: (line: string) => void;
}

/** One measured configuration. */
export interface CoreRow {
    sessions: number;
    pools: number;
    /** CPU microseconds per acquire + report pair (median of the rounds). */
    oursMicros: number;
    /** CPU microseconds per getSession + markGood pair. */
    crawleeMicros: number;
    /** Every timed round's figure, in order (the scatter behind the medians). */
    oursRounds: number[];
    crawleeRounds: number[];
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

/** A contestant's process: its fill result, and one request at a time answered in order. */
class Child {
    private readonly process: ChildProcess;
    private readonly replies: ((message: unknown) => void)[] = [];
    private failure: Error | undefined;
    private readonly failed: Promise<never>;

    constructor(spec: ContestantSpec) {
        const here = fileURLToPath(import.meta.url);
        // From the TypeScript sources (the smoke test under vitest): the same sources, through tsx.
        const fromSource = here.endsWith('.ts');
        const execArgv = fromSource
            ? ['--expose-gc', '--conditions=@sessionpack/source', '--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href]
            : ['--expose-gc'];
        this.process = fork(here.replace(/index\.(ts|js)$/, `contestant.$1`), [JSON.stringify(spec)], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        this.process.on('message', (m) => this.replies.shift()?.(m));
        this.failed = new Promise<never>((_, reject) => {
            const fail = (e: Error) => {
                this.failure ??= e;
                reject(this.failure);
            };
            this.process.once('error', fail);
            this.process.once('exit', (code) => fail(new Error(`core: the ${spec.who} process exited (code ${code})`)));
        });
        this.failed.catch(() => undefined);
    }

    private next<T>(): Promise<T> {
        if (this.failure) return Promise.reject(this.failure);
        return Promise.race([new Promise<T>((resolve) => this.replies.push(resolve as (m: unknown) => void)), this.failed]);
    }

    filled(): Promise<Filled> {
        return this.next<Filled>();
    }

    ask<T extends RoundResult | Finished>(request: ContestantRequest): Promise<T> {
        const reply = this.next<T>();
        this.process.send(request);
        return reply;
    }
}

export async function runCore(options: CoreBenchOptions = {}): Promise<CoreResult> {
    const seed = options.seed ?? 1;
    const progress = options.progress ?? ((line: string) => process.stderr.write(`${line}\n`));
    const started = process.hrtime.bigint();
    const smoke = options.smoke ?? false;
    const sizes = smoke ? [200, 2_000] : [1_000, 10_000, 100_000];
    const layouts = smoke ? [100, 1] : [1_000, 1];
    const largest = sizes[sizes.length - 1]!;
    const ops = smoke ? 2_000 : 40_000;
    const rounds = smoke ? 1 : 9;
    // Above the most pairs any session gets ((rounds + 1) x ops over the smallest size): nothing is used up.
    const maxUses = 1_000_000;
    const rows: CoreRow[] = [];
    const memory = { sessions: largest, oursCreatedBytes: NaN, oursRestoredBytes: NaN, crawleeBytes: NaN };
    const persistence = { sessions: largest, oursPersistSecs: NaN, oursRestoreSecs: NaN, crawleePersistSecs: NaN, crawleeRestoreSecs: NaN, oursBytes: NaN, crawleeBytes: NaN };
    for (const sessions of sizes) {
        for (const pools of layouts) {
            // sessionpack's heap, persistence and restore: the many-pool layout; Crawlee's: one SessionPool of the same size.
            const oursTracked = sessions === largest && pools === layouts[0];
            const crawleeTracked = sessions === largest && pools === 1;
            const spec = { sessions, pools, seed, maxUses };
            // Filled one after the other (fill times are wall time), then timed in alternation.
            const ours = new Child({ ...spec, who: 'sessionpack', persistence: oursTracked });
            const oursFill = await ours.filled();
            const crawlee = new Child({ ...spec, who: 'crawlee', persistence: crawleeTracked });
            const crawleeFill = await crawlee.filled();
            const oursRounds: number[] = [];
            const crawleeRounds: number[] = [];
            for (let r = 0; r <= rounds; r++) {
                const order: [Child, number[]][] = [
                    [ours, oursRounds],
                    [crawlee, crawleeRounds],
                ];
                if (r % 2 === 1) order.reverse();
                for (const [child, into] of order) {
                    const result = await child.ask<RoundResult>({ kind: 'round', ops });
                    if (r > 0) into.push(result.cpuMicros);
                }
            }
            const oursEnd = await ours.ask<Finished>({ kind: 'finish' });
            const crawleeEnd = await crawlee.ask<Finished>({ kind: 'finish' });
            if (oursTracked) {
                memory.oursCreatedBytes = oursFill.bytesPerSession;
                memory.oursRestoredBytes = oursEnd.restoredBytesPerSession;
                persistence.oursPersistSecs = oursEnd.persistSecs;
                persistence.oursRestoreSecs = oursEnd.restoreSecs;
                persistence.oursBytes = oursEnd.stateBytes;
            }
            if (crawleeTracked) {
                memory.crawleeBytes = crawleeFill.bytesPerSession;
                persistence.crawleePersistSecs = crawleeEnd.persistSecs;
                persistence.crawleeRestoreSecs = crawleeEnd.restoreSecs;
                persistence.crawleeBytes = crawleeEnd.stateBytes;
            }
            const row: CoreRow = {
                sessions,
                pools,
                oursMicros: median(oursRounds),
                crawleeMicros: median(crawleeRounds),
                oursRounds,
                crawleeRounds,
                oursFillSecs: oursFill.fillSecs,
                crawleeFillSecs: crawleeFill.fillSecs,
            };
            rows.push(row);
            progress(
                `core: ${int(sessions)} sessions in ${int(pools)} pool(s): sessionpack ${fmt(row.oursMicros, 2)} CPU µs/op ` +
                    `(rounds ${oursRounds.map((x) => fmt(x, 2)).join(' ')}), Crawlee ${fmt(row.crawleeMicros, 2)} (rounds ${crawleeRounds.map((x) => fmt(x, 2)).join(' ')}) ` +
                    `(create: ${fmt(row.oursFillSecs, 2)} s vs ${fmt(row.crawleeFillSecs, 2)} s)`,
            );
        }
    }
    const measured = Number.isFinite(memory.oursCreatedBytes);
    return buildResult({ rows, memory: measured ? memory : undefined, persistence, seed, seconds: seconds(started), ops, rounds });
}

function seconds(since: bigint): number {
    return Number(process.hrtime.bigint() - since) / 1e9;
}

function buildResult(input: {
    rows: CoreRow[];
    memory: CoreResult['memory'];
    persistence: CoreResult['persistence'];
    seed: number;
    seconds: number;
    ops: number;
    rounds: number;
}): CoreResult {
    const { memory, persistence } = input;
    const rows = [...input.rows].sort((a, b) => a.pools - b.pools || a.sessions - b.sessions);
    const speed: Table = {
        title: 'acquire + report (sessionpack) vs getSession + markGood (Crawlee SessionPool), one at a time',
        columns: ['sessions', 'pools', 'sessionpack CPU µs/op', 'sessionpack ops/CPU s', 'Crawlee CPU µs/op', 'Crawlee ops/CPU s', 'sessionpack ÷ Crawlee (time per op)', 'create all: sessionpack', 'create all: Crawlee'],
        rows: rows.map((r) => [
            int(r.sessions),
            int(r.pools),
            fmt(r.oursMicros, 2),
            int(1e6 / r.oursMicros),
            fmt(r.crawleeMicros, 2),
            int(1e6 / r.crawleeMicros),
            times(r.oursMicros, r.crawleeMicros),
            `${fmt(r.oursFillSecs, 2)} s`,
            `${fmt(r.crawleeFillSecs, 2)} s`,
        ]),
        notes: [
            `Median of ${input.rounds} rounds of ${int(input.ops)} pairs after a warm-up round; each contestant in a process of its own, rounds ` +
                'alternating between them (ABBA), a forced GC and an idle wait for its background work before every round; use limits raised for both so that no session is used ' +
                'up (this measures picking, not churn). In the many-pool layout each pair goes to a pool picked at random (the same sequence for both). ' +
                '"sessionpack ÷ Crawlee" below 1 means sessionpack is faster.',
            '"create all": every session created acquire by acquire (held until its pool is full, then reported).',
            'µs/op is CPU time of the contestant\'s process (user + system, GC threads included) per pair, the same clock for both; "create all" is wall time.',
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
                'in-memory KeyValueStore (`persistStorage: false`) and restored by `SessionPool.open()`. Heap: `heapUsed` after a forced GC, before and after (in the contestant\'s own process).',
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
