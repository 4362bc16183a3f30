/**
 * Ground truth: what the site and the proxies actually saw. Tests and benchmarks assert on these,
 * never on what a crawler says about itself.
 */

/**
 * What a response was, one kind per request.
 * - `page`: real content (2xx HTML page, JSON from the API, the location form or its confirmation)
 * - `landing`: the page (200) that sets the session cookie for a client without one (`sessionRequired`)
 * - `unauthorized`: the API's 401 for a client without a session (`sessionRequired`)
 * - `forbidden`: a plain 403 (IP ban, identity block, CSRF failure); challenges are not counted here
 * - `rate-limited`: 429 with Retry-After
 * - `soft-block`: 200 "Access denied / unusual traffic" page
 * - `challenge`: 403 anti-bot interstitial (Cloudflare turnstile and friends)
 * - `captcha`: 200 captcha form (bans configured so, challenges, usage caps)
 * - `not-found`: 404
 * - `bad-request`: 400 (malformed form or body)
 * - `redirect`: a 302 of `/redirect?to=<path>` (it carries the session cookie like any response)
 * - `error`: a status the client asked `/status/<code>` for (5xx target errors, a 403 as plain text...)
 * - `beacon`: the beacon POST (204); not counted in `requests`
 */
export type ResponseKind =
    | 'page'
    | 'landing'
    | 'unauthorized'
    | 'forbidden'
    | 'rate-limited'
    | 'soft-block'
    | 'challenge'
    | 'captcha'
    | 'not-found'
    | 'bad-request'
    | 'redirect'
    | 'error'
    | 'beacon';

/**
 * Why the site refused a request (set on refused entries only).
 * - `ip-ban`: the client IP is banned (from the start or by drift)
 * - `challenged`: the client matched `site.challenges` (user agent or IP)
 * - `rate-limit-ip` / `rate-limit-session`: over the limit, or during its Retry-After penalty
 * - `no-session`: `sessionRequired` and no valid session cookie
 * - `identity`: the session is flagged for an inconsistent user agent and `identity.block` is on
 * - `usage-cap`: the session used up `usageCap` pages
 * - `csrf`: missing or wrong CSRF token
 * - `outage`: the site answers everyone with 403 for a while ({@link ProvingGround.startOutage})
 */
export type RefusalReason =
    | 'ip-ban'
    | 'challenged'
    | 'rate-limit-ip'
    | 'rate-limit-session'
    | 'no-session'
    | 'identity'
    | 'usage-cap'
    | 'csrf'
    | 'outage';

/** Counters kept per IP, per session, per host and in total. */
export interface Counters {
    /** HTTP requests the site answered (beacon POSTs excluded, see `beacons`). */
    requests: number;
    /** Responses with real content (kind `page`: 2xx HTML or API JSON). */
    pages: number;
    /** Landing pages served to clients without the session cookie (kind `landing`). */
    landings: number;
    /** Plain 403 responses (kind `forbidden`): bans, identity blocks, CSRF failures. Challenges (also 403) are in `challenges`. */
    forbidden: number;
    /** 429 responses (kind `rate-limited`). */
    rateLimited: number;
    /** 200 "access denied / unusual traffic" pages (kind `soft-block`). */
    softBlocks: number;
    /** 403 anti-bot interstitials (kind `challenge`). */
    challenges: number;
    /** 200 captcha pages (kind `captcha`), from bans, challenges or usage caps. */
    captchas: number;
    /** 401 answers of the API to clients without a session (kind `unauthorized`). */
    unauthorized: number;
    /** 404 responses. */
    notFound: number;
    /** Beacon POSTs received (not counted in `requests`). */
    beacons: number;
    /**
     * Identity mismatches detected: a request whose header user agent differs from the previous one
     * of the same session cookie, or a beacon whose `navigator.userAgent` differs from the session's
     * header user agent. Counted once per event.
     */
    uaMismatches: number;
    /** Requests made while that IP or that session was under a Retry-After penalty (they extend it). */
    duringPenalty: number;
    /** Distinct header user agents seen, in first-seen order (at most 50). */
    userAgents: string[];
}

