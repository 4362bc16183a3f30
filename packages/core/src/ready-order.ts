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
    /** Live sessions at [head, tail), sorted by key; removed ones leave a hole (undefined) until compacted. */
    private items: (ManagedSession | undefined)[] = [];
    /** At 2i and 2i + 1, for `items[i]`: its `handOutSeq` (negated for newest-first) and its `ordinal`. */
    private keys: number[] = [];
    private head = 0;
    private tail = 0;
    private live = 0;
    private readonly overflow: SessionHeap;
    private readonly sign: number;

    constructor(order: ReadyOrder) {
        this.sign = order === 'oldest-first' ? 1 : -1;
        this.overflow = new SessionHeap(order);
    }

    get size(): number {
        return this.live + this.overflow.size;
    }

    top(): ManagedSession | undefined {
        return this.overflowFirst() ? this.overflow.top() : this.items[this.head];
    }

    topKey(): number {
        return this.overflowFirst() ? this.overflow.topKey() : this.keys[2 * this.head]!;
    }

    topOrdinal(): number {
        return this.overflowFirst() ? this.overflow.topOrdinal() : this.keys[2 * this.head + 1]!;
    }

    /** Whether the first session is the overflow heap's. */
    private overflowFirst(): boolean {
        if (this.overflow.size === 0) return false;
        if (this.live === 0) return true;
        const k = this.overflow.topKey();
        const hk = this.keys[2 * this.head]!;
        return k < hk || (k === hk && this.overflow.topOrdinal() < this.keys[2 * this.head + 1]!);
    }

    at(index: number): ManagedSession {
        if (index >= this.live) return this.overflow.at(index - this.live);
        let n = index;
        for (let i = this.head; i < this.tail; i++) {
            const s = this.items[i];
            if (s !== undefined && n-- === 0) return s;
        }
        throw new RangeError(`ready session ${index} of ${this.size}`);
    }

    has(s: ManagedSession): boolean {
        const p = s.queuePos;
        return p >= 0 && (this.items[p] === s || this.overflow.has(s));
    }

    /** The first session by position that passes `test`. */
    find(test: (s: ManagedSession) => boolean): ManagedSession | undefined {
        for (let i = this.head; i < this.tail; i++) {
            const s = this.items[i];
            if (s !== undefined && test(s)) return s;
        }
        return this.overflow.find(test);
    }

    push(s: ManagedSession): void {
        const k = this.sign * s.handOutSeq;
        const o = s.ordinal;
        if (this.live === 0) {
            if (this.tail > 0) this.relayout(0);
            return this.put(this.tail++, s, k, o);
        }
        const keys = this.keys;
        const t = 2 * (this.tail - 1);
        if (k > keys[t]! || (k === keys[t] && o > keys[t + 1]!)) return this.put(this.tail++, s, k, o);
        const h = 2 * this.head;
        if (k < keys[h]! || (k === keys[h] && o < keys[h + 1]!)) {
            if (this.head === 0) this.relayout(Math.max(4, this.live));
            return this.put(--this.head, s, k, o);
        }
        this.overflow.push(s);
    }

    private put(i: number, s: ManagedSession, k: number, o: number): void {
        this.items[i] = s;
        this.keys[2 * i] = k;
        this.keys[2 * i + 1] = o;
        s.queuePos = i;
        this.live++;
    }

    remove(s: ManagedSession): boolean {
        const p = s.queuePos;
        if (p < 0) return false;
        if (this.items[p] !== s) return this.overflow.remove(s);
        this.items[p] = undefined;
        s.queuePos = -1;
        this.live--;
        if (this.live === 0) {
            this.head = this.tail = 0;
            this.items.length = 0;
            this.keys.length = 0;
            return true;
        }
        if (p === this.head) while (this.items[this.head] === undefined) this.head++;
        else if (p === this.tail - 1) while (this.items[this.tail - 1] === undefined) this.tail--;
        // Holes and the space before the head stay below the live count (amortized O(1) per removal).
        if (this.tail > 2 * this.live + 16) this.relayout(0);
        return true;
    }

    update(s: ManagedSession): void {
        const p = s.queuePos;
        if (p >= 0 && this.items[p] === s) {
            if (this.keys[2 * p] === this.sign * s.handOutSeq && this.keys[2 * p + 1] === s.ordinal) return;
            this.remove(s);
        } else if (this.overflow.has(s)) {
            this.overflow.update(s);
            return;
        }
        this.push(s);
    }

    /** Moves the live sessions to start at `front` (room for that many before the head), holes dropped. */
    private relayout(front: number): void {
        const items: (ManagedSession | undefined)[] = new Array<ManagedSession | undefined>(front);
        const keys: number[] = new Array<number>(2 * front).fill(0);
        for (let i = this.head; i < this.tail; i++) {
            const s = this.items[i];
            if (s === undefined) continue;
            s.queuePos = items.length;
            items.push(s);
            keys.push(this.keys[2 * i]!, this.keys[2 * i + 1]!);
        }
        this.items = items;
        this.keys = keys;
        this.head = front;
        this.tail = items.length;
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
