/**
 * The open-slot heap (keys copied by heap position) against the generic indexed heap with the comparator it replaces
 * (reading each slot's rank and its ready queue's first key and ordinal): over random pushes, removals and key
 * changes, both hold the same slots at the same positions, so every pick and every score read in heap order (the
 * draw order) stays the same; its position arrays always hold each slot's keys.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { IndexedHeap } from '../src/heap.js';
import type { ManagedSession } from '../src/session.js';
import type { ProxySlot } from '../src/slot.js';
import { SlotHeap } from '../src/slot-heap.js';

type Slot = ProxySlot<ManagedSession>;

/** What the heaps read of a slot: rank, seen score, first key and ordinal, and the position field. */
interface FakeSlot {
    openPos: number;
    rank: number;
    seen: number;
    key: number;
    ord: number;
    ready: { topKey(): number; topOrdinal(): number };
}

function fakeSlot(i: number): FakeSlot {
    const s: FakeSlot = {
        openPos: -1,
        rank: 0,
        seen: 0,
        key: 0,
        ord: i,
        ready: { topKey: () => s.key, topOrdinal: () => s.ord },
    };
    return s;
}

const op = fc.oneof(
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('put' as const), item: fc.nat(30), key: fc.integer({ min: 0, max: 12 }), rank: fc.nat(3) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('remove' as const), item: fc.nat(30) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('removeTop' as const) }) },
);

describe('SlotHeap', () => {
    for (const byScore of [false, true]) {
        it(`lays slots out exactly like IndexedHeap with the slot comparator (${byScore ? 'ranked by score' : 'hand-out order'})`, () => {
            let checked = 0;
            fc.assert(
                fc.property(fc.array(op, { minLength: 50, maxLength: 250 }), (ops) => {
                    // Twin slots: the reference heap's and the tested one's (each heap keeps its position in `openPos`).
                    const a = Array.from({ length: 31 }, (_, i) => fakeSlot(i));
                    const b = Array.from({ length: 31 }, (_, i) => fakeSlot(i));
                    const as = (x: FakeSlot) => x as unknown as Slot;
                    const reference = new IndexedHeap<FakeSlot>(
                        (x, y) => {
                            if (byScore && x.rank !== y.rank) return x.rank > y.rank;
                            const kx = x.ready.topKey();
                            const ky = y.ready.topKey();
                            return kx < ky || (kx === ky && x.ready.topOrdinal() < y.ready.topOrdinal());
                        },
                        (s) => s.openPos,
                        (s, p) => void (s.openPos = p),
                    );
                    const heap = new SlotHeap(byScore);
                    let n = 0;
                    for (const o of ops) {
                        if (o.kind === 'put') {
                            // A slot's first session (and rank) changes right before its update, as in the scheduler.
                            for (const s of [a[o.item]!, b[o.item]!]) {
                                s.key = o.key;
                                s.rank = o.rank;
                                s.seen = (o.key * 7 + o.rank) / 100;
                            }
                            reference.update(a[o.item]!);
                            heap.update(as(b[o.item]!));
                        } else if (o.kind === 'remove') {
                            expect(heap.remove(as(b[o.item]!))).toBe(reference.remove(a[o.item]!));
                        } else {
                            const top = reference.top();
                            expect(heap.top()).toBe(top ? as(b[a.indexOf(top)]!) : undefined);
                            if (top) {
                                reference.remove(top);
                                heap.remove(as(b[a.indexOf(top)]!));
                            }
                        }
                        expect(heap.size).toBe(reference.size);
                        let same = true;
                        for (let p = 0; p < heap.size; p++) {
                            const s = heap.at(p) as unknown as FakeSlot;
                            same &&= s === b[a.indexOf(reference.at(p))] && s.openPos === p;
                            same &&= heap.scores[p] === s.seen && heap.keys[2 * p] === s.key && heap.keys[2 * p + 1] === s.ord;
                        }
                        for (let i = 0; i < a.length; i++) same &&= heap.has(as(b[i]!)) === reference.has(a[i]!) && (b[i]!.openPos < 0) === (a[i]!.openPos < 0);
                        expect(same).toBe(true);
                        n++;
                    }
                    checked += n;
                }),
                { seed: 2020, numRuns: 200 },
            );
            expect(checked).toBeGreaterThan(10_000);
        }, 60_000);
    }
});