/** One request as the site saw it. */
export interface RequestLogEntry {
    /** Time (ms since epoch) the request arrived. */
    t: number;
    /** Hostname from the Host header, without port, lower-case (`shop.test`, `127.0.0.1`). */
    host: string;
    /** Client IP from the socket's remote address (the proxy's source address). */
    ip: string;
    /** Index in `pg.proxies` of the proxy whose source address is `ip`, if any. */
    proxy?: number;
    /** Session id (the value of the session cookie), if the request had a valid one or got a new one. */
    sid?: string;
    method: string;
    /** Path with query string. */
    path: string;
    status: number;
    kind: ResponseKind;
    /** Why the request was refused, for refused requests. */
    reason?: RefusalReason;
    /** The header user agent (empty string when absent). */
    userAgent: string;
    /** The session's location when the response was made, if a session was known. */
    location?: string;
    /** Set when this request revealed an identity mismatch. */
    uaMismatch?: boolean;
    /** Set when this request came during a Retry-After penalty. */
    duringPenalty?: boolean;
}

/** What a proxy of the farm saw. */
export interface ProxyCounters {
    /** TCP connections the proxy accepted (0 for a `refuse` proxy: nothing listens). */
    connections: number;
    /** Proxy requests: one per CONNECT tunnel or forwarded HTTP request (requests inside a tunnel are not seen). */
    requests: number;
    /** Requests the proxy answered with an error itself: `tunnel-error` proxies, non-loopback targets. */
    refused: number;
    /** Requests answered with 407 (missing or wrong credentials). */
    authFailures: number;
}

/* Counters of the residential-style gateway (see gateway.ts). */
/** What the gateway saw. */
export interface GatewayCounters {
    /** TCP connections accepted. */
    connections: number;
    /** Proxy requests (one per CONNECT tunnel or forwarded HTTP request). */
    requests: number;
    /** Requests without a `session-<id>` in the username (sent through a random exit). */
    withoutSession: number;
    /** Requests answered 407 (wrong password when one is configured). */
    authFailures: number;
    /** Requests refused (targets outside loopback). */
    refused: number;
    /** Proxy requests per session id. */
    bySessionId: Record<string, number>;
    /** Proxy requests per exit index. */
    byExit: Record<string, number>;
}

/** Everything {@link ProvingGround.stats} returns (a snapshot; later traffic does not change it). */
export interface GroundTruth {
    /** What the residential-style gateway saw, when one is configured (its exits' traffic is in `byIp` as well). */
    gateway?: GatewayCounters;
    /** Counters per client IP. */
    byIp: Record<string, Counters>;
    /** Counters per session id (cookie value). */
    bySession: Record<string, Counters>;
    /** Counters per hostname (`shop.test`, `news.test`, `127.0.0.1`). */
    byHost: Record<string, Counters>;
    /** Counters per proxy, keyed by its index in `pg.proxies` (`'0'`, `'1'`, ...). */
    byProxy: Record<string, ProxyCounters>;
    /** Counters over all requests. */
    totals: Counters;
    /** The request log, oldest first (at most `maxLogEntries`, the oldest dropped first). */
    requests: RequestLogEntry[];
    /** How many log entries were dropped because of `maxLogEntries`. */
    droppedRequests: number;
}

const MAX_USER_AGENTS = 50;

export function emptyCounters(): Counters {
    return {
        requests: 0,
        pages: 0,
        landings: 0,
        forbidden: 0,
        rateLimited: 0,
        softBlocks: 0,
        challenges: 0,
        captchas: 0,
        unauthorized: 0,
        notFound: 0,
        beacons: 0,
        uaMismatches: 0,
        duringPenalty: 0,
        userAgents: [],
    };
}

const KIND_COUNTER: Partial<Record<ResponseKind, keyof Counters>> = {
    page: 'pages',
    landing: 'landings',
    unauthorized: 'unauthorized',
    forbidden: 'forbidden',
    'rate-limited': 'rateLimited',
    'soft-block': 'softBlocks',
    challenge: 'challenges',
    captcha: 'captchas',
    'not-found': 'notFound',
    beacon: 'beacons',
};

