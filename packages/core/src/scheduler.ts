/**
 * The scheduler of one pool: which session to hand out, whether to create one (on which proxy), and when waiters
 * should look again. It keeps an index of the pool's sessions by readiness so that no decision scans the pool:
 *
 * - ready sessions sit in their proxy's slot, in a heap in the policy's order; the slots whose proxy is usable sit
 *   in a heap in the pool's hand-out order (ranked by rounded score first for a policy that asks for it), the
 *   Candidates view a policy picks from (open-slots.ts): a pick is O(log n + log p), O(p) at worst, and reads (draws)
 *   only the scores of the slots whose proxy changed since the last pick (hand-outs and outcomes say which);
 * - slots are re-read from proxy health only when some proxy's availability changed (the model's `epoch`) or time
 *   reached the end of a backoff or pace: O(proxies) then, not on every acquire;
 * - cooling sessions (min delay between uses, Retry-After) sit in a heap by the time they are ready again;
 * - every live session sits in a heap by expiry, so sessions past their age leave without being looked for;
 * - sessions in use up to their concurrency cap or use limit sit in no heap until their use is reported.
 */
import type { Decision } from './decision.js';
import { DrawGuard } from './draw-guard.js';
import { ExploreGate, waitViewOf } from './explore-gate.js';
import type { OutcomeEffect, ProxyHealthModel } from './health-model.js';
import { IndexedHeap } from './heap.js';
import { KeptUrls } from './kept-urls.js';
import { NEXT_CHANGE, NEXT_COOLED, NEXT_EXPIRY, OpenSlots } from './open-slots.js';
import type { PolicyContext, SessionPolicy } from './policies.js';
import { DIRECT_PROXY_ID } from './proxies.js';
import type { ManagedSession } from './session.js';
import { idleIn, NO_SESSIONS, sessionHeap } from './ready-order.js';
import { ProxySlot as Slot, type ProxyCandidate } from './slot.js';

type ProxySlot = Slot<ManagedSession>;

/** What the scheduler needs from its pool and manager. */
export interface SchedulerHost {
    readonly site: string;
    readonly policy: SessionPolicy;
    readonly health: ProxyHealthModel;
    /** Ids of the fixed proxies (`direct` for none), or undefined when every session gets its URL from a ProxyConfiguration. */
    readonly fixedProxies: readonly string[] | undefined;
    /** With tiered proxies: keeps only the proxies of the pool's tier for a new session (see `TierGate`). */
    readonly tiers?: { narrow(proxies: ProxyCandidate[], now: number): ProxyCandidate[] };
    readonly random: () => number;
    /** The pool's limits: its options object itself, read live (one object: no call per read in a cold pool). */
    readonly limits: { readonly size: number; readonly maxUses: number; readonly maxConcurrentUses: number; readonly explorationRate: number };
    /** Live sessions plus those being created. */
    occupancy(): number;
    /** Acquirers waiting on the pool. */
    waiting(): number;
    /** Live sessions (for the rare full scans: a proxy banned, error messages). */
    sessions(): Iterable<ManagedSession>;
    retire(session: ManagedSession, reason: string): void;
}

const proxyIdOfSession = (s: ManagedSession) => s.identity.proxy?.id ?? DIRECT_PROXY_ID;

export class Scheduler {
    private readonly slots = new Map<string, ProxySlot>();
    /** Slots with at least one ready session. */
    private readonly withReady: ProxySlot[] = [];
    private readonly cooling = new IndexedHeap<ManagedSession>(
        (a, b) => a.availableAt < b.availableAt,
        (s) => s.queuePos,
        (s, p) => void (s.queuePos = p),
    );
    private readonly expiry = new IndexedHeap<ManagedSession>(
        (a, b) => a.expiresAt.getTime() < b.expiresAt.getTime(),
        (s) => s.expiryPos,
        (s, p) => void (s.expiryPos = p),
    );
    /** The view's numbers, read per decision (`NEXT_*`: next expiry, next cool-down end, when the open heap stops holding). */
    private readonly num: Float64Array;
    private seq = 0;
    private ordinals = 0;
    /** Slots with ready sessions whose proxy is usable now: the Candidates view a policy picks from. */
    private readonly view: OpenSlots;
    /** Slots with ready sessions whose proxy is in backoff (sessions there may be evicted when the pool is full). */
    private backoff: ProxySlot[] = [];
    /** The health epoch the open heap was built at, and the time it stops holding. */
    private epoch = -1;
    private fixedSlots: ProxySlot[] | undefined;
    /** With a dynamic ProxyConfiguration (a gateway): URLs of used-up sessions, taken by new sessions first. */
    private readonly kept = new KeptUrls<ManagedSession>();
    /** With a dynamic ProxyConfiguration: new session ids wait after failed draws. */
    private readonly draws = new DrawGuard();
    /** Growing on demand: whether a new proxy's expected block is worth the wait it saves (the pool's use durations). */
    readonly gate = new ExploreGate();
    private readonly ctx: PolicyContext;
    /** Whether the policy picks ready sessions by position (then they sit in heaps, see `sessionHeap`). */
    private readonly byPosition: boolean;

