import { ChallengePolicy } from './defenses/challenges.js';
import { IpStanding } from './defenses/drift.js';
import { BanResponses, pickInitialBans } from './defenses/ip-bans.js';
import { farmAddress, ProxyFarm, type ProxyInfo } from './farm.js';
import { emptyGatewayCounters, type Gateway, gatewayAddress, startGateway } from './gateway.js';
import { isTestHost } from './loopback.js';
import { type ProvingGroundOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { derive, shuffled } from './prng.js';
import { applyScenario } from './scenarios.js';
import { Site } from './site/server.js';
import { type GroundTruth, StatsRecorder } from './stats.js';
import { validateOptions } from './validate.js';

/** A running proving ground: the site, the proxy farm and the ground truth. */
export interface ProvingGround {
    /** The main site through the farm: `http://shop.test:PORT`. Only the farm's proxies resolve `*.test`. */
    readonly siteUrl: string;
    /** Hostname of the main site (`shop.test`). */
    readonly siteHost: string;
    /** Port of the site server. */
    readonly port: number;
    /** `http://127.0.0.1:PORT` when `exposeDirect` is set, for proxy-less use; otherwise undefined. */
    readonly directUrl?: string;
    /** Proxy URLs (`http://127.0.0.1:P`, with `user:pass@` when auth is configured), dead ones included. */
    readonly proxyUrls: readonly string[];
    /** Ground truth about each proxy: its source IP, subnet, whether it is dead, banned, challenged. */
    readonly proxies: readonly ProxyInfo[];
    /** The residential-style gateway, when `gateway` is configured: one URL, the exit IP chosen by the session id. */
    readonly gateway?: Gateway;
    /** The seed in use. */
    readonly seed: number;
    /** The options in use, after the scenario was merged and defaults applied. */
    readonly options: ResolvedOptions;
    /** URL of `path` on another `*.test` site served by the same server, e.g. `urlFor('news.test', '/')`. */
    urlFor(host: string, path?: string): string;
    /**
     * A site-wide outage: for `durationMs` from now the site answers every request, from any IP or session, with a
     * plain 403 (reason `outage`); then it serves again. `reset()` ends it.
     */
    startOutage(durationMs: number): void;
    /** A snapshot of what the site and the proxies saw. */
    stats(): GroundTruth;
    /**
     * Clears the counters, the log and the site's defense state (sessions, rate limits, drift).
     * Bans from the seed are restored as configured; old session cookies become unknown.
     */
    reset(): void;
    /** Closes the site and every proxy with their connections; leaves no open handles. Safe to call twice. */
    close(): Promise<void>;
}

/**
 * Starts the site and the proxy farm in this process.
 *
 * @example
 * const pg = await startProvingGround({ scenario: 'realistic', seed: 7 });
 * // crawl pg.siteUrl through pg.proxyUrls ..., then:
 * console.log(pg.stats().totals);
 * await pg.close();
 */
export async function startProvingGround(options: ProvingGroundOptions = {}): Promise<ProvingGround> {
    validateOptions(options);
    const { clock, ...rest } = options;
    const merged = applyScenario(rest);
    validateOptions(merged);
    const resolved = resolveOptions(merged);
    const { seed } = resolved;
    const now = clock ? () => clock.now() : Date.now;

    const addresses = Array.from({ length: resolved.proxies.count }, (_, i) => farmAddress(i, resolved.proxies.subnetSize));
    const farmIps = new Map(addresses.map((a, i) => [a.ip, i]));
    const exitAddresses = resolved.gateway
        ? Array.from({ length: resolved.gateway.exits }, (_, i) => gatewayAddress(i, resolved.gateway!.subnetSize))
        : [];
    const initialBans = pickInitialBans(addresses, resolved.site.bans, seed);
    if (resolved.gateway) {
        const count = Math.round(resolved.gateway.bannedFraction * exitAddresses.length);
        for (const a of shuffled(exitAddresses, derive(seed, 'gateway-bans')).slice(0, count)) initialBans.add(a.ip);
    }
    const standing = new IpStanding(initialBans, resolved.site.drift, seed, now);
    const challenges = new ChallengePolicy(resolved.site.challenges, addresses.map((a) => a.ip), initialBans, seed);
    const banResponses = new BanResponses(resolved.site.bans, initialBans, seed);
    const stats = new StatsRecorder(resolved.maxLogEntries);

    const site = new Site({
        options: resolved.site,
        seed,
        stats,
        standing,
        challenges,
        banResponses,
        farmIps,
        extraIps: new Set(exitAddresses.map((a) => a.ip)),
        exposeDirect: resolved.exposeDirect,
        now,
    });
    const port = await site.listen(resolved.site.port);
    let farm: ProxyFarm;
    try {
        farm = await ProxyFarm.start({
            options: resolved.proxies,
            seed,
            stats,
            isBanned: (ip) => standing.isBanned(ip),
            isChallenged: (ip) => challenges.challengedIps.has(ip),
        });
    } catch (error) {
        await site.close();
        throw error;
    }

    const gatewayCounters = emptyGatewayCounters();
    let gateway: Awaited<ReturnType<typeof startGateway>> | undefined;
    if (resolved.gateway) {
        try {
            gateway = await startGateway({
                options: resolved.gateway,
                seed,
                counters: gatewayCounters,
                random: derive(seed, 'gateway-rotation'),
                isBanned: (ip) => standing.isBanned(ip),
            });
        } catch (error) {
            await Promise.all([site.close(), farm.close()]);
            throw error;
        }
    }

    let closing: Promise<void> | undefined;
    const host = resolved.site.host;
    return Object.freeze({
        siteUrl: `http://${host}:${port}`,
        siteHost: host,
        port,
        ...(resolved.exposeDirect ? { directUrl: `http://127.0.0.1:${port}` } : {}),
        proxyUrls: Object.freeze(farm.proxies.map((p) => p.url)),
        proxies: farm.proxies,
        ...(gateway ? { gateway: gateway.gateway } : {}),
        seed,
        options: resolved,
        urlFor(otherHost: string, path = '/') {
            if (!isTestHost(otherHost)) throw new TypeError(`urlFor: host must be a *.test name (only those resolve through the farm), got ${JSON.stringify(otherHost)}`);
            return `http://${otherHost.toLowerCase()}:${port}${path.startsWith('/') ? path : `/${path}`}`;
        },
        startOutage(durationMs: number) {
            if (!Number.isFinite(durationMs) || durationMs < 0) throw new TypeError(`startOutage: durationMs must be a non-negative number, got ${durationMs}`);
            site.startOutage(durationMs);
        },
        stats: () => {
            const snapshot = stats.snapshot();
            if (!gateway) return snapshot;
            const g = gatewayCounters;
            return { ...snapshot, gateway: { ...g, bySessionId: { ...g.bySessionId }, byExit: { ...g.byExit } } };
        },
        reset() {
            stats.reset();
            site.reset();
            standing.reset();
            Object.assign(gatewayCounters, emptyGatewayCounters());
        },
        close() {
            closing ??= Promise.all([site.close(), farm.close(), gateway?.close()]).then(() => undefined);
            return closing;
        },
    });
}
