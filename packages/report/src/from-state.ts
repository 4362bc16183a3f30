/**
 * Report data from what a crawl left in its storage when no report data was saved: the sessionpack state record
 * (`SESSIONPACK_STATE`: proxy health by id, recently retired sessions) and the final stats (`SESSIONPACK_STATS`). Read
 * structurally, so this package does not depend on `@sessionpack/core`. There is no time series in such data.
 */
import { endingCategory } from './endings.js';
import type { ReportData, ReportEnding, ReportPool, ReportProxyHealth } from './types.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const numbers = (v: unknown): Record<string, number> =>
    isObj(v) ? Object.fromEntries(Object.entries(v).filter(([, x]) => typeof x === 'number')) as Record<string, number> : {};

function healthRow(proxyId: string, r: Obj, now: number): ReportProxyHealth {
    // The learner's records (core's default) keep faded counts (`ok`, `bad`), a backoff and a pace instead of totals.
    const backoff = isObj(r.backoff) ? r.backoff : undefined;
    const pace = isObj(r.pace) ? r.pace : undefined;
    const backoffUntil = backoff ? num(backoff.until) : num(r.backoffUntil);
    const state = r.banned ? 'banned' : backoffUntil > now ? 'backoff' : r.probing ? 'probing' : 'usable';
    const pacedUntil = typeof r.pacedUntil === 'number' ? r.pacedUntil : pace && typeof pace.pausedUntil === 'number' ? pace.pausedUntil : undefined;
    return {
        proxyId,
        successes: 'ok' in r ? Math.round(num(r.ok)) : num(r.successes),
        blocked: 'bad' in r ? Math.round(num(r.bad)) : num(r.blocked),
        proxyFailures: num(r.proxyFailures),
        rateLimited: num(r.rateLimited),
        targetErrors: num(r.targetErrors),
        backoffs: backoff ? num(backoff.level) : num(r.backoffs),
        state,
        ...(pacedUntil !== undefined ? { pacedUntil } : {}),
    };
}

/**
 * Builds report data from a stored state and (optionally) stored stats. Throws a TypeError naming what is wrong when
 * `state` is not a sessionpack state record.
 */
export function reportDataFromState(state: unknown, stats?: unknown, now = Date.now()): ReportData {
    if (!isObj(state) || !isObj(state.pools) || !isObj(state.health)) {
        throw new TypeError('sessionpack-report: the state record has no `pools` and `health` (is it a SESSIONPACK_STATE record?)');
    }
    const statPools = isObj(stats) && isObj(stats.pools) ? stats.pools : {};
    const keys = new Set([...Object.keys(state.pools), ...Object.keys(statPools)]);
    const health = state.health;
    const pools: ReportPool[] = [];
    for (const key of keys) {
        const p = isObj(state.pools[key]) ? (state.pools[key] as Obj) : {};
        const sp = isObj(statPools[key]) ? (statPools[key] as Obj) : {};
        const endings = new Map<string, ReportEnding>();
        for (const r of Array.isArray(p.retired) ? p.retired : []) {
            if (!isObj(r) || typeof r.reason !== 'string') continue;
            const category = endingCategory(r.reason);
            const e = endings.get(category) ?? { reason: category, count: 0 };
            e.count++;
            endings.set(category, e);
        }
        const proxies: ReportProxyHealth[] = [];
        for (const [proxyId, h] of Object.entries(health)) {
            const site = isObj(h) && isObj(h.sites) ? h.sites[key] : undefined;
            if (isObj(site)) proxies.push(healthRow(proxyId, site, now));
        }
        pools.push({
            key,
            size: num(sp.size),
            counters: numbers(sp.counters),
            sessions: numbers(sp.sessions),
            reasons: [],
            endings: [...endings.values()],
            proxies,
        });
    }
    return {
        format: 'sessionpack-report',
        version: 1,
        generatedAt: new Date(now).toISOString(),
        pools,
        proxies: Object.keys(health).map((id) => ({ id })),
        ...(isObj(stats) && isObj(stats.proxies) ? { proxySummary: stats.proxies as unknown as ReportData['proxySummary'] } : {}),
        notes: [
            'Drawn from the stored session state: no time series, no block reasons, and only the most recently retired sessions ' +
                '(the crawl saved no report data).',
        ],
    };
}
