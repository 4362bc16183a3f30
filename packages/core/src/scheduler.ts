/**
 * The scheduler of one pool: which session to hand out, whether to create one (on which proxy), and when waiters
 * should look again. It keeps an index of the pool's sessions by readiness so that no decision scans the pool:
 *
 * - ready sessions sit in their proxy's slot, in a heap in the policy's order: a pick is O(log n) plus one look at
 *   each proxy's slot (availability, pace and score are cached per slot until the proxy's health changes);
 * - cooling sessions (min delay between uses, Retry-After) sit in a heap by the time they are ready again;
 * - every live session sits in a heap by expiry, so sessions past their age leave without being looked for;
 * - sessions in use up to their concurrency cap or use limit sit in no heap until their use is reported.
 */
import type { ProxyHealthModel } from './health-model.js';
import { IndexedHeap } from './heap.js';
import type { Candidates, PolicyContext, ProxyCandidate, SessionPolicy } from './policies.js';
import { DIRECT_PROXY_ID } from './proxies.js';
import type { ManagedSession } from './session.js';
import { ProxySlot as Slot, type ReadyOrder } from './slot.js';

type ProxySlot = Slot<ManagedSession>;

const older = (a: ManagedSession, b: ManagedSession) => a.handOutSeq < b.handOutSeq || (a.handOutSeq === b.handOutSeq && a.ordinal < b.ordinal);
const newer = (a: ManagedSession, b: ManagedSession) => a.handOutSeq > b.handOutSeq || (a.handOutSeq === b.handOutSeq && a.ordinal < b.ordinal);

/** Ready sessions of a slot in hand-out order; positions kept in `session.queuePos`. */
function sessionHeap(order: ReadyOrder): IndexedHeap<ManagedSession> {
    return new IndexedHeap<ManagedSession>(
        order === 'oldest-first' ? older : newer,
        (s) => s.queuePos,
        (s, p) => {
            s.queuePos = p;
        },
    );
}

/** What the scheduler decided for one acquire. */
export type Decision =
    | { kind: 'session'; session: ManagedSession }
    | { kind: 'create'; proxyId: string | undefined; evict?: ManagedSession }
    | {
          kind: 'wait';
          /** Epoch millis at which something may become usable by time alone (Infinity: only a report can help). */
          wakeAt: number;
          /** Every configured proxy is in backoff or banned for this pool. */
          proxiesExhausted: boolean;
          /** Every configured proxy is banned for this pool and no session is left. */
          allBanned: boolean;
          /** Every configured proxy is unusable and failed its last probe too (or is banned). */
          proxiesStalled: boolean;
      };

/** What the scheduler needs from its pool and manager. */
export interface SchedulerHost {
    readonly site: string;
    readonly policy: SessionPolicy;
    readonly health: ProxyHealthModel;
    /** Ids of the fixed proxies (`direct` for none), or undefined when every session gets its URL from a ProxyConfiguration. */
    readonly fixedProxies: readonly string[] | undefined;
    readonly random: () => number;
    limits(): { size: number; maxUses: number; maxConcurrentUses: number; explorationRate: number };
    /** Live sessions plus those being created. */
    occupancy(): number;
    /** Live sessions (for the rare full scans: a proxy banned, error messages). */
    sessions(): Iterable<ManagedSession>;
    retire(session: ManagedSession, reason: string): void;
}

const proxyIdOfSession = (s: ManagedSession) => s.identity.proxy?.id ?? DIRECT_PROXY_ID;

export class Scheduler implements Candidates {
    private readonly slots = new Map<string, ProxySlot>();
    /** Slots with at least one ready session. */
    private readonly withReady: ProxySlot[] = [];
    private readonly cooling = new IndexedHeap<ManagedSession>(
        (a, b) => a.availableAt < b.availableAt,
        (s) => s.queuePos,
        (s, p) => {
            s.queuePos = p;
        },
    );
    private readonly expiry = new IndexedHeap<ManagedSession>(
        (a, b) => a.expiresAt.getTime() < b.expiresAt.getTime(),
        (s) => s.expiryPos,
        (s, p) => {
            s.expiryPos = p;
        },
    );
    private seq = 0;
    private ordinals = 0;
    /** Open slots of the current decision (the {@link Candidates} view). */
    private open: ProxySlot[] = [];
    private total = 0;
    private readonly ctx: PolicyContext;

    constructor(private readonly host: SchedulerHost) {
        const limits = host.limits();
        this.ctx = {
            site: host.site,
            random: host.random,
            explorationRate: limits.explorationRate,
            proxyScore: (id) => this.slot(id).score(),
            proxyTrials: (id) => this.slot(id).health.trials(),
        };
    }

    /** The slot of a proxy in this pool (created on first use). */
    slot(proxyId: string): ProxySlot {
        let slot = this.slots.get(proxyId);
        if (!slot) {
            slot = new Slot<ManagedSession>(proxyId, this.host.health.handle(proxyId, this.host.site), sessionHeap(this.host.policy.order));
            this.slots.set(proxyId, slot);
        }
        return slot;
    }

