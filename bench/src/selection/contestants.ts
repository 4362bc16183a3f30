/**
 * Contestants of the selection simulation, each driven through its real code:
 * - sessionpack's `SessionManager` with each policy (defaults otherwise, as a user gets them);
 * - Crawlee 3's own `SessionPool` with a `ProxyConfiguration` mapping session ids to proxies, and the verdict calls a
 *   stock `CheerioCrawler` makes (BasicCrawler/HttpCrawler 3.18: `markGood()` after a success; on 401/403/429
 *   `retireOnBlockedStatusCodes()` retires the session and the thrown error then gets `markBad()`);
 * - the algorithm of Apify's article "Filter out blocked proxies using sessions" (`pickSession`), as printed there;
 * - an oracle that knows which proxies would serve right now.
 */
import { Configuration, Log, LogLevel, ProxyConfiguration, SessionPool, type Session } from '@crawlee/core';
import { SessionManager, type Clock, type ManagedSession, type PolicyName } from '@sessionpack/core';

import { randomInt, type Random } from '../shared/prng.js';
import type { World, WorldResponse } from './worlds.js';

/** One use in flight: which proxy it leaves through and which session cookie it carries. */
export interface Handle {
    proxy: number;
    session: string;
    /** The contestant's own object for the use. */
    ref: unknown;
}

export interface Contestant {
    readonly name: string;
    acquire(): Promise<Handle>;
    report(handle: Handle, response: WorldResponse): void;
    /** Called right after the request of `handle` was sent (before its response). */
    sent?(handle: Handle): void;
    close(): Promise<void>;
}

export interface ContestantContext {
    world: World;
    clock: Clock & { sleep(millis: number): Promise<void> };
    random: Random;
    proxyUrls: readonly string[];
    proxyIndex: ReadonlyMap<string, number>;
    /** In a gateway world: one URL with the session id in its username, and the exit each URL leaves through. */
    gateway?: SimulatedGateway;
}

/** A residential-style gateway as the simulation models it (never connected to). */
export interface SimulatedGateway {
    /** `http://user-session-<id>@127.0.0.1:29999`. */
    urlFor(sessionId: string): string;
    /** The exit a proxy URL leaves through (the world's hash of the session id in its username). */
    exitOfUrl(url: string): number;
    /** A session id that leaves through `exit` (the oracle's knowledge), distinct per `generation`. */
    sessionFor(exit: number, generation: number): string;
}

const GATEWAY_PORT = 29_999;

export function simulatedGateway(exitOf: (sessionId: string) => number): SimulatedGateway {
    const found = new Map<string, string>();
    return {
        urlFor: (id) => `http://user-session-${id}@127.0.0.1:${GATEWAY_PORT}`,
        exitOfUrl: (url) => exitOf(decodeURIComponent(new URL(url).username).replace(/^user-session-/, '')),
        sessionFor(exit, generation) {
            const key = `${exit}/${generation}`;
            let id = found.get(key);
            for (let k = 0; id === undefined; k++) {
                if (exitOf(`oracle-${generation}-${k}`) === exit) id = `oracle-${generation}-${k}`;
            }
            found.set(key, id);
            return id;
        },
    };
}

/** What a stock user passes for a gateway: a ProxyConfiguration that puts the session id in the username. */
function gatewayConfiguration(gateway: SimulatedGateway): ProxyConfiguration {
    return new ProxyConfiguration({ newUrlFunction: (sessionId) => gateway.urlFor(String(sessionId)) });
}

export interface ContestantFactory {
    name: string;
    /** Crawlee's pool draws from `Math.random`: the runner seeds it for this contestant. */
    usesMathRandom?: boolean;
    create(ctx: ContestantContext): Promise<Contestant>;
}

/** Fake proxy URLs: never connected to (the simulation sends nothing), loopback all the same. */
export function simulatedProxyUrls(count: number): string[] {
    return Array.from({ length: count }, (_, i) => `http://127.0.0.1:${30_000 + i}`);
}