function countInto(counters: Counters, entry: RequestLogEntry): void {
    if (entry.kind !== 'beacon') counters.requests++;
    const key = KIND_COUNTER[entry.kind];
    if (key) (counters[key] as number)++;
    if (entry.uaMismatch) counters.uaMismatches++;
    if (entry.duringPenalty) counters.duringPenalty++;
    if (entry.kind !== 'beacon' && counters.userAgents.length < MAX_USER_AGENTS && !counters.userAgents.includes(entry.userAgent)) {
        counters.userAgents.push(entry.userAgent);
    }
}

function cloneCounters(counters: Counters): Counters {
    return { ...counters, userAgents: [...counters.userAgents] };
}

function cloneMap<T>(map: Map<string, T>, clone: (value: T) => T): Record<string, T> {
    const out: Record<string, T> = {};
    for (const [key, value] of map) out[key] = clone(value);
    return out;
}

/** Records requests and keeps the counters; one per proving ground. */
export class StatsRecorder {
    private byIp = new Map<string, Counters>();
    private bySession = new Map<string, Counters>();
    private byHost = new Map<string, Counters>();
    private byProxy = new Map<string, ProxyCounters>();
    private totals = emptyCounters();
    private log: RequestLogEntry[] = [];
    private dropped = 0;

    constructor(private readonly maxLogEntries: number) {}

    /** Records one answered request in every breakdown it belongs to. */
    record(entry: RequestLogEntry): void {
        countInto(this.totals, entry);
        countInto(this.counters(this.byIp, entry.ip), entry);
        countInto(this.counters(this.byHost, entry.host), entry);
        if (entry.sid !== undefined) countInto(this.counters(this.bySession, entry.sid), entry);
        this.log.push(entry);
        // Drop in chunks so a full log does not shift the array on every request.
        if (this.log.length > this.maxLogEntries + Math.max(1, Math.floor(this.maxLogEntries / 10))) {
            const excess = this.log.length - this.maxLogEntries;
            this.log.splice(0, excess);
            this.dropped += excess;
        }
    }

    /** The counters of one proxy (created on first use), for the farm to update. */
    proxy(index: number): ProxyCounters {
        const key = String(index);
        let counters = this.byProxy.get(key);
        if (!counters) {
            counters = { connections: 0, requests: 0, refused: 0, authFailures: 0 };
            this.byProxy.set(key, counters);
        }
        return counters;
    }

    /** Registers the farm's proxies so every one of them appears in `byProxy`, even with no traffic. */
    registerProxies(count: number): void {
        for (let i = 0; i < count; i++) this.proxy(i);
    }

    snapshot(): GroundTruth {
        const overflow = Math.max(0, this.log.length - this.maxLogEntries);
        return {
            byIp: cloneMap(this.byIp, cloneCounters),
            bySession: cloneMap(this.bySession, cloneCounters),
            byHost: cloneMap(this.byHost, cloneCounters),
            byProxy: cloneMap(this.byProxy, (c) => ({ ...c })),
            totals: cloneCounters(this.totals),
            requests: this.log.slice(overflow).map((e) => ({ ...e })),
            droppedRequests: this.dropped + overflow,
        };
    }

    /** Clears every counter and the log (proxies stay registered with zeroed counters). */
    reset(): void {
        this.byIp.clear();
        this.bySession.clear();
        this.byHost.clear();
        this.totals = emptyCounters();
        this.log = [];
        this.dropped = 0;
        for (const counters of this.byProxy.values()) {
            counters.connections = 0;
            counters.requests = 0;
            counters.refused = 0;
            counters.authFailures = 0;
        }
    }

    private counters(map: Map<string, Counters>, key: string): Counters {
        let counters = map.get(key);
        if (!counters) {
            counters = emptyCounters();
            map.set(key, counters);
        }
        return counters;
    }
}
