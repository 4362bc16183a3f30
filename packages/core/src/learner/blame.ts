/**
 * Blame attribution: whose fault a block is, decided from what is known when it comes.
 *
 * - `site`: most proxies were blocked on the site within a short window (see {@link SiteGuard}): the site is down or
 *   blocks everyone, or the check is wrong. Nothing is charged; the pool pauses.
 * - `proxy`: the session's first use or its init was blocked (a fresh session has no history of its own), or the
 *   block is ambiguous (no other session shows the proxy still passes): the proxy is backed off on the site at once,
 *   so a proxy that burns costs one blocked request, not three.
 * - `session`: the session had many good uses and another session on the same proxy passed recently: the proxy is
 *   fine, the session is used up (a per-session cap, a cookie's reputation). Retire the session, keep the proxy. Once
 *   the pool has a learned cap, only a block near it is the session's.
 *
 * Through a gateway (a dynamic ProxyConfiguration: the exit IP is unknown) the session and its proxy URL are one
 * thing, so `proxy` and `session` come to the same: retire the session, keep its URL away.
 */
import { PAIR_STRIDE, PairMap, Pairs, RECENT_AT, type Pair } from './pair-map.js';

/** Whose fault a block is. */
export type Blame = 'proxy' | 'session' | 'site';

/** What attribution looks at. */
export interface BlameInput {
    /** Good uses of the session before this one. */
    goodUses: number;
    /** The block came during the session's init. */
    duringInit: boolean;
    /** Another session on the same proxy had a good use on this site recently. */
    otherSessionPassed: boolean;
    /** The site guard found the block site-wide. */
    siteWide: boolean;
    /** Good uses from which a block with a passing sibling is the session's fault. */
    manyGoodUses: number;
    /**
     * The pool's learned cap, if any: a session's own fault (its cap) comes near it, so a block well before it is the
     * proxy's even with a passing sibling (an IP that burns blocks every session on it, the first one blocked while
     * the others' passes are still recent).
     */
    cap?: number;
}

/** A block counts as near the learned cap from this share of it (the cap learner's spread of agreeing counts). */
const NEAR_CAP = 0.85;

export function attributeBlock(input: BlameInput): Blame {
    if (input.siteWide) return 'site';
    if (input.duringInit || input.goodUses === 0) return 'proxy';
    const nearCap = input.cap === undefined || input.goodUses >= NEAR_CAP * input.cap;
    if (input.goodUses >= input.manyGoodUses && input.otherSessionPassed && nearCap) return 'session';
    return 'proxy';
}

/** A session's latest good use on one (proxy, site). */
interface RecentGood {
    sessionId: string;
    at: number;
}

/** How many sessions' latest good uses are kept per (proxy, site): the question is only whether any other one passed lately. */
const KEPT = 8;

/** Recent good uses per (proxy, site) by session: "does another session on this proxy still pass?" */
export class SiblingTracker {
    /**
     * Per (proxy, site), the latest good use of up to {@link KEPT} sessions: the newest on the pair itself (`recentId`,
     * its time in the pair's numbers at `RECENT_AT`: the same session again, the usual case with one session per proxy,
     * reads nothing else), the older ones, oldest first, in a list made when a second session passes.
     */
    private readonly older: PairMap<RecentGood[]>;
    private readonly pairs: Pairs;

    /** `pairs`: the learner's interning (callers holding a pair read its record directly). */
    constructor(
        private readonly windowMillis = 30_000,
        pairs?: Pairs,
    ) {
        this.pairs = pairs ?? new Pairs();
        this.older = new PairMap<RecentGood[]>(this.pairs);
    }

    onGood(proxyId: string, site: string, sessionId: string, now: number, pair?: Pair): void {
        const p = pair?.owner === this.pairs ? pair : this.pairs.of(proxyId, site);
        const at = PAIR_STRIDE * p.index + RECENT_AT;
        const newest = p.recentId;
        if (newest !== undefined && newest !== sessionId) {
            // The newest so far joins the older ones; this session's entry there (if any) leaves, or the oldest one
            // when all KEPT are taken. A dropped entry is reused: a use allocates nothing here once the list is full.
            let older = this.older.at(p);
            if (!older) this.older.set(proxyId, site, (older = []));
            let i = older.length - 1;
            while (i >= 0 && older[i]!.sessionId !== sessionId) i--;
            let entry: RecentGood;
            if (i < 0 && older.length < KEPT - 1) entry = { sessionId: newest, at: this.pairs.num[at]! };
            else {
                if (i < 0) i = 0;
                entry = older[i]!;
                for (let j = i; j < older.length - 1; j++) older[j] = older[j + 1]!;
                older.pop();
                entry.sessionId = newest;
                entry.at = this.pairs.num[at]!;
            }
            older.push(entry);
        }
        p.recentId = sessionId;
        this.pairs.num[at] = now;
    }

    /** Whether a session other than `sessionId` had a good use on (proxy, site) within the window. */
    otherPassed(proxyId: string, site: string, sessionId: string, now: number): boolean {
        const p = this.pairs.find(proxyId, site);
        if (p?.recentId === undefined) return false;
        const since = now - this.windowMillis;
        if (p.recentId !== sessionId && this.pairs.num[PAIR_STRIDE * p.index + RECENT_AT]! > since) return true;
        for (const g of this.older.at(p) ?? []) if (g.sessionId !== sessionId && g.at > since) return true;
        return false;
    }
}
