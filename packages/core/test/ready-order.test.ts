/**
 * The ready deque (for policies that only take the first ready session) against the ready heap it replaces for them:
 * over random pushes, removals, updates and hand-outs, both always agree on the first session, the size and
 * membership, in both orders, and every session is found exactly once by position.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { ReadyDeque, SessionHeap } from '../src/ready-order.js';
import type { ManagedSession } from '../src/session.js';

/** What the queues read of a session: its hand-out key, ordinal and queue position (one per queue under test). */
interface Keyed {
    handOutSeq: number;
    ordinal: number;
    queuePos: number;
}

const op = fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('handOut' as const) }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('push' as const), item: fc.nat(40), seq: fc.integer({ min: -5, max: 5 }) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('remove' as const), item: fc.nat(40) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('bump' as const), item: fc.nat(40) }) },
);

describe('ReadyDeque', () => {
    for (const order of ['oldest-first', 'newest-first'] as const) {
        it(`agrees with SessionHeap on the first session (${order})`, () => {
            let checked = 0;
            fc.assert(
                fc.property(fc.array(op, { minLength: 100, maxLength: 300 }), (ops) => {
                    // Twin items: the heap's and the deque's (each queue keeps its position in `queuePos`).
                    const a: Keyed[] = Array.from({ length: 41 }, (_, i) => ({ handOutSeq: 0, ordinal: i + 1, queuePos: -1 }));
                    const b: Keyed[] = a.map((x) => ({ ...x }));
                    const as = (x: Keyed) => x as unknown as ManagedSession;
                    const heap = new SessionHeap(order);
                    const deque = new ReadyDeque(order);
                    let seq = 100;
                    for (const o of ops) {
                        if (o.kind === 'handOut') {
                            const top = heap.top();
                            if (!top) continue;
                            const i = a.indexOf(top as unknown as Keyed);
                            expect(deque.top()).toBe(as(b[i]!));
                            a[i]!.handOutSeq = b[i]!.handOutSeq = ++seq;
                            if (seq % 3 === 0) {
                                heap.remove(top);
                                deque.remove(as(b[i]!));
                            } else {
                                heap.update(top);
                                deque.update(as(b[i]!));
                            }
                        } else if (o.kind === 'push') {
                            if (heap.has(as(a[o.item]!))) continue;
                            a[o.item]!.handOutSeq = b[o.item]!.handOutSeq = seq + o.seq;
                            heap.push(as(a[o.item]!));
                            deque.push(as(b[o.item]!));
                        } else if (o.kind === 'remove') {
                            expect(deque.remove(as(b[o.item]!))).toBe(heap.remove(as(a[o.item]!)));
                        } else {
                            a[o.item]!.handOutSeq = b[o.item]!.handOutSeq = ++seq;
                            if (heap.has(as(a[o.item]!))) heap.update(as(a[o.item]!));
                            if (deque.has(as(b[o.item]!))) deque.update(as(b[o.item]!));
                        }
                        expect(deque.size).toBe(heap.size);
                        const top = heap.top();
                        expect(deque.top()).toBe(top ? as(b[a.indexOf(top as unknown as Keyed)]!) : undefined);
                        if (top) {
                            expect(deque.topKey()).toBe(heap.topKey());
                            expect(deque.topOrdinal()).toBe(heap.topOrdinal());
                        }
                        let agree = true;
                        for (let i = 0; i < a.length; i++) agree &&= deque.has(as(b[i]!)) === heap.has(as(a[i]!));
                        expect(agree).toBe(true);
                        checked++;
                    }
                    const seen = new Set<ManagedSession>();
                    for (let i = 0; i < deque.size; i++) seen.add(deque.at(i));
                    expect(seen.size).toBe(deque.size);
                    for (const s of seen) expect(deque.has(s)).toBe(true);
                }),
                { seed: 1010, numRuns: 150 },
            );
            expect(checked).toBeGreaterThan(15_000);
        }, 60_000);
    }
});
