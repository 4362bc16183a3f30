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

    /** The session at heap position `index` (0 ≤ index < size). */
    at(index: number): ManagedSession {
        return this.items[index]!;
    }

    has(s: ManagedSession): boolean {
        const p = s.queuePos;
        return p >= 0 && this.items[p] === s;
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

/** Ready sessions of a slot in hand-out order. */
export function sessionHeap(order: ReadyOrder): SessionHeap {
    return new SessionHeap(order);
}

/** The ready heap of slots no session of the pool ever used (most slots of a pool, with many pools): never written. */
export const NO_SESSIONS = sessionHeap('oldest-first');

/** An idle session in a slot's ready heap (usually its top), if any. */
export function idleIn(slot: ProxySlot<ManagedSession>): ManagedSession | undefined {
    const heap = slot.ready;
    for (let i = 0; i < heap.size; i++) if (heap.at(i).inUse === 0) return heap.at(i);
    return undefined;
}