    constructor(private readonly host: SchedulerHost) {
        const limits = host.limits;
        this.byPosition = host.policy.picksAt(limits.explorationRate);
        this.view = new OpenSlots(host.policy);
        this.num = this.view.num;
        this.num.set([Infinity, Infinity, -Infinity], NEXT_EXPIRY);
        this.ctx = {
            site: host.site,
            random: host.random,
            explorationRate: limits.explorationRate,
            proxyScore: (id) => this.slot(id).score(this.view.now),
            proxyTrials: (id) => this.slot(id).health.trials(),
        };
    }

    private readonly slotOf = (proxyId: string) => this.slot(proxyId);

    /** The slot of a proxy in this pool (created on first use). */
    slot(proxyId: string): ProxySlot {
        let slot = this.slots.get(proxyId);
        if (!slot) {
            slot = new Slot<ManagedSession>(proxyId, this.host.health.handle(proxyId, this.host.site), NO_SESSIONS);
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
        if (slot.ready === NO_SESSIONS) slot.ready = sessionHeap(this.host.policy.order, this.byPosition);
        session.proxySlot = slot;
        session.ordinal = ++this.ordinals;
        slot.live++;
        if (session.handOutSeq > this.seq) this.seq = session.handOutSeq;
        this.expiry.push(session);
        this.expiryMoved();
    }

    /** Re-reads the next expiry after the expiry heap changed. */
    private expiryMoved(): void {
        this.num[NEXT_EXPIRY] = this.expiry.top()?.expiresAt.getTime() ?? Infinity;
    }

    /** Re-reads the next cool-down end after the cooling heap changed. */
    private coolingMoved(): void {
        this.num[NEXT_COOLED] = this.cooling.top()?.availableAt ?? Infinity;
    }

    /** A session left the pool (retired). */
    release(session: ManagedSession): void {
        this.unqueue(session);
        if (this.expiry.remove(session)) this.expiryMoved();
        const slot = session.proxySlot;
        if (slot) slot.live--;
        if (!this.host.fixedProxies && slot) this.draws.forget(slot.id);
    }

    /** A new session was put on `proxyId` (round-robin of proxies). */
    pickedProxy(proxyId: string): void {
        this.slot(proxyId).lastPickedSeq = this.nextSeq();
    }

    /**
     * Through a gateway, the session on `proxyId` was retired used up, not blocked: its URL (a sticky session id, so one
     * exit IP) is known to serve, so the next new session takes it (fresh cookies, same exit) instead of drawing a new
     * session id, which may land on a banned or burnt exit. At most the pool's size of them are kept.
     */
    reuseLater(proxyId: string): void {
        this.kept.keep(proxyId, this.host.limits.size);
    }

    /** Through a gateway, a new session drew a new URL (a new session id: an unknown exit) whose proxy id is `proxyId`. */
    drew(proxyId: string): void {
        this.draws.drew(proxyId);
    }

    /** An outcome on `proxyId` (through a gateway, the first one of a drawn URL judges that draw; a 429 holds draws too). */
    judged(proxyId: string, effect: OutcomeEffect, now: number, retryAfterMillis = 0): void {
        if (!this.host.fixedProxies) this.draws.judge(proxyId, effect, now, retryAfterMillis);
    }

    /** Counts one more open use of `session`. */
    handOut(session: ManagedSession, now: number): void {
        session.inUse++;
        session.handOutSeq = this.nextSeq();
        session.lastUsedAt = now;
        // Through the slot's handle: it holds the records of (proxy, site) a hand-out reads and writes.
        session.proxySlot!.health.onHandOut(now);
        // The hand-out changed the proxy's record on this site: its next score read draws again.
        this.view.changed(session.proxySlot!);
        this.settle(session, now);
    }

    /** Puts `session` where its state says (ready, cooling, or nowhere) after a change of its counters. */
    settle(session: ManagedSession, now: number): void {
        const { maxUses, maxConcurrentUses } = this.host.limits;
        const eligible =
            !session.isRetired &&
            session.initialized &&
            !session.initializing &&
            session.inUse + session.heldElsewhere < maxConcurrentUses &&
            session.usageCount + session.inUse < maxUses &&
            session.errorScore < session.maxErrorScore &&
            session.expiryPos >= 0;
        const slot = session.proxySlot!;
        if (!eligible) return this.unqueue(session);
        if (session.availableAt > now) {
            if (slot.ready.remove(session)) this.listed(slot);
            this.cooling.update(session);
            return this.coolingMoved();
        }
        if (this.cooling.remove(session)) this.coolingMoved();
        slot.ready.update(session);
        this.listed(slot, now);
    }

    private unqueue(session: ManagedSession): void {
        const slot = session.proxySlot;
        if (slot?.ready.remove(session)) this.listed(slot);
        else if (this.cooling.remove(session)) this.coolingMoved();
    }

    /** Keeps {@link withReady}, the open heap and the candidate total in step with a slot's ready heap. */
    private listed(slot: ProxySlot, now?: number): void {
        const list = this.withReady;
        if (slot.openPos >= 0) {
            this.view.total += slot.ready.size - slot.counted;
            slot.counted = slot.ready.size;
            if (slot.ready.size === 0) this.view.drop(slot);
            else this.view.put(slot);
        }
        if (slot.ready.size > 0) {
            if (slot.listPos < 0) {
                slot.listPos = list.length;
                list.push(slot);
                this.admit(slot, now);
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

    /** A slot just got ready sessions: put it where its proxy's state says, without re-reading every slot. */
    private admit(slot: ProxySlot, now: number | undefined): void {
        if (now === undefined || this.epoch !== this.host.health.epoch) {
            this.num[NEXT_CHANGE] = -Infinity;
            return;
        }
        slot.refresh(now);
        if (slot.changesAt < this.num[NEXT_CHANGE]!) this.num[NEXT_CHANGE] = slot.changesAt;
        if (slot.open(now)) {
            if (this.host.policy.byScore) slot.rank = Math.round(slot.score(now) * 1000);
            slot.counted = slot.ready.size;
            this.view.total += slot.counted;
            this.view.put(slot);
        } else if (slot.availability === 'backoff') {
            if (!this.backoff.includes(slot)) this.backoff.push(slot);
        } else if (slot.availability === 'banned') this.num[NEXT_CHANGE] = -Infinity;
    }

    /** Moves what time made ready or expired: cooled-down sessions to their slot, expired ones out. */
    private advance(now: number): void {
        while (this.num[NEXT_EXPIRY]! <= now) {
            const s = this.expiry.pop()!;
            this.expiryMoved();
            this.unqueue(s);
            if (s.inUse === 0 && !s.initializing) this.host.retire(s, 'max age reached');
        }
        while (this.num[NEXT_COOLED]! <= now) {
            const s = this.cooling.pop()!;
            this.coolingMoved();
            this.settle(s, now);
        }
    }

    /** Its proxy's health changed through this pool (an outcome): its score is drawn again on its next read. */
    touch(proxyId: string, known?: ProxySlot): void {
        // The caller's slot when it has it: a lookup in a cold pool's map costs more than the rest of this.
        const slot = known ?? this.slots.get(proxyId);
        if (!slot) return;
        this.view.changed(slot);
        // Slots are ranked by score only for a policy that asks for it; otherwise scores are read when picking.
        if (this.host.policy.byScore && slot.openPos >= 0) {
            slot.rank = Math.round(slot.score() * 1000);
            this.view.put(slot);
        }
    }

    /** Re-reads every slot with ready sessions and rebuilds the open heap (when proxy health or time changed them). */
    private rebuild(now: number): void {
        let banned: ProxySlot[] | undefined;
        this.epoch = this.host.health.epoch;
        let next = Infinity;
        this.backoff = [];
        const list = this.withReady;
        for (let i = 0; i < list.length; i++) {
            const slot = list[i]!;
            slot.refresh(now);
            if (slot.changesAt < next) next = slot.changesAt;
            if (slot.open(now)) {
                if (this.host.policy.byScore) slot.rank = Math.round(slot.score(now) * 1000);
                if (slot.openPos < 0) {
                    slot.counted = slot.ready.size;
                    this.view.total += slot.counted;
                }
                // A proxy's availability changed (its score is drawn again in every pool), or time did: read it again.
                this.view.changed(slot);
                this.view.put(slot);
                continue;
            }
            if (slot.openPos >= 0) {
                this.view.drop(slot);
                this.view.total -= slot.counted;
                slot.counted = 0;
            }
            if (slot.availability === 'banned') (banned ??= []).push(slot);
            else if (slot.availability === 'backoff') this.backoff.push(slot);
        }
        this.num[NEXT_CHANGE] = next;
        if (banned) for (const slot of banned) this.retireIdleOn(slot);
    }

    /** One decision: hand out a session, create one (on which proxy), or wait (and until when). */
    decide(now: number): Decision {
        this.view.now = now;
        this.advance(now);
        if (this.epoch !== this.host.health.epoch || now >= this.num[NEXT_CHANGE]!) this.rebuild(now);
        const total = this.view.total;
        let wakeAt = this.num[NEXT_CHANGE]!;
        let evictable: ManagedSession | undefined;
        for (const slot of this.backoff) if ((evictable = idleIn(slot))) break;
        const limits = this.host.limits;
        const hasRoom = this.host.occupancy() < limits.size;
        const room = hasRoom || evictable !== undefined;
        const policy = this.host.policy;
        let proxiesExhausted = false;
        let allBanned = false;
        let proxiesStalled = false;
        const wantsNew = room && (total === 0 || policy.preferNew(total > 0));
        const evict = hasRoom ? undefined : evictable;
        const fixed = this.host.fixedProxies;
        if (wantsNew && !fixed && this.host.occupancy() < this.draws.limit(limits.size, now)) {
            // Through a gateway: a kept URL (an exit known to serve) first; a new id (a draw) unless failed draws hold it
            // (or ids crowd the exits: fewer live ids, see draw-guard.ts).
            const kept = this.kept.size > 0 ? this.kept.take(now, this.slotOf) : undefined;
            if (kept !== undefined || now >= this.draws.heldUntil) return { kind: 'create', proxyId: kept, evict };
            if (this.draws.heldUntil < wakeAt) wakeAt = this.draws.heldUntil;
        }
        if (wantsNew && fixed) {
            this.fixedSlots ??= fixed.map((id) => this.slot(id));
            const proxies: ProxyCandidate[] = [];
            let bannedCount = 0;
            let unusable = 0;
            let stalled = 0;
            for (const slot of this.fixedSlots) {
                slot.refresh(now);
                if (slot.availability === 'usable') {
                    if (slot.pacedUntil > now) {
                        if (slot.pacedUntil < wakeAt) wakeAt = slot.pacedUntil;
                        continue;
                    }
                    const c = slot.candidate;
                    c.load = slot.live;
                    c.lastPickedSeq = slot.lastPickedSeq;
                    proxies.push(c);
                    continue;
                }
                if (slot.availability === 'banned') bannedCount++;
                else unusable++;
                if (slot.health.stalled(now)) stalled++;
                const at = slot.wakeAt(now);
                if (at !== undefined && at < wakeAt) wakeAt = at;
            }
            // On demand: while idle sessions wait only for their proxy (paced, backed off), a new one goes to a proxy
            // without a session, else to any usable one (the least loaded first); only if it is worth the wait it saves.
            const wait = policy.onDemand && this.host.occupancy() > 0 ? waitViewOf(this.withReady, this.cooling, this.host.occupancy(), this.host.waiting(), now) : undefined;
            const open = wait && wait.held > 0 ? proxies.filter((p) => p.load === 0) : proxies;
            const offer = this.host.tiers ? this.host.tiers.narrow(open, now) : open;
            const pick = offer.length > 0 ? policy.pickProxy(offer, this.ctx).id : undefined;
            if (pick !== undefined && (!wait || this.gate.explores(this.slot(pick).health, wait, now))) return { kind: 'create', proxyId: pick, evict };
            if (pick !== undefined && this.gate.lookAgainAt < wakeAt) wakeAt = this.gate.lookAgainAt;
            if (total === 0) {
                const n = fixed.length;
                allBanned = n > 0 && bannedCount === n && this.host.occupancy() === 0;
                proxiesExhausted = n > 0 && bannedCount + unusable === n;
                proxiesStalled = n > 0 && stalled === n;
            }
        }
        if (total > 0) return { kind: 'session', session: policy.pickSession(this.view, this.ctx) };
        if (this.num[NEXT_COOLED]! < wakeAt) wakeAt = this.num[NEXT_COOLED]!;
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
}