    /** The next hand-out sequence number. */
    nextSeq(): number {
        return ++this.seq;
    }

    /** A session joins the pool (new, or restored). It is not handed out before {@link settle} says it is ready. */
    adopt(session: ManagedSession): void {
        const slot = this.slot(proxyIdOfSession(session));
        session.proxySlot = slot;
        session.ordinal = ++this.ordinals;
        slot.live++;
        if (session.handOutSeq > this.seq) this.seq = session.handOutSeq;
        this.expiry.push(session);
    }

    /** A session left the pool (retired). */
    release(session: ManagedSession): void {
        this.unqueue(session);
        this.expiry.remove(session);
        const slot = session.proxySlot;
        if (slot) slot.live--;
    }

    /** A new session was put on `proxyId` (round-robin of proxies). */
    pickedProxy(proxyId: string): void {
        this.slot(proxyId).lastPickedSeq = this.nextSeq();
    }

    /** Counts one more open use of `session`. */
    handOut(session: ManagedSession, now: number): void {
        session.inUse++;
        session.handOutSeq = this.nextSeq();
        session.lastUsedAt = now;
        this.host.health.onHandOut(proxyIdOfSession(session), this.host.site);
        this.settle(session, now);
    }

    /** Puts `session` where its state says (ready, cooling, or nowhere) after a change of its counters. */
    settle(session: ManagedSession, now: number): void {
        const { maxUses, maxConcurrentUses } = this.host.limits();
        const eligible =
            !session.isRetired &&
            session.initialized &&
            !session.initializing &&
            session.inUse < maxConcurrentUses &&
            session.usageCount + session.inUse < maxUses &&
            session.errorScore < session.maxErrorScore &&
            session.expiryPos >= 0;
        const slot = session.proxySlot!;
        if (!eligible) return this.unqueue(session);
        if (session.availableAt > now) {
            if (slot.ready.remove(session)) this.listed(slot);
            this.cooling.update(session);
            return;
        }
        this.cooling.remove(session);
        slot.ready.update(session);
        this.listed(slot);
    }

    private unqueue(session: ManagedSession): void {
        const slot = session.proxySlot;
        if (slot?.ready.remove(session)) this.listed(slot);
        else this.cooling.remove(session);
    }

    /** Keeps {@link withReady} in step with a slot's ready heap. */
    private listed(slot: ProxySlot): void {
        const list = this.withReady;
        if (slot.ready.size > 0) {
            if (slot.listPos < 0) {
                slot.listPos = list.length;
                list.push(slot);
            }
        } else if (slot.listPos >= 0) {
            const last = list.pop()!;
            if (last !== slot) {
                list[slot.listPos] = last;
                last.listPos = slot.listPos;
            }
            slot.listPos = -1;
        }
    }

    /** Moves what time made ready or expired: cooled-down sessions to their slot, expired ones out. */
    private advance(now: number): void {
        for (let s = this.expiry.top(); s !== undefined && s.expiresAt.getTime() <= now; s = this.expiry.top()) {
            this.expiry.pop();
            this.unqueue(s);
            if (s.inUse === 0 && !s.initializing) this.host.retire(s, 'max age reached');
        }
        for (let s = this.cooling.top(); s !== undefined && s.availableAt <= now; s = this.cooling.top()) {
            this.cooling.pop();
            this.settle(s, now);
        }
    }

