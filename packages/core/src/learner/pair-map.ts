/**
 * A map keyed by (proxy id, site) that looks up without building a joined key string: the learner's per-use records
 * are read on every hand-out and outcome, and a fresh `${proxy}\u0000${site}` per lookup costs more than the lookup.
 *
 * Pairs are interned ({@link Pairs}): a caller that holds a pair (a pool's proxy slot does, through its health handle)
 * reads every map sharing the interning by the pair's index ({@link PairMap.at}): one array read instead of two hash
 * lookups in cold tables. With 1,000 pools every use lands in a cold pool, and each lookup there is a cache miss.
 */

/** An interned (proxy id, site). */
export interface Pair {
    readonly proxyId: string;
    readonly site: string;
    /** Its index in the maps of {@link owner}. */
    readonly index: number;
    readonly owner: Pairs;
}

/** The interning of pairs shared by the maps of one learner. */
export class Pairs {
    private readonly bySite = new Map<string, Map<string, Pair>>();
    private count = 0;

    /** The pair (interned on first use). */
    of(proxyId: string, site: string): Pair {
        let m = this.bySite.get(site);
        if (!m) this.bySite.set(site, (m = new Map()));
        let p = m.get(proxyId);
        if (!p) m.set(proxyId, (p = { proxyId, site, index: this.count++, owner: this }));
        return p;
    }

    /** The pair if it was interned. */
    find(proxyId: string, site: string): Pair | undefined {
        return this.bySite.get(site)?.get(proxyId);
    }
}

export class PairMap<V> {
    private readonly bySite = new Map<string, Map<string, V>>();
    /** By pair index: the same values, for {@link at}. */
    private readonly byIndex: (V | undefined)[] = [];
    private count = 0;

    constructor(private readonly pairs: Pairs = new Pairs()) {}

    get size(): number {
        return this.count;
    }

    get(proxyId: string, site: string): V | undefined {
        return this.bySite.get(site)?.get(proxyId);
    }

    /** The value of an interned pair (one array read when the pair is of this map's interning). */
    at(pair: Pair): V | undefined {
        return pair.owner === this.pairs ? this.byIndex[pair.index] : this.get(pair.proxyId, pair.site);
    }

    set(proxyId: string, site: string, value: V): void {
        let m = this.bySite.get(site);
        if (!m) this.bySite.set(site, (m = new Map()));
        if (!m.has(proxyId)) this.count++;
        m.set(proxyId, value);
        const i = this.pairs.of(proxyId, site).index;
        // Filled up to i (never a sparse array: V8 would turn it into a dictionary).
        while (this.byIndex.length <= i) this.byIndex.push(undefined);
        this.byIndex[i] = value;
    }

    delete(proxyId: string, site: string): boolean {
        const m = this.bySite.get(site);
        if (!m?.delete(proxyId)) return false;
        this.count--;
        if (m.size === 0) this.bySite.delete(site);
        const p = this.pairs.find(proxyId, site);
        if (p && p.index < this.byIndex.length) this.byIndex[p.index] = undefined;
        return true;
    }

    /** Every entry as (proxy id, site, value), sites in first-use order. */
    *entries(): IterableIterator<[string, string, V]> {
        for (const [site, m] of this.bySite) for (const [proxyId, v] of m) yield [proxyId, site, v];
    }
}
