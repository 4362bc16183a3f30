/**
 * The hand-out order of a pool's ready sessions (least or most recently handed out first; ties: the older session)
 * and the heaps that keep it, shared by every proxy slot of every pool.
 */
import type { ReadyOrder } from './policies.js';
import type { ManagedSession } from './session.js';
import type { ProxySlot } from './slot.js';

export const older = (a: ManagedSession, b: ManagedSession) => a.handOutSeq < b.handOutSeq || (a.handOutSeq === b.handOutSeq && a.ordinal < b.ordinal);
export const newer = (a: ManagedSession, b: ManagedSession) => a.handOutSeq > b.handOutSeq || (a.handOutSeq === b.handOutSeq && a.ordinal < b.ordinal);

/**
 * Ready sessions of a slot in hand-out order: an indexed binary heap (positions in `session.queuePos`) laid out exactly
 * like {@link IndexedHeap} would lay it out with `older` / `newer`, but comparing keys copied into a number array when a
 * session is pushed or updated (its `handOutSeq` and `ordinal` only change right before an update), so a sift reads
 * no session object and calls no comparator: at 100k sessions a pop no longer walks cold sessions level by level.
 * `at(i)` reads the same positions as before (random picks draw the same sessions).
 */
export class SessionHeap {
    private readonly items: ManagedSession[] = [];
    /**
     * At 2i and 2i + 1, for the item at position i: its `handOutSeq` (negated for newest-first) and its `ordinal` (ties).
     * One array for both: most slots hold a session or two, and each array costs its own backing store.
     */
    private readonly keys: number[] = [];
    private readonly sign: number;

    constructor(order: ReadyOrder) {
        this.sign = order === 'oldest-first' ? 1 : -1;
    }

    get size(): number {
        return this.items.length;
    }

    top(): ManagedSession | undefined {
        return this.items[0];
    }

    /** The first session's key as the heap compares it (its `handOutSeq`, negated for newest-first), without reading it. */
    topKey(): number {
        return this.keys[0]!;
    }

    /** The first session's `ordinal`, without reading it. */
    topOrdinal(): number {
        return this.keys[1]!;
    }

    /** The session at heap position `index` (0 ≤ index < size). */
    at(index: number): ManagedSession {
        return this.items[index]!;
    }

    has(s: ManagedSession): boolean {
        const p = s.queuePos;
        return p >= 0 && this.items[p] === s;
    }

    /** The first session by position that passes `test`. */
    find(test: (s: ManagedSession) => boolean): ManagedSession | undefined {
        for (const s of this.items) if (test(s)) return s;
        return undefined;
    }

    push(s: ManagedSession): void {
        const i = this.items.length;
        this.items.push(s);
        this.keys.push(this.sign * s.handOutSeq, s.ordinal);
        s.queuePos = i;
        this.up(i);
    }

    /** Removes `s` if it is in this heap. */
    remove(s: ManagedSession): boolean {
        if (!this.has(s)) return false;
        this.removeAt(s.queuePos);
        return true;
    }

    /** Restores the order after `s`'s hand-out order changed (inserts it when absent). */
    update(s: ManagedSession): void {
        if (!this.has(s)) return this.push(s);
        const p = s.queuePos;
        this.keys[2 * p] = this.sign * s.handOutSeq;
        this.keys[2 * p + 1] = s.ordinal;
        this.up(p);
        this.down(s.queuePos);
    }

    private removeAt(index: number): void {
        const { items, keys } = this;
        const removed = items[index]!;
        const last = items.pop()!;
        const lastOrd = keys.pop()!;
        const lastKey = keys.pop()!;
        removed.queuePos = -1;
        if (index < items.length) {
            items[index] = last;
            keys[2 * index] = lastKey;
            keys[2 * index + 1] = lastOrd;
            last.queuePos = index;
            this.up(index);
            this.down(last.queuePos);
        }
    }

    private up(index: number): void {
        const { items, keys } = this;
        const item = items[index]!;
        const k = keys[2 * index]!;
        const o = keys[2 * index + 1]!;
        while (index > 0) {
            const parent = (index - 1) >> 1;
            const pk = keys[2 * parent]!;
            const po = keys[2 * parent + 1]!;
            if (!(k < pk || (k === pk && o < po))) break;
            const p = items[parent]!;
            items[index] = p;
            keys[2 * index] = pk;
            keys[2 * index + 1] = po;
            p.queuePos = index;
            index = parent;
        }
        items[index] = item;
        keys[2 * index] = k;
        keys[2 * index + 1] = o;
        item.queuePos = index;
    }

