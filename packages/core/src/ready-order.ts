/**
 * The hand-out order of a pool's ready sessions (least or most recently handed out first; ties: the older session)
 * and the heaps that keep it, shared by every proxy slot of every pool.
 */
import { IndexedHeap } from './heap.js';
import type { ReadyOrder } from './policies.js';
import type { ManagedSession } from './session.js';
import type { ProxySlot } from './slot.js';

export const older = (a: ManagedSession, b: ManagedSession) => a.handOutSeq < b.handOutSeq || (a.handOutSeq === b.handOutSeq && a.ordinal < b.ordinal);
export const newer = (a: ManagedSession, b: ManagedSession) => a.handOutSeq > b.handOutSeq || (a.handOutSeq === b.handOutSeq && a.ordinal < b.ordinal);

const queuePos = (s: ManagedSession) => s.queuePos;
const setQueuePos = (s: ManagedSession, p: number) => {
    s.queuePos = p;
};

/** Ready sessions of a slot in hand-out order; positions kept in `session.queuePos` (no closure per heap). */
export function sessionHeap(order: ReadyOrder): IndexedHeap<ManagedSession> {
    return new IndexedHeap<ManagedSession>(order === 'oldest-first' ? older : newer, queuePos, setQueuePos);
}

/** The ready heap of slots no session of the pool ever used (most slots of a pool, with many pools): never written. */
export const NO_SESSIONS = sessionHeap('oldest-first');


/** An idle session in a slot's ready heap (usually its top), if any. */
export function idleIn(slot: ProxySlot<ManagedSession>): ManagedSession | undefined {
    const heap = slot.ready;
    for (let i = 0; i < heap.size; i++) if (heap.at(i).inUse === 0) return heap.at(i);
    return undefined;
}
