/**
 * The crawl report's data, assembled from what the manager keeps: stats (the same numbers `manager.stats()` gives),
 * proxy health per (proxy, pool), and the {@link CrawlTimeline}. Proxies appear by id and `host:port`, never by URL.
 */
import type { ReportData, ReportPool, ReportProxy, ReportProxyHealth } from '@sessionpack/report';

import type { ProxyAvailability } from './health-model.js';
import type { LearnedHealth } from './learner/model.js';
import type { ManagerStats } from './stats.js';
import type { CrawlTimeline } from './timeline.js';
import type { ProxyRef } from './types.js';

/** What {@link buildReportData} reads. */
export interface ReportSources {
    stats: ManagerStats;
    health: LearnedHealth;
    /** The configured proxy of an id (for its `host:port`), if known. */
    proxyById(id: string): ProxyRef | undefined;
    timeline?: CrawlTimeline;
    now: number;
    title?: string;
    /** Per-pool figures a learner keeps (learned cap, ...), shown by name. */
    poolExtra?(key: string): Record<string, number | string> | undefined;
    /** Per-(proxy, pool) figures a learner keeps (learned pace, tier, ...), shown as columns by name. */
    proxyExtra?(proxyId: string, key: string): Record<string, number | string> | undefined;
}

/** `host:port` of a proxy (the protocol's default port when the URL has none); never the user name or password. */
export function proxyAddress(proxy: ProxyRef): string | undefined {
    try {
        const u = new URL(proxy.url);
        const port = u.port || (u.protocol === 'https:' ? '443' : u.protocol.startsWith('socks') ? '1080' : '80');
        return `${u.hostname}:${port}`;
    } catch {
        return undefined;
    }
}

/** The learned pace's next allowed use, when it holds a proxy back. */
function pacedUntil(src: ReportSources, proxyId: string, key: string): { pacedUntil?: number } {
    const at = src.health.learner.readyAt(proxyId, key, src.now);
    return at > src.now ? { pacedUntil: at } : {};
}

export function buildReportData(src: ReportSources): ReportData {
    const tallies = src.health.outcomeTallies();
    const keys = new Set([...Object.keys(src.stats.pools), ...(src.timeline?.keys() ?? [])]);
    const pools: ReportPool[] = [];
    for (const key of keys) {
        const stats = src.stats.pools[key];
        const proxies: ReportProxyHealth[] = [];
        for (const [proxyId, bySite] of tallies) {
            const r = bySite.get(key);
            if (!r) continue;
            const state: ProxyAvailability = src.health.availability(proxyId, key, src.now);
            const extra = src.proxyExtra?.(proxyId, key);
            proxies.push({
                proxyId,
                successes: r.successes,
                blocked: r.blocked,
                proxyFailures: r.proxyFailures,
                rateLimited: r.rateLimited,
                targetErrors: r.targetErrors,
                backoffs: r.backoffs,
                state,
                ...(pacedUntil(src, proxyId, key)),
                ...(extra ? { extra } : {}),
            });
        }
        const extra = src.poolExtra?.(key);
        const series = src.timeline?.series(key);
        pools.push({
            key,
            size: stats?.size ?? 0,
            counters: { ...(stats?.counters ?? {}) },
            sessions: { ...(stats?.sessions ?? {}) },
            ...(extra ? { extra } : {}),
            ...(series ? { series } : {}),
            reasons: src.timeline?.reasons(key) ?? [],
            endings: src.timeline?.endings(key) ?? [],
            proxies,
        });
    }
    const proxies: ReportProxy[] = [...tallies.keys()].map((id) => {
        const ref = src.proxyById(id);
        const address = ref ? proxyAddress(ref) : undefined;
        return address ? { id, address } : { id };
    });
    return {
        format: 'sessionpack-report',
        version: 1,
        generatedAt: new Date(src.now).toISOString(),
        ...(src.title ? { title: src.title } : {}),
        pools,
        proxies,
        proxySummary: { ...src.stats.proxies },
    };
}
