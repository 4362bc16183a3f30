/**
 * The open slots of a pool (proxy slots with ready sessions whose proxy is usable now) and the {@link Candidates}
 * view a policy picks from: a heap of slots in the pool's hand-out order (or ranked by score first for a policy that
 * asks for it), each holding its ready sessions in a heap of their own. Valid during one decision of the scheduler.
 */
import { IndexedHeap } from './heap.js';
import type { Candidates, SessionPolicy } from './policies.js';
import { newer, older } from './ready-order.js';
import type { ManagedSession } from './session.js';
import type { ProxySlot } from './slot.js';

type Slot = ProxySlot<ManagedSession>;

export class OpenSlots implements Candidates {
    /** The open slots; positions in `slot.openPos`. The scheduler adds, re-ranks and removes them. */
    readonly heap: IndexedHeap<Slot>;
    /** Ready sessions in open slots. */
    total = 0;
    /** The time of the decision under way: scores are read as of then. */
    now = 0;
    /** Scratch space of {@link firstNear}: one score per open slot. */
    private scores = new Float64Array(16);
    private readonly before: (a: ManagedSession, b: ManagedSession) => boolean;

    constructor(private readonly policy: SessionPolicy) {
        const before = policy.order === 'newest-first' ? newer : older;
        const byScore = policy.byScore;
        this.before = before;
        this.heap = new IndexedHeap<Slot>(
            (a, b) => (byScore && a.rank !== b.rank ? a.rank > b.rank : before(a.ready.top()!, b.ready.top()!)),
            (s) => s.openPos,
            (s, p) => {
                s.openPos = p;
            },
        );
    }

    get size(): number {
        return this.total;
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
        const open = this.heap;
        const n = open.size;
        const now = this.now;
        const ordered = !this.policy.byScore;
        // Slots in hand-out order: the first slot's session is the pick whenever it is near-best. Scores are at most 1,
        // so a first score of at least `fraction` is near-best whatever the others are: they need not be read (drawn) now.
        if (ordered && open.at(0).score(now) >= fraction) return open.at(0).ready.top()!;
        const scores = this.scores.length >= n ? this.scores : (this.scores = new Float64Array(Math.max(n, 2 * this.scores.length)));
        let top = -1;
        for (let k = 0; k < n; k++) {
            const score = open.at(k).score(now);
            scores[k] = score;
            if (score > top) top = score;
        }
        const threshold = fraction * top;
        if (ordered && scores[0]! >= threshold) return open.at(0).ready.top()!;
        let best: ManagedSession | undefined;
        for (let k = 0; k < n; k++) {
            if (scores[k]! < threshold) continue;
            const candidate = open.at(k).ready.top()!;
            if (best === undefined || this.before(candidate, best)) best = candidate;
        }
        return best!;
    }
}
