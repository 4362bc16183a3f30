/**
 * Where the hard scenario's gateway waste goes (a debug run, not part of `pnpm bench`):
 * `BENCH_SEED=N node --expose-gc bench/dist/e2e/gateway-breakdown.js` runs the sessionpack crawl of the gateway run
 * (the same crawl as hard.ts) and splits the site's log: each wasted response by kind (block or 429), whether it
 * opened an episode (hard.ts's count) or repeated one, whether its exit was banned at the start, and whether it was a
 * new visitor's first request (no cookie yet: a new session id's first use); then per exit IP. `BENCH_TRACE=1` also
 * prints, for each exit with waste, its requests in order (seconds since the start, the site cookie, the kind).
 * `BENCH_SEEDS=1,2,3` runs several seeds one after the other and ends with their totals (wasted per episode pooled).
 * `BENCH_MANAGER_OPTIONS='{"pool":{"size":10}}'` (JSON) adds SessionManager options to the crawl, for experiments;
 * without it the crawl is exactly hard.ts's.
 */
import { log as crawleeLog, LogLevel } from '@crawlee/core';
import type { SessionManagerOptions } from '@sessionpack/core';
import { type GroundTruth, startProvingGround } from '@sessionpack/proving-ground';

import { derive, withSeededMathRandom } from '../shared/prng.js';
import { cheerio, countEpisodes } from './hard.js';

const WASTE_KINDS = new Set(['forbidden', 'challenge', 'soft-block', 'captcha', 'rate-limited']);

/** Counts of wasted responses by class, and the first-seconds ones, from the site's log. */
export function breakdown(truth: GroundTruth, bannedAtStart: ReadonlySet<string>, earlyMillis = 3000): Record<string, number> {
    const requests = truth.requests.filter((e) => e.kind !== 'beacon');
    const start = requests[0]?.t ?? 0;
    const blockedRun = new Set<string>();
    const limited = new Set<string>();
    const capped = new Set<string>();
    const counts: Record<string, number> = {};
    for (const e of requests) {
        if (!WASTE_KINDS.has(e.kind)) {
            blockedRun.delete(e.ip);
            continue;
        }
        const visitor = e.sid === undefined ? 'new id' : 'known visitor';
        let name: string;
        if (e.reason === 'usage-cap') {
            name = `usage cap ${capped.has(e.sid ?? '') ? 'repeat' : 'episode'}`;
            capped.add(e.sid ?? '');
        } else if (e.kind === 'rate-limited') {
            name = `429 ${limited.has(e.ip) ? 'repeat' : 'episode'}, ${visitor}`;
            limited.add(e.ip);
        } else {
            name = `block on an exit ${bannedAtStart.has(e.ip) ? 'banned at the start' : 'burnt by drift'} ${blockedRun.has(e.ip) ? 'repeat' : 'episode'}, ${visitor}`;
            blockedRun.add(e.ip);
        }
        const when = e.t - start < earlyMillis ? ` (first ${earlyMillis / 1000} s)` : '';
        counts[name + when] = (counts[name + when] ?? 0) + 1;
    }
    return counts;
}

async function main(): Promise<void> {
    crawleeLog.setLevel(LogLevel.OFF);
    const seeds = (process.env.BENCH_SEEDS ?? process.env.BENCH_SEED ?? '1').split(',').map(Number);
    const extra = process.env.BENCH_MANAGER_OPTIONS ? (JSON.parse(process.env.BENCH_MANAGER_OPTIONS) as Partial<SessionManagerOptions>) : {};
    const total = { wasted: 0, episodes: 0, seconds: 0 };
    for (const seed of seeds) {
        const run = await oneSeed(seed, extra);
        total.wasted += run.wasted;
        total.episodes += run.episodes;
        total.seconds += run.seconds;
    }
    if (seeds.length > 1) {
        console.log(
            `seeds ${seeds.join(',')}: ${total.wasted} wasted in ${total.episodes} episodes: ${(total.wasted / Math.max(1, total.episodes)).toFixed(2)} per episode, ` +
                `${(total.seconds / seeds.length).toFixed(1)} s per run`,
        );
    }
}

async function oneSeed(seed: number, extra: Partial<SessionManagerOptions>): Promise<{ wasted: number; episodes: number; seconds: number }> {
    const pg = await startProvingGround({ scenario: 'hard', seed });
    try {
        pg.reset();
        const bannedAtStart = new Set(pg.gateway!.exits.filter((e) => e.banned).map((e) => e.ip));
        const row = await withSeededMathRandom(derive(seed, 'e2e-hard', 'gateway', 'sessionpack', 'math-random'), () => cheerio(pg, 'gateway', 'sessionpack', 400, seed, extra));
        const truth = pg.stats();
        console.log(`seed ${seed}: ${row.pagesDone}/${row.pagesWanted} pages, ${row.wasted} wasted (${row.blocked} blocked, ${row.rateLimited} 429s) in ${countEpisodes(truth)} episodes, ${row.seconds.toFixed(1)} s`);
        for (const [name, n] of Object.entries(breakdown(truth, bannedAtStart)).sort()) console.log(`${String(n).padStart(4)}  ${name}`);
        const byIp = new Map<string, { requests: number; wasted: number; visitors: Set<string> }>();
        for (const e of truth.requests) {
            const b = byIp.get(e.ip) ?? { requests: 0, wasted: 0, visitors: new Set() };
            b.requests++;
            if (WASTE_KINDS.has(e.kind)) b.wasted++;
            if (e.sid !== undefined) b.visitors.add(e.sid);
            byIp.set(e.ip, b);
        }
        for (const [ip, b] of [...byIp].sort()) {
            console.log(`${ip.padEnd(12)}${bannedAtStart.has(ip) ? 'banned at start ' : '                '}${b.requests} requests, ${b.wasted} wasted, ${b.visitors.size} site cookies`);
        }
        if (process.env.BENCH_TRACE === '1') trace(truth, byIp);
        return { wasted: row.wasted, episodes: row.episodes, seconds: row.seconds };
    } finally {
        await pg.close();
    }
}

/** Each exit with waste: its requests in order (seconds since the start, the site cookie or `new`, the kind). */
function trace(truth: GroundTruth, byIp: ReadonlyMap<string, { wasted: number }>): void {
    const requests = truth.requests.filter((e) => e.kind !== 'beacon');
    const start = requests[0]?.t ?? 0;
    const names = new Map<string, string>();
    for (const [ip, b] of [...byIp].sort()) {
        if (b.wasted === 0) continue;
        const line = requests
            .filter((e) => e.ip === ip)
            .map((e) => {
                const who = e.sid === undefined ? 'new' : (names.get(e.sid) ?? names.set(e.sid, `s${names.size + 1}`).get(e.sid)!);
                return `${((e.t - start) / 1000).toFixed(1)}:${who}:${e.kind === 'page' ? '.' : e.kind}`;
            });
        console.log(`${ip}: ${line.join(' ')}`);
    }
}

await main();
