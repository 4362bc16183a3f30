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
 * like {@link IndexedHeap} would lay it out with `older` / `newer`, but comparing keys copied into number arrays when a
 * session is pushed or updated (its `handOutSeq` and `ordinal` only change right before an update), so a sift reads
 * no session object and calls no comparator: at 100k sessions a pop no longer walks cold sessions level by level.
 * `at(i)` reads the same positions as before (random picks draw the same sessions).
 */
export class SessionHeap {
    private readonly items: ManagedSession[] = [];
    /** `handOutSeq` (negated for newest-first) of the item at each position. */
    private readonly keys: number[] = [];
    /** `ordinal` of the item at each position (ties). */
    private readonly ords: number[] = [];
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
        this.keys.push(this.sign * s.handOutSeq);
        this.ords.push(s.ordinal);
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
        this.keys[p] = this.sign * s.handOutSeq;
        this.ords[p] = s.ordinal;
        this.up(p);
        this.down(s.queuePos);
    }

    private removeAt(index: number): void {
        const { items, keys, ords } = this;
        const removed = items[index]!;
        const last = items.pop()!;
        const lastKey = keys.pop()!;
        const lastOrd = ords.pop()!;
        removed.queuePos = -1;
        if (index < items.length) {
            items[index] = last;
            keys[index] = lastKey;
            ords[index] = lastOrd;
            last.queuePos = index;
            this.up(index);
            this.down(last.queuePos);
        }
    }

    private up(index: number): void {
        const { items, keys, ords } = this;
        const item = items[index]!;
        const k = keys[index]!;
        const o = ords[index]!;
        while (index > 0) {
            const parent = (index - 1) >> 1;
            const pk = keys[parent]!;
            if (!(k < pk || (k === pk && o < ords[parent]!))) break;
            const p = items[parent]!;
            items[index] = p;
            keys[index] = pk;
            ords[index] = ords[parent]!;
            p.queuePos = index;
            index = parent;
        }
        items[index] = item;
        keys[index] = k;
        ords[index] = o;
        item.queuePos = index;
    }

    private down(index: number): void {
        const { items, keys, ords } = this;
        const n = items.length;
        const item = items[index]!;
        const k = keys[index]!;
        const o = ords[index]!;
        for (;;) {
            const l = 2 * index + 1;
            if (l >= n) break;
            const r = l + 1;
            let c = l;
            if (r < n) {
                const rk = keys[r]!;
                const lk = keys[l]!;
                if (rk < lk || (rk === lk && ords[r]! < ords[l]!)) c = r;
            }
            const ck = keys[c]!;
            if (!(ck < k || (ck === k && ords[c]! < o))) break;
            const child = items[c]!;
            items[index] = child;
            keys[index] = ck;
            ords[index] = ords[c]!;
            child.queuePos = index;
            index = c;
        }
        items[index] = item;
        keys[index] = k;
        ords[index] = o;
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