    private down(index: number): void {
        const { items, keys } = this;
        const n = items.length;
        const item = items[index]!;
        const k = keys[2 * index]!;
        const o = keys[2 * index + 1]!;
        for (;;) {
            const l = 2 * index + 1;
            if (l >= n) break;
            const r = l + 1;
            let c = l;
            if (r < n) {
                const rk = keys[2 * r]!;
                const lk = keys[2 * l]!;
                if (rk < lk || (rk === lk && keys[2 * r + 1]! < keys[2 * l + 1]!)) c = r;
            }
            const ck = keys[2 * c]!;
            const co = keys[2 * c + 1]!;
            if (!(ck < k || (ck === k && co < o))) break;
            const child = items[c]!;
            items[index] = child;
            keys[2 * index] = ck;
            keys[2 * index + 1] = co;
            child.queuePos = index;
            index = c;
        }
        items[index] = item;
        keys[2 * index] = k;
        keys[2 * index + 1] = o;
        item.queuePos = index;
    }
}

/**
 * Ready sessions of a slot in hand-out order, for a policy that only ever takes the first one: a sorted deque with an
 * overflow heap. A session handed out goes back with the newest hand-out key, so it almost always belongs at the back
 * (oldest-first) or the front (newest-first): taking the first and putting one back are O(1) and touch no other
 * session, where a heap's sift walks about log2(n) cold ones. A session that fits at neither end (its use was reported
 * after a later one's, it cooled down) goes to the overflow heap; the first is the lesser of both firsts, so it is
 * always the heap's first. Positions (`at`) follow the deque, then the overflow: they are not a heap's.
 */
export class ReadyDeque {
    /**
     * A ring of `ring.length / 3` (a power of two) places, each three entries: a live session (or undefined), its
     * `handOutSeq` (negated for newest-first) and its `ordinal`. One array where sessions and keys sat in two: with many
     * pools each array is one cold read more per use. The live sessions are sorted by key from `head` over `span`
     * places; removed ones leave a hole (undefined) until compacted. Putting back and taking out at either end
     * allocates nothing: the ring grows (doubling) only when full.
     */
    private ring: (ManagedSession | number | undefined)[] = [undefined, 0, 0, undefined, 0, 0];
    private head = 0;
    private span = 0;
    private live = 0;
    /**
     * Made on the first session that fits at neither end (most deques never need one): until then a read of the
     * deque's first reads no heap.
     */
    private overflow: SessionHeap | undefined = undefined;
    private readonly sign: number;

    constructor(private readonly order: ReadyOrder) {
        this.sign = order === 'oldest-first' ? 1 : -1;
    }

    /** Places in the ring. */
    private get capacity(): number {
        return this.ring.length / 3;
    }

    private item(i: number): ManagedSession | undefined {
        return this.ring[3 * i] as ManagedSession | undefined;
    }

    private key(i: number): number {
        return this.ring[3 * i + 1] as number;
    }

    private ordinalAt(i: number): number {
        return this.ring[3 * i + 2] as number;
    }

    get size(): number {
        return this.live + (this.overflow === undefined ? 0 : this.overflow.size);
    }

    top(): ManagedSession | undefined {
        return this.overflowFirst() ? this.overflow!.top() : this.item(this.head);
    }

    topKey(): number {
        return this.overflowFirst() ? this.overflow!.topKey() : this.key(this.head);
    }

    topOrdinal(): number {
        return this.overflowFirst() ? this.overflow!.topOrdinal() : this.ordinalAt(this.head);
    }

    /** Whether the first session is the overflow heap's. */
    private overflowFirst(): boolean {
        const overflow = this.overflow;
        if (overflow === undefined || overflow.size === 0) return false;
        if (this.live === 0) return true;
        const k = overflow.topKey();
        const hk = this.key(this.head);
        return k < hk || (k === hk && overflow.topOrdinal() < this.ordinalAt(this.head));
    }

    at(index: number): ManagedSession {
        if (index >= this.live) {
            if (this.overflow === undefined) throw new RangeError(`ready session ${index} of ${this.size}`);
            return this.overflow.at(index - this.live);
        }
        let n = index;
        const mask = this.capacity - 1;
        for (let i = 0; i < this.span; i++) {
            const s = this.item((this.head + i) & mask);
            if (s !== undefined && n-- === 0) return s;
        }
        throw new RangeError(`ready session ${index} of ${this.size}`);
    }