const REQUEST = { url: 'http://shop.test/product/1' };
const silentLog = new Log({ level: LogLevel.OFF });

function statusOf(response: WorldResponse): number {
    return response.kind === 'ok' ? 200 : response.kind === 'blocked' ? 403 : 429;
}

/** sessionpack's SessionManager with one policy; everything else at its defaults (pool size 20, backoff, limits). */
export function sessionpack(policy: PolicyName): ContestantFactory {
    return {
        name: `sessionpack ${policy}`,
        async create(ctx) {
            const gateway = ctx.gateway;
            const manager = await SessionManager.open({
                ...(gateway ? { proxyConfiguration: gatewayConfiguration(gateway) } : { proxyUrls: [...ctx.proxyUrls] }),
                policy,
                store: false,
                statsIntervalSecs: 0,
                clock: ctx.clock,
                random: ctx.random,
                log: silentLog,
                config: new Configuration({ persistStorage: false }),
            });
            return {
                name: `sessionpack ${policy}`,
                async acquire() {
                    const session = await manager.acquire(REQUEST);
                    const url = session.identity.proxy!.url;
                    return { proxy: gateway ? gateway.exitOfUrl(url) : ctx.proxyIndex.get(url)!, session: session.id, ref: session };
                },
                report(handle, response) {
                    const statusCode = statusOf(response);
                    manager.report(
                        handle.ref as ManagedSession,
                        response.kind === 'ok'
                            ? { type: 'ok', statusCode }
                            : response.kind === 'blocked'
                              ? { type: 'blocked', statusCode, reason: '403 status code' }
                              : { type: 'rate-limited', statusCode, retryAfterMillis: response.retryAfterMillis },
                    );
                },
                close: () => manager.close(),
            };
        },
    };
}

/**
 * Crawlee 3's SessionPool as a stock crawler uses it (default options: up to 1,000 sessions, picked at random once full)
 * with `new ProxyConfiguration({ proxyUrls })`, which gives each new session id the next proxy in turn and keeps it.
 */
export const crawleeSessionPool: ContestantFactory = {
    name: 'Crawlee SessionPool',
    usesMathRandom: true,
    async create(ctx) {
        const config = new Configuration({ persistStorage: false });
        const pool = await SessionPool.open({ persistenceOptions: { enable: false }, log: silentLog }, config);
        const gateway = ctx.gateway;
        const proxyConfiguration = gateway ? gatewayConfiguration(gateway) : new ProxyConfiguration({ proxyUrls: [...ctx.proxyUrls] });
        return {
            name: 'Crawlee SessionPool',
            async acquire() {
                const session = (await pool.getSession())!;
                const url = (await proxyConfiguration.newUrl(session.id))!;
                return { proxy: gateway ? gateway.exitOfUrl(url) : ctx.proxyIndex.get(url)!, session: session.id, ref: session };
            },
            report(handle, response) {
                const session = handle.ref as Session;
                if (response.kind === 'ok') {
                    // BasicCrawler, after the request handler succeeded.
                    session.markGood();
                    return;
                }
                // HttpCrawler._throwOnBlockedRequest: 401/403/429 retire the session and throw; BasicCrawler's catch
                // block then calls markBad() on the same session.
                session.retireOnBlockedStatusCodes(statusOf(response));
                session.markBad();
            },
            close: () => pool.teardown({ persistState: false }),
        };
    },
};

interface ArticleSession {
    name: string;
    /** The proxy that Apify Proxy's session `name` sticks to: a random one of the group, chosen when the name is new. */
    proxy: number;
}

