/**
 * The heap of a pool's open slots (see `OpenSlots`): laid out exactly like {@link IndexedHeap} would lay it out with
 * the slot order (rank first for a policy that asks for it, then the first session's hand-out key, then its ordinal),
 * but comparing copies of those keys kept in number arrays by heap position, moved with their slot. A sift reads no
 * slot, ready queue or session object: with 1,000 pools every op lands in a cold pool, where each object a comparison
 * reads is a cache miss (a slot, its ready queue, that queue's key array...), about a dozen per level.
 *
 * A slot's keys are copied when it is pushed or updated, so its ready queue's first session (and its rank) must only
 * change right before {@link SlotHeap.update} or {@link SlotHeap.remove} of that slot, as they do in the scheduler.
 */
import type { ManagedSession } from './session.js';
import type { ProxySlot } from './slot.js';

type Slot = ProxySlot<ManagedSession>;

export class SlotHeap {
    private readonly items: Slot[] = [];
    /**
     * By heap position p: the slot's `seen` score. Apart from the keys: `OpenSlots.firstNear` reads every open slot's
     * score but the keys of only the few near the best (~9 of ~89), so a pass reads 8 bytes per slot instead of 24.
     */
    scores = new Float64Array(16);
    /** By heap position p, at 2p and 2p + 1: the hand-out key of its first session (negated for newest-first) and that session's `ordinal`. */
    keys = new Float64Array(32);
    /** By heap position: the slot's rank (only kept, and compared, when ranked by score). */
    private ranks = new Float64Array(16);

    constructor(private readonly byScore: boolean) {}

    get size(): number {
        return this.items.length;
    }

    top(): Slot | undefined {
        return this.items[0];
    }

    /** The slot at heap position `index` (0 ≤ index < size). */
    at(index: number): Slot {
        return this.items[index]!;
    }

    has(slot: Slot): boolean {
        const p = slot.openPos;
        return p >= 0 && this.items[p] === slot;
    }

    push(slot: Slot): void {
        const i = this.items.length;
        this.items.push(slot);
        if (i >= this.scores.length) this.grow(i + 1);
        this.load(slot, i);
        this.up(i);
    }

    /** Removes `slot` if it is in this heap. */
    remove(slot: Slot): boolean {
        if (!this.has(slot)) return false;
        this.removeAt(slot.openPos);
        return true;
    }

    /** Restores the order after the slot's keys changed (inserts it when absent). */
    update(slot: Slot): void {
        if (!this.has(slot)) return this.push(slot);
        const p = slot.openPos;
        this.load(slot, p);
        this.up(p);
        this.down(slot.openPos);
    }

    /** Copies the slot's keys (as it holds them now) to position `p`. */
    private load(slot: Slot, p: number): void {
        const a = this.keys;
        this.scores[p] = slot.seen;
        a[2 * p] = slot.ready.topKey();
        a[2 * p + 1] = slot.ready.topOrdinal();
        if (this.byScore) this.ranks[p] = slot.rank;
        slot.openPos = p;
    }

    private grow(n: number): void {
        const a = new Float64Array(Math.max(n, 2 * this.scores.length));
        a.set(this.scores);
        this.scores = a;
        const k = new Float64Array(2 * a.length);
        k.set(this.keys);
        this.keys = k;
        if (this.byScore) {
            const r = new Float64Array(a.length);
            r.set(this.ranks.subarray(0, Math.min(this.ranks.length, r.length)));
            this.ranks = r;
        }
    }

    /** Whether the slot at position `i` comes out before the one at `j`. */
    private before(i: number, j: number): boolean {
        if (this.byScore && this.ranks[i] !== this.ranks[j]) return this.ranks[i]! > this.ranks[j]!;
        const a = this.keys;
        const ki = a[2 * i]!;
        const kj = a[2 * j]!;
        return ki < kj || (ki === kj && a[2 * i + 1]! < a[2 * j + 1]!);
    }

    /** Moves the slot and keys at `from` to `to` (overwriting). */
    private move(from: number, to: number): void {
        const a = this.keys;
        this.scores[to] = this.scores[from]!;
        a[2 * to] = a[2 * from]!;
        a[2 * to + 1] = a[2 * from + 1]!;
        if (this.byScore) this.ranks[to] = this.ranks[from]!;
        const slot = this.items[from]!;
        this.items[to] = slot;
        slot.openPos = to;
    }

    private removeAt(index: number): void {
        const items = this.items;
        const removed = items[index]!;
        const lastIndex = items.length - 1;
        removed.openPos = -1;
        if (index === lastIndex) {
            items.pop();
            return;
        }
        // As IndexedHeap: the last slot takes the place, then sifts up, then down from wherever it got.
        const last = items[lastIndex]!;
        this.move(lastIndex, index);
        items.pop();
        this.up(index);
        this.down(last.openPos);
    }

    /** Sifts the slot at `index` up; its keys are held aside meanwhile. */
    private up(index: number): void {
        const items = this.items;
        const a = this.keys;
        const slot = items[index]!;
        const s = this.scores[index]!;
        const k = a[2 * index]!;
        const o = a[2 * index + 1]!;
        const r = this.byScore ? this.ranks[index]! : 0;
        while (index > 0) {
            const parent = (index - 1) >> 1;
            if (!this.beforeKeys(r, k, o, parent)) break;
            this.move(parent, index);
            index = parent;
        }
        this.place(slot, index, s, k, o, r);
    }

    /** Sifts the slot at `index` down. */
    private down(index: number): void {
        const items = this.items;
        const n = items.length;
        const a = this.keys;
        const slot = items[index]!;
        const s = this.scores[index]!;
        const k = a[2 * index]!;
        const o = a[2 * index + 1]!;
        const r = this.byScore ? this.ranks[index]! : 0;
        for (;;) {
            const l = 2 * index + 1;
            if (l >= n) break;
            const rt = l + 1;
            const c = rt < n && this.before(rt, l) ? rt : l;
            if (!this.keysAfter(r, k, o, c)) break;
            this.move(c, index);
            index = c;
        }
        this.place(slot, index, s, k, o, r);
    }

    /** Whether keys (r, k, o) come out before the slot at position `j`. */
    private beforeKeys(r: number, k: number, o: number, j: number): boolean {
        if (this.byScore && r !== this.ranks[j]) return r > this.ranks[j]!;
        const a = this.keys;
        const kj = a[2 * j]!;
        return k < kj || (k === kj && o < a[2 * j + 1]!);
    }

    /** Whether the slot at position `j` comes out before keys (r, k, o). */
    private keysAfter(r: number, k: number, o: number, j: number): boolean {
        if (this.byScore && r !== this.ranks[j]) return this.ranks[j]! > r;
        const a = this.keys;
        const kj = a[2 * j]!;
        return kj < k || (kj === k && a[2 * j + 1]! < o);
    }

    private place(slot: Slot, index: number, s: number, k: number, o: number, r: number): void {
        const a = this.keys;
        this.scores[index] = s;
        a[2 * index] = k;
        a[2 * index + 1] = o;
        if (this.byScore) this.ranks[index] = r;
        this.items[index] = slot;
        slot.openPos = index;
    }
}