    has(s: ManagedSession): boolean {
        const p = s.queuePos;
        return p >= 0 && (this.item(p) === s || (this.overflow !== undefined && this.overflow.has(s)));
    }

    /** The first session by position that passes `test`. */
    find(test: (s: ManagedSession) => boolean): ManagedSession | undefined {
        const mask = this.capacity - 1;
        for (let i = 0; i < this.span; i++) {
            const s = this.item((this.head + i) & mask);
            if (s !== undefined && test(s)) return s;
        }
        return this.overflow?.find(test);
    }

    push(s: ManagedSession): void {
        const k = this.sign * s.handOutSeq;
        const o = s.ordinal;
        if (this.live > 0) {
            const mask = this.capacity - 1;
            const t = (this.head + this.span - 1) & mask;
            const h = this.head;
            const back = k > this.key(t) || (k === this.key(t) && o > this.ordinalAt(t));
            if (!back && !(k < this.key(h) || (k === this.key(h) && o < this.ordinalAt(h)))) return (this.overflow ??= new SessionHeap(this.order)).push(s);
            if (this.span === this.capacity) this.relayout(2 * this.capacity);
            if (back) return this.put((this.head + this.span++) & (this.capacity - 1), s, k, o);
            this.head = (this.head - 1) & (this.capacity - 1);
            this.span++;
            return this.put(this.head, s, k, o);
        }
        this.head = 0;
        this.span = 1;
        this.put(0, s, k, o);
    }

    private put(i: number, s: ManagedSession, k: number, o: number): void {
        const ring = this.ring;
        ring[3 * i] = s;
        ring[3 * i + 1] = k;
        ring[3 * i + 2] = o;
        s.queuePos = i;
        this.live++;
    }

    remove(s: ManagedSession): boolean {
        const p = s.queuePos;
        if (p < 0) return false;
        if (this.item(p) !== s) return this.overflow !== undefined && this.overflow.remove(s);
        this.ring[3 * p] = undefined;
        s.queuePos = -1;
        if (--this.live === 0) {
            this.span = 0;
            return true;
        }
        const mask = this.capacity - 1;
        if (p === this.head) {
            do {
                this.head = (this.head + 1) & mask;
                this.span--;
            } while (this.item(this.head) === undefined);
        } else if (p === ((this.head + this.span - 1) & mask)) {
            do this.span--;
            while (this.item((this.head + this.span - 1) & mask) === undefined);
        } else if (this.span > 2 * this.live + 16) {
            // Holes left by removals inside the ring (rare: a session leaves the middle only when it retires, expires
            // or cools down while ready): compact once they outnumber the live sessions.
            this.relayout(this.capacity);
        }
        return true;
    }

    update(s: ManagedSession): void {
        const p = s.queuePos;
        if (p >= 0 && this.item(p) === s) {
            if (this.key(p) === this.sign * s.handOutSeq && this.ordinalAt(p) === s.ordinal) return;
            this.remove(s);
        } else if (this.overflow !== undefined && this.overflow.has(s)) {
            this.overflow.update(s);
            return;
        }
        this.push(s);
    }

    /** Moves the live sessions, in order and without holes, to the start of a ring of `capacity` places. */
    private relayout(capacity: number): void {
        const ring = new Array<ManagedSession | number | undefined>(3 * capacity).fill(0);
        const mask = this.capacity - 1;
        let n = 0;
        for (let i = 0; i < this.span; i++) {
            const p = (this.head + i) & mask;
            const s = this.item(p);
            if (s === undefined) continue;
            ring[3 * n] = s;
            ring[3 * n + 1] = this.key(p);
            ring[3 * n + 2] = this.ordinalAt(p);
            s.queuePos = n++;
        }
        for (let i = n; i < capacity; i++) ring[3 * i] = undefined;
        this.ring = ring;
        this.head = 0;
        this.span = n;
    }
}

/** Ready sessions of a slot in hand-out order: a heap when the policy picks by position, else a {@link ReadyDeque}. */
export function sessionHeap(order: ReadyOrder, byPosition = true): SessionHeap | ReadyDeque {
    return byPosition ? new SessionHeap(order) : new ReadyDeque(order);
}

/** The ready heap of slots no session of the pool ever used (most slots of a pool, with many pools): never written. */
export const NO_SESSIONS = new SessionHeap('oldest-first');

/** An idle session in a slot's ready heap (usually its top), if any. */
export function idleIn(slot: ProxySlot<ManagedSession>): ManagedSession | undefined {
    return slot.ready.find(isIdle);
}

const isIdle = (s: ManagedSession) => s.inUse === 0;
