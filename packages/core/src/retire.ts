/**
 * Retiring a session (any reason): it leaves its pool at once, its reason is scrubbed of proxy credentials, the
 * counters, the crawl timeline and the store hear of it, `sessionRetired` is emitted and the pool's waiters wake.
 */
import type { Clock } from './clock.js';
import type { SessionEvents } from './events.js';
import { usedUp } from './outcomes.js';
import type { StateSaver } from './persistence.js';
import type { Pool } from './pool.js';
import { DIRECT_PROXY_ID, type ProxySource } from './proxies.js';
import type { Redactor } from './redact.js';
import type { ManagedSession } from './session.js';
import type { StatsCounters } from './stats.js';
import type { CrawlTimeline } from './timeline.js';

/** What a retirement touches (one object per manager). */
export interface RetireDeps {
    pools: ReadonlyMap<string, Pool>;
    /** Live sessions by id (the factory's). */
    live: Map<string, ManagedSession>;
    proxies: ProxySource;
    redactor: Redactor;
    counters: StatsCounters;
    timeline: CrawlTimeline | undefined;
    saver: StateSaver | undefined;
    events: SessionEvents;
    clock: Clock;
}

/** Retires `session` for `reason` (nothing when it already is). */
export function retireSession(d: RetireDeps, session: ManagedSession, reason: string): void {
    const s = session.real;
    if (s.isRetired) return;
    const safe = d.redactor.text(reason);
    s.markRetired(safe);
    const pool = d.pools.get(s.poolKey);
    pool?.remove(s, safe);
    // Through a gateway a used-up session's URL (its exit) is known to serve: the next new session takes it.
    if (d.proxies.dynamic && s.identity.proxy && usedUp(reason)) pool?.scheduler.reuseLater(s.identity.proxy.id);
    d.live.delete(s.id);
    d.counters.inc(s.poolKey, 'session/retired');
    d.timeline?.ended(s, safe, d.clock.now());
    d.saver?.sessionRetired(s.poolKey, { id: s.id, proxyId: s.identity.proxy?.id ?? DIRECT_PROXY_ID, reason: safe }, s);
    d.events.emit('sessionRetired', s);
    pool?.notify();
}
