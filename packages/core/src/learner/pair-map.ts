/**
 * A map keyed by (proxy id, site) that looks up without building a joined key string: the learner's per-use records
 * are read on every hand-out and outcome, and a fresh `${proxy}\u0000${site}` per lookup costs more than the lookup.
 *
 * Pairs are interned ({@link Pairs}): a caller that holds a pair (a pool's proxy slot does, through its health handle)
 * reads every map sharing the interning on the pair itself ({@link PairMap.at}): each map of an interning owns one
 * place in every pair's `values`, so the records of one (proxy, site) in all maps are reached through one small array
 * allocated with the pair, instead of a hash lookup in a cold table (or a read of a long array at the pair's index)
 * per map. With 1,000 pools every use lands in a cold pool, and each of those reads is a cache miss.
 */

/** An interned (proxy id, site). */
export interface Pair {
    readonly proxyId: string;
    readonly site: string;
    readonly owner: Pairs;
    /** By map of {@link owner} (its `place`): the pair's value in that map (undefined: none). */
    readonly values: unknown[];
    /**
     * Version of what is learned of the pair, bumped by the health model at every change (a pool's cached draw of the
     * pair's score holds while it does not move). On the pair: a hand-out and a report read the pair anyway.
     */
    record: number;
    /** Its place in {@link Pairs.num}: its numbers start at `PAIR_STRIDE * index`. */
    readonly index: number;
    /** The session of the newest good use on the pair (the sibling tracker's; its time is at {@link RECENT_AT}). */
    recentId: string | undefined;
}

/**
 * A pair's numbers in {@link Pairs.num}, by offset from its start: the hot numbers of the per-pair learner records, in
 * one cache line per pair. A number in an object field is an object of its own (a heap number) in V8: a record of three
 * numbers is four objects, each a cache miss when its pair's pool is cold.
 */
export const PAIR_STRIDE = 8;
/** Bits of {@link PAIR_HAS}: which records the pair has (health counts on its site, a wear run). */
export const HAS_COUNTS = 1;
export const HAS_RUN = 2;
/** Its wear run's session was retired for wear already. */
export const RUN_RESTED = 4;
/** A health handle keeps its score draw at {@link PAIR_DRAW} (the first handle made for the pair; others keep their own). */
export const DRAW_OWNED = 8;
/**
 * Offsets: which records it has (bits), its site's faded health counts (ok, bad, at), its wear run (uses, at), its
 * newest good use's time, its health handle's last score draw.
 */
export const PAIR_HAS = 0;
export const PAIR_OK = 1;
export const PAIR_BAD = 2;
export const PAIR_AT = 3;
export const RUN_USES = 4;
export const RUN_AT = 5;
export const RECENT_AT = 6;
export const PAIR_DRAW = 7;

/** Sets a pair's value at `place`; a map made after the pair (not the learner's way) fills the places up to its own. */
function putAt(values: unknown[], place: number, value: unknown): void {
    while (values.length < place) values.push(undefined);
    values[place] = value;
}

/** The interning of pairs shared by the maps of one learner. */
export class Pairs {
    private readonly bySite = new Map<string, Map<string, Pair>>();
    /** Places taken by maps in every pair's `values` (a pair's array is allocated with that many). */
    private places = 0;
    /** Pairs interned so far. */
    private count = 0;
    /** By pair ({@link Pair.index}), {@link PAIR_STRIDE} numbers each (see the offsets above). Replaced when it grows: read it through the interning. */
    num = new Float64Array(PAIR_STRIDE * 64);

    /** A new map's place in every pair's `values` (the learner makes its maps before its first pair). */
    place(): number {
        return this.places++;
    }

    /** The pair (interned on first use). */
    of(proxyId: string, site: string): Pair {
        let m = this.bySite.get(site);
        if (!m) this.bySite.set(site, (m = new Map()));
        let p = m.get(proxyId);
        if (!p) {
            // Exactly as long as the places (an array grown by push would reserve 17), filled: never sparse.
            const values = new Array<unknown>(this.places).fill(undefined);
            const index = this.count++;
            if (PAIR_STRIDE * (index + 1) > this.num.length) {
                const num = new Float64Array(2 * this.num.length);
                num.set(this.num);
                this.num = num;
            }
            m.set(proxyId, (p = { proxyId, site, owner: this, values, record: 0, index, recentId: undefined }));
        }
        return p;
    }

    /** The pair if it was interned. */
    find(proxyId: string, site: string): Pair | undefined {
        return this.bySite.get(site)?.get(proxyId);
    }
}

export class PairMap<V> {
    private readonly bySite = new Map<string, Map<string, V>>();
    /** Its place in the `values` of the pairs of its interning: the same values, for {@link at}. */
    private readonly place: number;
    private count = 0;

    constructor(private readonly pairs: Pairs = new Pairs()) {
        this.place = pairs.place();
    }

    get size(): number {
        return this.count;
    }

    get(proxyId: string, site: string): V | undefined {
        return this.bySite.get(site)?.get(proxyId);
    }

    /** The value of an interned pair (one array read when the pair is of this map's interning). */
    at(pair: Pair): V | undefined {
        return pair.owner === this.pairs ? (pair.values[this.place] as V | undefined) : this.get(pair.proxyId, pair.site);
    }

    set(proxyId: string, site: string, value: V): void {
        let m = this.bySite.get(site);
        if (!m) this.bySite.set(site, (m = new Map()));
        if (!m.has(proxyId)) this.count++;
        m.set(proxyId, value);
        putAt(this.pairs.of(proxyId, site).values, this.place, value);
    }

    delete(proxyId: string, site: string): boolean {
        const m = this.bySite.get(site);
        if (!m?.delete(proxyId)) return false;
        this.count--;
        if (m.size === 0) this.bySite.delete(site);
        const p = this.pairs.find(proxyId, site);
        if (p && this.place < p.values.length) p.values[this.place] = undefined;
        return true;
    }

    /** Every entry as (proxy id, site, value), sites in first-use order. */
    *entries(): IterableIterator<[string, string, V]> {
        for (const [site, m] of this.bySite) for (const [proxyId, v] of m) yield [proxyId, site, v];
    }
}

/**
 * One value per pair of an interning, kept on the pair only (no table by key): for what is reached through a pair
 * held at hand, like a pool's site guard and the guard's record of the pair's proxy.
 */
export class PairSlot<V> {
    private readonly place: number;

    constructor(private readonly pairs: Pairs) {
        this.place = pairs.place();
    }

    /** The pair's value (undefined: none, or a pair of another interning). */
    at(pair: Pair): V | undefined {
        return pair.owner === this.pairs ? (pair.values[this.place] as V | undefined) : undefined;
    }

    set(pair: Pair, value: V): void {
        if (pair.owner === this.pairs) putAt(pair.values, this.place, value);
    }
}