    /** One decision: hand out a session, create one (on which proxy), or wait (and until when). */
    decide(now: number): Decision {
        this.advance(now);
        const open: ProxySlot[] = [];
        let total = 0;
        let wakeAt = Infinity;
        let evictable: ManagedSession | undefined;
        let banned: ProxySlot[] | undefined;
        /** Idle sessions that are not ready only because their proxy is paced or backed off. */
        let heldBack = 0;
        const list = this.withReady;
        for (let i = 0; i < list.length; i++) {
            const slot = list[i]!;
            slot.refresh(now);
            if (slot.open(now)) {
                open.push(slot);
                total += slot.ready.size;
                continue;
            }
            heldBack += slot.ready.size;
            if (slot.availability === 'banned') (banned ??= []).push(slot);
            else if (slot.availability === 'backoff' && evictable === undefined) evictable = idleIn(slot);
            const at = slot.wakeAt(now);
            if (at !== undefined && at < wakeAt) wakeAt = at;
        }
        if (banned) {
            for (const slot of banned) this.retireIdleOn(slot);
            return this.decide(now);
        }
        this.open = open;
        this.total = total;
        const limits = this.host.limits();
        const hasRoom = this.host.occupancy() < limits.size;
        const room = hasRoom || evictable !== undefined;
        const policy = this.host.policy;
        let proxiesExhausted = false;
        let allBanned = false;
        let proxiesStalled = false;
        if (room && (total === 0 || policy.preferNew(total > 0))) {
            const evict = hasRoom ? undefined : evictable;
            const fixed = this.host.fixedProxies;
            if (!fixed) return { kind: 'create', proxyId: undefined, evict };
            const proxies: ProxyCandidate[] = [];
            let bannedCount = 0;
            let unusable = 0;
            let stalled = 0;
            for (const id of fixed) {
                const slot = this.slot(id);
                slot.refresh(now);
                if (slot.availability === 'usable') {
                    if (slot.pacedUntil > now) {
                        if (slot.pacedUntil < wakeAt) wakeAt = slot.pacedUntil;
                        continue;
                    }
                    proxies.push({ id, load: slot.live, lastPickedSeq: slot.lastPickedSeq });
                    continue;
                }
                if (slot.availability === 'banned') bannedCount++;
                else unusable++;
                if (slot.health.stalled(now)) stalled++;
                const at = slot.wakeAt(now);
                if (at !== undefined && at < wakeAt) wakeAt = at;
            }
            // On demand: while idle sessions wait only for their proxy (paced, backed off), a new one goes to a proxy
            // without a session; when every session is busy or cooling down itself, any usable proxy will do (the
            // policy still prefers the least loaded).
            const offer = policy.onDemand && this.host.occupancy() > 0 && heldBack > 0 ? proxies.filter((p) => p.load === 0) : proxies;
            if (offer.length > 0) return { kind: 'create', proxyId: policy.pickProxy(offer, this.ctx).id, evict };
            if (total === 0) {
                const n = fixed.length;
                allBanned = n > 0 && bannedCount === n && this.host.occupancy() === 0;
                proxiesExhausted = n > 0 && bannedCount + unusable === n;
                proxiesStalled = n > 0 && stalled === n;
            }
        }
        if (total > 0) return { kind: 'session', session: policy.pickSession(this, this.ctx) };
        const top = this.cooling.top();
        if (top && top.availableAt < wakeAt) wakeAt = top.availableAt;
        return { kind: 'wait', wakeAt, proxiesExhausted, allBanned, proxiesStalled };
    }

    /** Retires the idle sessions on a proxy banned for this pool (once per ban: they leave the index). */
    private retireIdleOn(slot: ProxySlot): void {
        const victims: ManagedSession[] = [];
        for (const s of this.host.sessions()) if (s.proxySlot === slot && s.inUse === 0 && !s.initializing) victims.push(s);
        for (const s of victims) this.host.retire(s, 'proxy banned for this site');
        // In-use ones leave the ready heap until their report retires them.
        while (slot.ready.size > 0) this.unqueue(slot.ready.top()!);
    }

    // ------------------------------------------------------------ Candidates (valid during one decision)

    get size(): number {
        return this.total;
    }

    at(index: number): ManagedSession {
        let i = index;
        for (const slot of this.open) {
            if (i < slot.ready.size) return slot.ready.at(i);
            i -= slot.ready.size;
        }
        throw new RangeError(`candidate ${index} of ${this.total}`);
    }

    first(byScore: boolean): ManagedSession {
        const before = this.host.policy.order === 'newest-first' ? newer : older;
        let best: ManagedSession | undefined;
        let bestScore = -1;
        for (const slot of this.open) {
            const top = slot.ready.top()!;
            if (byScore) {
                const score = Math.round(slot.score() * 1000);
                if (score < bestScore) continue;
                if (score > bestScore) {
                    bestScore = score;
                    best = top;
                    continue;
                }
            }
            if (best === undefined || before(top, best)) best = top;
        }
        return best!;
    }

    firstNear(fraction: number): ManagedSession {
        const before = this.host.policy.order === 'newest-first' ? newer : older;
        let top = -1;
        for (const slot of this.open) top = Math.max(top, slot.score());
        let best: ManagedSession | undefined;
        for (const slot of this.open) {
            if (slot.score() < fraction * top) continue;
            const candidate = slot.ready.top()!;
            if (best === undefined || before(candidate, best)) best = candidate;
        }
        return best!;
    }

    /** Counts for error messages (a full scan: only when an acquire gives up). */
    describe(now: number): string {
        let busy = 0;
        let initializing = 0;
        let cooling = 0;
        let backoff = 0;
        for (const s of this.host.sessions()) {
            if (s.initializing) initializing++;
            else if (s.proxySlot && (s.proxySlot.refresh(now), s.proxySlot.availability === 'backoff')) backoff++;
            else if (s.availableAt > now && s.inUse === 0) cooling++;
            else busy++;
        }
        const parts: string[] = [];
        if (busy) parts.push(`${busy} busy`);
        if (initializing) parts.push(`${initializing} initializing`);
        if (cooling) parts.push(`${cooling} cooling down`);
        if (backoff) parts.push(`${backoff} on proxies in backoff`);
        return parts.join(', ');
    }
}

/** An idle session in a slot's ready heap (usually its top), if any. */
function idleIn(slot: ProxySlot): ManagedSession | undefined {
    const heap = slot.ready;
    for (let i = 0; i < heap.size; i++) if (heap.at(i).inUse === 0) return heap.at(i);
    return undefined;
}
