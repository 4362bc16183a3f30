/**
 * The open slots of a pool (proxy slots with ready sessions whose proxy is usable now) and the {@link Candidates}
 * view a policy picks from: a heap of slots in the pool's hand-out order (or ranked by score first for a policy that
 * asks for it), each holding its ready sessions in a heap of their own. Beside the heap, by heap position, number
 * arrays hold each open slot's score as last read and its first session's hand-out key, so that `firstNear` draws only
 * the scores that may have changed (each at the moment and in the order a read of every open slot would draw it) and
 * reads no slot or session object to compare the rest.
 */
import type { Candidates, SessionPolicy } from './policies.js';
import { newer, older } from './ready-order.js';
import type { ManagedSession } from './session.js';
import { SlotHeap } from './slot-heap.js';
import type { ProxySlot } from './slot.js';

type Slot = ProxySlot<ManagedSession>;

/**
 * Offsets in a pool's numbers ({@link OpenSlots.num}): the time of the decision under way, the best open score, and the
 * scheduler's next expiry, next cool-down end and next change of a slot's state (when the open heap stops holding).
 */
export const NOW = 0;
const TOP = 1;
export const NEXT_EXPIRY = 2;
export const NEXT_COOLED = 3;
export const NEXT_CHANGE = 4;

const byOpenPos = (a: Slot, b: Slot) => a.openPos - b.openPos;

/** Sorts the first `n` slots of `list` by heap position in place (an insertion sort: there are a few) and returns it. */
function sortFew(list: Slot[], n: number): Slot[] {
    for (let i = 1; i < n; i++) {
        const slot = list[i]!;
        let j = i - 1;
        while (j >= 0 && list[j]!.openPos > slot.openPos) {
            list[j + 1] = list[j]!;
            j--;
        }
        list[j + 1] = slot;
    }
    return list;
}

export class OpenSlots implements Candidates {
    /** The open slots; positions in `slot.openPos`. Change it through {@link put} and {@link drop}. */
    readonly heap: SlotHeap;
    /** Ready sessions in open slots. */
    total = 0;
    /**
     * The pool's numbers, by the offsets above: in one small array, where each number in a field would be a heap number
     * of its own (an object: a cold read per decision with many pools).
     */
    readonly num = new Float64Array(8);
    /**
     * Slots whose score may have changed since `seen` was read (flag: `slot.stale`), the first {@link staleCount} of it;
     * some may have left the heap. Never shortened: emptying an array drops its backing store, and the next push (on
     * nearly every hand-out) would allocate one again.
     */
    private readonly stale: Slot[] = [];
    private staleCount = 0;
    /** Scratch space of the policy ranked by score (its scan): one score per open slot. */
    private scanScores = new Float64Array(16);
    /**
     * The best `seen` score of the open slots when {@link topValid} (every slot read: none stale). Kept as scores are read
     * and slots leave, so that a pick need not read every slot's score to know it: with 1,000 pools each pick lands in a
     * cold pool, and a pass over ~100 slots' keys is ~40 cache misses.
     */
    private topValid = false;
    private readonly before: (a: ManagedSession, b: ManagedSession) => boolean;

    constructor(private readonly policy: SessionPolicy) {
        this.before = policy.order === 'newest-first' ? newer : older;
        // Slots compare by their first sessions' keys as their ready queues hold them (signed like `keys`), copied by
        // heap position: a sift reads no cold slot or session.
        this.heap = new SlotHeap(policy.byScore);
        this.num[TOP] = -1;
    }

    /** The time of the decision under way: scores are read as of then. */
    get now(): number {
        return this.num[NOW]!;
    }
    set now(now: number) {
        this.num[NOW] = now;
    }

    private get top(): number {
        return this.num[TOP]!;
    }
    private set top(top: number) {
        this.num[TOP] = top;
    }

    /**
     * By heap position: the slot's `seen` score (valid unless the slot is stale). With many pools each pick touches a
     * cold pool, and every object read is a cache miss: a pick reads these arrays, not the slots.
     */
    private get scores(): Float64Array {
        return this.heap.scores;
    }

    /** By heap position p, at 2p and 2p + 1: the `handOutSeq` of the slot's first session (negated for newest-first) and that session's `ordinal`. */
    private get keys(): Float64Array {
        return this.heap.keys;
    }

    get size(): number {
        return this.total;
    }

    /** Adds `slot` to the open heap or restores its place there (its first session or rank changed). */
    put(slot: Slot): void {
        const p = slot.openPos;
        if (p < 0) this.changed(slot);
        else if (!this.policy.byScore && this.keys[2 * p] === slot.ready.topKey() && this.keys[2 * p + 1] === slot.ready.topOrdinal()) {
            // Its first session is the same (a session went back behind it): its place holds, nothing to sift.
            return;
        }
        this.heap.update(slot);
    }

    /** Takes `slot` out of the open heap. */
    drop(slot: Slot): void {
        const p = slot.openPos;
        if (p >= 0 && this.scores[p] === this.top) this.topValid = false;
        this.heap.remove(slot);
    }

