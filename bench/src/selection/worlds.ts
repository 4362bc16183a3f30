/**
 * Ban worlds: deterministic in-process models of how a site treats 100 proxies. A world answers each request at the
 * moment it is sent (counting it) and, for the oracle only, says whether a request would be served right now.
 *
 * Every world is fixed here, before any contestant ran, from what real sites do; none is tuned to a contestant.
 * Each world has 100 proxies with distinct IPs in 10 subnets of 10 (proxy i is in subnet floor(i / 10)).
 */
import { exitIndexOf } from '@sessionpack/proving-ground';

import { derive, type Random } from '../shared/prng.js';

export type ResponseKind = 'ok' | 'blocked' | 'rate-limited';

export interface WorldResponse {
    kind: ResponseKind;
    /** For rate-limited responses: the Retry-After the site sent, in milliseconds. */
    retryAfterMillis?: number;
}

export interface World {
    readonly id: string;
    readonly title: string;
    /** One line on the rules, printed under the table. */
    readonly rules: string;
    readonly proxyCount: number;
    /** The site's verdict on a request from `proxy` carrying session cookie `session`, sent at `now` (counted). */
    send(proxy: number, session: string, now: number): WorldResponse;
    /** Would such a request be served right now? (Not counted; the oracle's knowledge.) */
    wouldServe(proxy: number, session: string, now: number): boolean;
    /**
     * Set for a residential-style gateway: contestants get one proxy URL and put a session id in its username; the
     * gateway sends each session id through exit `exitOf(id)` (the `proxy` of `send`), which nobody but the oracle sees.
     */
    readonly gateway?: { exitOf(sessionId: string): number };
}

export const PROXY_COUNT = 100;
export const SUBNET_SIZE = 10;

/** `count` distinct indices out of `n`, chosen by `random`. */
function pick(random: Random, n: number, count: number): Set<number> {
    const all = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [all[i], all[j]] = [all[j]!, all[i]!];
    }
    return new Set(all.slice(0, count));
}

/** (a) 70 of 100 proxies banned from the start, for good: every request from them gets a 403. */
export function bannedWorld(seed: number): World {
    const banned = pick(derive(seed, 'a', 'bans'), PROXY_COUNT, 70);
    return {
        id: 'a',
        title: '(a) 70% of 100 proxies banned from the start',
        rules: '70 proxies chosen by seed answer every request with a block (403); the other 30 always serve.',
        proxyCount: PROXY_COUNT,
        send: (proxy) => (banned.has(proxy) ? { kind: 'blocked' } : { kind: 'ok' }),
        wouldServe: (proxy) => !banned.has(proxy),
    };
}

interface Window {
    start: number;
    count: number;
    penaltyUntil: number;
}

/**
 * (b) Per-IP rate limit with Retry-After, the proving ground's semantics: a fixed window of `requests` per `windowMs`;
 * past it the IP is penalised for `penaltyMs` (429 + Retry-After), and a request made during the penalty restarts it.
 */
export function rateLimitWorld(_seed: number, requests = 10, windowMs = 10_000, penaltyMs = 5_000): World {
    const windows = new Map<number, Window>();
    const windowOf = (proxy: number, now: number): Window => {
        let w = windows.get(proxy);
        if (!w) {
            w = { start: now, count: 0, penaltyUntil: 0 };
            windows.set(proxy, w);
        }
        return w;
    };
    return {
        id: 'b',
        title: '(b) per-IP rate limits with Retry-After',
        rules:
            `No bans. Each IP may send ${requests} requests per ${windowMs / 1000} s window; past that it gets 429 + Retry-After: ${penaltyMs / 1000} s, ` +
            'and a request during the penalty restarts it. The crawl wants ~50 requests/s; the 100 IPs together allow 100/s.',
        proxyCount: PROXY_COUNT,
        send(proxy, _session, now) {
            const w = windowOf(proxy, now);
            if (now < w.penaltyUntil) {
                w.penaltyUntil = now + penaltyMs;
                w.start = w.penaltyUntil;
                w.count = 0;
                return { kind: 'rate-limited', retryAfterMillis: penaltyMs };
            }
            if (now - w.start >= windowMs) {
                w.start = now;
                w.count = 0;
            }
            w.count++;
            if (w.count > requests) {
                w.penaltyUntil = now + penaltyMs;
                w.start = w.penaltyUntil;
                w.count = 0;
                return { kind: 'rate-limited', retryAfterMillis: penaltyMs };
            }
            return { kind: 'ok' };
        },
        wouldServe(proxy, _session, now) {
            const w = windows.get(proxy);
            if (!w) return true;
            if (now < w.penaltyUntil) return false;
            if (now - w.start >= windowMs) return true;
            return w.count + 1 <= requests;
        },
    };
}

