/**
 * A map keyed by (proxy id, site) that looks up without building a joined key string: the learner's per-use records
 * are read on every hand-out and outcome, and a fresh `${proxy}\u0000${site}` per lookup costs more than the lookup.
 */
export class PairMap<V> {
    private readonly bySite = new Map<string, Map<string, V>>();
    private count = 0;

    get size(): number {
        return this.count;
    }

    get(proxyId: string, site: string): V | undefined {
        return this.bySite.get(site)?.get(proxyId);
    }

    set(proxyId: string, site: string, value: V): void {
        let m = this.bySite.get(site);
        if (!m) this.bySite.set(site, (m = new Map()));
        if (!m.has(proxyId)) this.count++;
        m.set(proxyId, value);
    }

    delete(proxyId: string, site: string): boolean {
        const m = this.bySite.get(site);
        if (!m?.delete(proxyId)) return false;
        this.count--;
        if (m.size === 0) this.bySite.delete(site);
        return true;
    }

    /** Every entry as (proxy id, site, value), sites in first-use order. */
    *entries(): IterableIterator<[string, string, V]> {
        for (const [site, m] of this.bySite) for (const [proxyId, v] of m) yield [proxyId, site, v];
    }
}