    /** The slot's score may be drawn again on its next read (its proxy's record or availability changed). */
    changed(slot: Slot): void {
        if (slot.stale) return;
        slot.stale = true;
        if (this.staleCount < this.stale.length) this.stale[this.staleCount] = slot;
        else this.stale.push(slot);
        this.staleCount++;
    }

    at(index: number): ManagedSession {
        let i = index;
        const open = this.heap;
        for (let k = 0; k < open.size; k++) {
            const slot = open.at(k);
            if (i < slot.ready.size) return slot.ready.at(i);
            i -= slot.ready.size;
        }
        throw new RangeError(`candidate ${index} of ${this.total}`);
    }

    first(byScore: boolean): ManagedSession {
        if (byScore === this.policy.byScore) return this.heap.top()!.ready.top()!;
        // Asked for another ranking than the heap keeps: look at every open slot (O(proxies)).
        let best: ManagedSession | undefined;
        let bestRank = -1;
        for (let k = 0; k < this.heap.size; k++) {
            const slot = this.heap.at(k);
            const top = slot.ready.top()!;
            const rank = byScore ? Math.round(slot.score(this.now) * 1000) : 0;
            if (rank < bestRank) continue;
            if (rank > bestRank || best === undefined || this.before(top, best)) best = top;
            bestRank = rank;
        }
        return best!;
    }

    firstNear(fraction: number): ManagedSession {
        if (this.policy.byScore) return this.scanNear(fraction);
        const open = this.heap;
        const first = open.at(0);
        // Slots in hand-out order: the first slot's session is the pick whenever it is near-best. Scores are at most 1,
        // so a first score of at least `fraction` is near-best whatever the others are: they need not be read (drawn) now.
        // A slot that is not stale holds its score as read (its draw has not changed since): no read of its proxy's records.
        if ((first.stale ? first.score(this.now) : this.scores[0]!) >= fraction) return first.ready.top()!;
        this.readStale();
        const a = this.scores;
        if (!this.topValid) {
            const end = open.size;
            let top = -1;
            for (let i = 0; i < end; i++) if (a[i]! > top) top = a[i]!;
            this.top = top;
            this.topValid = true;
        }
        const threshold = fraction * this.top;
        if (a[0]! >= threshold) return first.ready.top()!;
        return open.at(this.firstFrom(threshold)).ready.top()!;
    }

    /**
     * The heap position of the first slot in hand-out order (ties of the key: the older session) among those below the
     * root scoring at least `threshold` (there is one: the best slot). One pass over the keys: the slots that score
     * enough are few and mostly the ones handed out last (a pick draws its slot again), deep in the heap, so a search
     * down the heap reads about as many slots, in a worse order.
     */
    private firstFrom(threshold: number): number {
        const a = this.scores;
        const k = this.keys;
        const end = this.heap.size;
        let best = -1;
        // The best key and ordinal so far in locals (no re-read of the arrays per slot).
        let key = Infinity;
        let ordinal = Infinity;
        for (let i = 1; i < end; i++) {
            if (a[i]! < threshold) continue;
            const ki = k[2 * i]!;
            if (ki > key) continue;
            const o = k[2 * i + 1]!;
            if (ki < key || o < ordinal || best < 0) {
                best = i;
                key = ki;
                ordinal = o;
            }
        }
        return best;
    }

    /**
     * Reads the score of every slot that may have changed, in heap order (the order in which a read of every open slot
     * would draw them; the others' reads draw nothing).
     */
    private readStale(): void {
        const count = this.staleCount;
        if (count === 0) return;
        const list = this.stale;
        let n = 0;
        for (let i = 0; i < count; i++) {
            const slot = list[i]!;
            slot.stale = false;
            if (slot.openPos >= 0) list[n++] = slot;
        }
        const order = n > 8 ? list.slice(0, n).sort(byOpenPos) : sortFew(list, n);
        const a = this.scores;
        for (let i = 0; i < n; i++) {
            const slot = order[i]!;
            const was = a[slot.openPos]!;
            const seen = slot.score(this.now);
            slot.seen = seen;
            a[slot.openPos] = seen;
            if (seen > this.top) this.top = seen;
            else if (was === this.top && !(seen >= was)) this.topValid = false;
        }
        this.staleCount = 0;
    }

    /** `firstNear` for a policy whose heap is ranked by score: reads every open slot's score. */
    private scanNear(fraction: number): ManagedSession {
        const open = this.heap;
        const n = open.size;
        const scores = this.scanScores.length >= n ? this.scanScores : (this.scanScores = new Float64Array(Math.max(n, 2 * this.scanScores.length)));
        let top = -1;
        for (let k = 0; k < n; k++) {
            const score = open.at(k).score(this.now);
            scores[k] = score;
            if (score > top) top = score;
        }
        const threshold = fraction * top;
        let best: ManagedSession | undefined;
        for (let k = 0; k < n; k++) {
            if (scores[k]! < threshold) continue;
            const candidate = open.at(k).ready.top()!;
            if (best === undefined || this.before(candidate, best)) best = candidate;
        }
        return best!;
    }
}