/** (c) Per-session usage cap: a session cookie gets `cap` pages, then only a captcha (a block) for good. No bans. */
export function usageCapWorld(_seed: number, cap = 20): World {
    const used = new Map<string, number>();
    return {
        id: 'c',
        title: '(c) per-session usage caps',
        rules: `No bans. Each session (cookie) gets ${cap} pages; every later request of that session gets a captcha page (a block).`,
        proxyCount: PROXY_COUNT,
        send(_proxy, session) {
            const n = (used.get(session) ?? 0) + 1;
            used.set(session, n);
            return n > cap ? { kind: 'blocked' } : { kind: 'ok' };
        },
        wouldServe: (_proxy, session) => (used.get(session) ?? 0) + 1 <= cap,
    };
}

/**
 * (d) Bans by subnet: 5 of the 10 subnets are banned from the start, whole; and a subnet that sends more than
 * `abuseRequests` requests within `abuseWindowMs` is banned whole for `abuseBanMs` (the request that crossed the line
 * is blocked too).
 */
export function subnetWorld(seed: number, abuseRequests = 400, abuseWindowMs = 30_000, abuseBanMs = 60_000): World {
    const subnets = PROXY_COUNT / SUBNET_SIZE;
    const banned = pick(derive(seed, 'd', 'subnets'), subnets, 5);
    const recent = new Map<number, number[]>();
    const bannedUntil = new Map<number, number>();
    const subnetOf = (proxy: number) => Math.floor(proxy / SUBNET_SIZE);
    const trim = (subnet: number, now: number): number[] => {
        const times = recent.get(subnet) ?? [];
        let drop = 0;
        while (drop < times.length && times[drop]! <= now - abuseWindowMs) drop++;
        const kept = drop ? times.slice(drop) : times;
        recent.set(subnet, kept);
        return kept;
    };
    const isBanned = (subnet: number, now: number) => banned.has(subnet) || (bannedUntil.get(subnet) ?? 0) > now;
    return {
        id: 'd',
        title: '(d) bans by subnet',
        rules:
            `5 of 10 subnets (of 10 IPs each) are banned whole from the start; a subnet that sends more than ${abuseRequests} requests in ` +
            `${abuseWindowMs / 1000} s is banned whole for ${abuseBanMs / 1000} s. Spread evenly over the 5 good subnets the crawl sends ~300 per 30 s each.`,
        proxyCount: PROXY_COUNT,
        send(proxy, _session, now) {
            const subnet = subnetOf(proxy);
            if (isBanned(subnet, now)) return { kind: 'blocked' };
            const times = trim(subnet, now);
            times.push(now);
            if (times.length > abuseRequests) {
                bannedUntil.set(subnet, now + abuseBanMs);
                recent.set(subnet, []);
                return { kind: 'blocked' };
            }
            return { kind: 'ok' };
        },
        wouldServe(proxy, _session, now) {
            const subnet = subnetOf(proxy);
            return !isBanned(subnet, now) && trim(subnet, now).length + 1 <= abuseRequests;
        },
    };
}

interface Standing {
    banned: boolean;
    since: number;
    requests: number;
    factor: number;
}

/**
 * (e) Drift, the proving ground's semantics: 30 proxies banned at the start; a good IP is banned after
 * `banAfterRequests` requests, a banned one recovers `recoverAfterMs` after its ban began (each IP's thresholds
 * scaled by its own factor in 1 ± `jitter`).
 */