/**
 * The `pickSession()` of Apify's article "Filter out blocked proxies using sessions", line by line: keep the sessions
 * that worked in an object; pick one of them at random with probability working / maxSessions (maxSessions = 100, the
 * article's default), otherwise make a new session named by the random number. `sessions[name] = session` after a
 * success, `delete sessions[name]` after a failure ("status >= 400 or a captcha": blocks and 429s alike). Apify Proxy
 * gives a new session name a random IP of the group and keeps it for that name.
 */
export function apifyArticle(maxSessions = 100): ContestantFactory {
    return {
        name: 'Apify article pickSession',
        async create(ctx) {
            const sessions: Record<string, ArticleSession> = {};
            const stickyProxy = new Map<string, number>();
            const pickSession = (): ArticleSession => {
                const sessionsKeys = Object.keys(sessions);
                const randomNumber = ctx.random();
                const chanceToPickSession = sessionsKeys.length / maxSessions;
                const willPickSession = chanceToPickSession > randomNumber;
                if (willPickSession) {
                    const indexToPick = Math.floor(sessionsKeys.length * ctx.random());
                    return sessions[sessionsKeys[indexToPick]!]!;
                }
                const name = randomNumber.toString();
                let proxy = stickyProxy.get(name);
                if (proxy === undefined) {
                    // Through a gateway the session name picks the exit; otherwise Apify Proxy picks one at random.
                    proxy = ctx.gateway ? ctx.gateway.exitOfUrl(ctx.gateway.urlFor(name)) : randomInt(ctx.random, ctx.world.proxyCount);
                    stickyProxy.set(name, proxy);
                }
                return { name, proxy };
            };
            return {
                name: 'Apify article pickSession',
                async acquire() {
                    const session = pickSession();
                    return { proxy: session.proxy, session: session.name, ref: session };
                },
                report(handle, response) {
                    const session = handle.ref as ArticleSession;
                    if (response.kind === 'ok') sessions[session.name] = session;
                    else delete sessions[session.name];
                },
                close: async () => {},
            };
        },
    };
}

/**
 * Knows which proxies would serve right now (the world tells it) and picks one of them at random, with a session that
 * still has pages left; when none would, it waits. It never gets blocked or rate-limited: the floor for everyone.
 */
export const oracle: ContestantFactory = {
    name: 'oracle',
    async create(ctx) {
        const generation = new Array<number>(ctx.world.proxyCount).fill(0);
        const pending = new Set<number>();
        const gateway = ctx.gateway;
        // Through a gateway it picks a session id that leaves through the exit it wants.
        const sessionOf = (proxy: number) => (gateway ? gateway.sessionFor(proxy, generation[proxy]!) : `oracle-${proxy}-${generation[proxy]}`);
        return {
            name: 'oracle',
            async acquire() {
                for (;;) {
                    const now = ctx.clock.now();
                    const usable: number[] = [];
                    for (let p = 0; p < ctx.world.proxyCount; p++) {
                        // Picks not sent yet are left alone, so two workers never race for the last slot of a proxy.
                        if (pending.has(p)) continue;
                        if (!ctx.world.wouldServe(p, sessionOf(p), now)) {
                            // Maybe only its session is used up: a fresh one on the same proxy may do.
                            generation[p]!++;
                            if (!ctx.world.wouldServe(p, sessionOf(p), now)) {
                                generation[p]!--;
                                continue;
                            }
                        }
                        usable.push(p);
                    }
                    if (usable.length > 0) {
                        const proxy = usable[randomInt(ctx.random, usable.length)]!;
                        pending.add(proxy);
                        return { proxy, session: sessionOf(proxy), ref: proxy };
                    }
                    await ctx.clock.sleep(50);
                }
            },
            report() {},
            close: async () => {},
            sent(handle) {
                pending.delete(handle.proxy);
            },
        };
    },
};

export const CONTESTANTS: readonly ContestantFactory[] = [
    sessionpack('scored'),
    sessionpack('random'),
    sessionpack('round-robin'),
    sessionpack('use-until-failure'),
    crawleeSessionPool,
    apifyArticle(),
    oracle,
];