export function driftWorld(seed: number, banAfterRequests = 30, recoverAfterMs = 10_000, jitter = 0.25): World {
    const initial = pick(derive(seed, 'e', 'bans'), PROXY_COUNT, 30);
    const factors = derive(seed, 'e', 'factors');
    const standings: Standing[] = Array.from({ length: PROXY_COUNT }, (_, i) => ({
        banned: initial.has(i),
        since: Number.NaN,
        requests: 0,
        factor: 1 + jitter * (2 * factors() - 1),
    }));
    const advance = (proxy: number, now: number): Standing => {
        const s = standings[proxy]!;
        if (Number.isNaN(s.since)) s.since = now;
        if (s.banned && now - s.since >= recoverAfterMs * s.factor) {
            s.banned = false;
            s.since = s.since + recoverAfterMs * s.factor;
            s.requests = 0;
        }
        return s;
    };
    let started = Number.NaN;
    return {
        id: 'e',
        title: '(e) drift: good proxies burn, bad ones recover',
        rules:
            `30 proxies banned at the start; a good IP is banned after ~${banAfterRequests} requests, a banned one recovers ~${recoverAfterMs / 1000} s ` +
            `after its ban began (±${jitter * 100}% per IP). About 17 of 100 are banned at equilibrium.`,
        proxyCount: PROXY_COUNT,
        send(proxy, _session, now) {
            if (Number.isNaN(started)) {
                started = now;
                for (const s of standings) s.since = now;
            }
            const s = advance(proxy, now);
            if (s.banned) return { kind: 'blocked' };
            s.requests++;
            // The request that reaches the threshold is still served; the next one is blocked.
            if (s.requests >= Math.max(1, Math.round(banAfterRequests * s.factor))) {
                s.banned = true;
                s.since = now;
                s.requests = 0;
            }
            return { kind: 'ok' };
        },
        wouldServe(proxy, _session, now) {
            if (Number.isNaN(started)) return !initial.has(proxy);
            return !advance(proxy, now).banned;
        },
    };
}

/**
 * (f) A residential-style gateway: one proxy URL, the exit IP chosen by a hash of the session id in the username (the proving ground's gateway hash), so
 * many session ids share one of `exits` exits. 30% of the exits are banned for good; each exit may send
 * `requests` per `windowMs` (then 429 + Retry-After, restarted by requests during the penalty, as in (b)).
 */
export function gatewayWorld(seed: number, exits = 50, requests = 20, windowMs = 10_000, penaltyMs = 5_000): World {
    const banned = pick(derive(seed, 'f', 'bans'), exits, Math.round(0.3 * exits));
    const limits = rateLimitWorld(seed, requests, windowMs, penaltyMs);
    return {
        id: 'f',
        title: '(f) a residential gateway: exit IPs by session id',
        rules:
            `One gateway URL; each session id leaves through exit hash(id) mod ${exits}, so ids share exits and nobody sees which. ` +
            `${banned.size} exits are banned for good; each exit may send ${requests} requests per ${windowMs / 1000} s (then 429 + Retry-After ` +
            `${penaltyMs / 1000} s, restarted by requests during the penalty).`,
        proxyCount: exits,
        gateway: { exitOf: (sessionId) => exitIndexOf(sessionId, exits, seed) },
        send(exit, session, now) {
            if (banned.has(exit)) return { kind: 'blocked' };
            return limits.send(exit, session, now);
        },
        wouldServe: (exit, session, now) => !banned.has(exit) && limits.wouldServe(exit, session, now),
    };
}

export const WORLDS: readonly { id: string; make: (seed: number) => World }[] = [
    { id: 'a', make: bannedWorld },
    { id: 'b', make: (seed) => rateLimitWorld(seed) },
    { id: 'c', make: (seed) => usageCapWorld(seed) },
    { id: 'd', make: (seed) => subnetWorld(seed) },
    { id: 'e', make: (seed) => driftWorld(seed) },
    { id: 'f', make: (seed) => gatewayWorld(seed) },
];
