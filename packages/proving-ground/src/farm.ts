import http from 'node:http';
import net from 'node:net';
import { RequestError, Server } from 'proxy-chain';
import { isAllowedTarget, testDnsLookup } from './loopback.js';
import type { DeadProxyMode, ResolvedOptions } from './options.js';
import { derive, shuffled } from './prng.js';
import type { StatsRecorder } from './stats.js';

/** Status a farm proxy answers with for a target outside loopback (proxy-chain's "not found"). */
export const NON_LOOPBACK_STATUS = 593;

/** A proxy of the farm, as ground truth for tests and benchmarks. */
export interface ProxyInfo {
    /** Position in `pg.proxies` and key in `stats().byProxy`. */
    readonly index: number;
    /** Proxy URL, with `user:pass@` when auth is configured. */
    readonly url: string;
    /** Port the proxy listens on (for a `refuse` proxy: the port nothing listens on). */
    readonly port: number;
    /** Source address the proxy connects from, i.e. the client IP the site sees (`127.0.1.11`). */
    readonly ip: string;
    /** Its "subnet": the first three octets of `ip` (`127.0.1`). */
    readonly subnet: string;
    /** Set for dead proxies. */
    readonly dead?: DeadProxyMode;
    /** Whether the site bans this IP right now (from the start, or by drift). */
    readonly banned: boolean;
    /** Whether the site challenges this IP on every request (`site.challenges.fraction` / `ips`). */
    readonly challenged: boolean;
}

/** Address of proxy `index`: `127.0.S.H`, S = 1 + index / subnetSize, H = 11 + index % subnetSize. */
export function farmAddress(index: number, subnetSize: number): { ip: string; subnet: string } {
    const subnet = `127.0.${1 + Math.floor(index / subnetSize)}`;
    return { ip: `${subnet}.${11 + (index % subnetSize)}`, subnet };
}

/** Which proxies are dead and how (by seed): the first `refuse` of a seeded shuffle refuse, the next `tunnelError` fail. */
export function pickDeadProxies(count: number, dead: ResolvedOptions['proxies']['dead'], seed: number): Map<number, DeadProxyMode> {
    const order = shuffled(Array.from({ length: count }, (_, i) => i), derive(seed, 'dead'));
    const out = new Map<number, DeadProxyMode>();
    order.slice(0, dead.refuse).forEach((i) => out.set(i, 'refuse'));
    order.slice(dead.refuse, dead.refuse + dead.tunnelError).forEach((i) => out.set(i, 'tunnel-error'));
    return out;
}

export interface FarmDependencies {
    options: ResolvedOptions['proxies'];
    seed: number;
    stats: StatsRecorder;
    isBanned: (ip: string) => boolean;
    isChallenged: (ip: string) => boolean;
}

interface LiveProxy {
    server: Server;
    agent: http.Agent;
}

/**
 * N proxy-chain servers on 127.0.0.1, each connecting out from its own loopback source address and
 * resolving `*.test` to the site. Dead proxies refuse connections or answer with an error status.
 */
export class ProxyFarm {
    private constructor(
        readonly proxies: readonly ProxyInfo[],
        private readonly live: LiveProxy[],
    ) {}

    static async start(deps: FarmDependencies): Promise<ProxyFarm> {
        const { options, seed, stats } = deps;
        const dead = pickDeadProxies(options.count, options.dead, seed);
        stats.registerProxies(options.count);
        const live: LiveProxy[] = [];
        const ports: number[] = [];
        try {
            for (let index = 0; index < options.count; index++) {
                if (dead.get(index) === 'refuse') continue;
                const proxy = createProxy(index, deps, dead.get(index));
                live.push(proxy);
                await proxy.server.listen();
                ports[index] = proxy.server.port;
            }
            // Refusing proxies last, so no live server can be handed a port we just released.
            for (let index = 0; index < options.count; index++) {
                if (dead.get(index) === 'refuse') ports[index] = await reservePort(options.basePort > 0 ? options.basePort + index : 0);
            }
        } catch (error) {
            await Promise.all(live.map((p) => closeProxy(p)));
            throw error;
        }
        const credentials = options.auth
            ? `${encodeURIComponent(options.auth.username)}:${encodeURIComponent(options.auth.password)}@`
            : '';
        const proxies = Array.from({ length: options.count }, (_, index): ProxyInfo => {
            const { ip, subnet } = farmAddress(index, options.subnetSize);
            const mode = dead.get(index);
            return Object.freeze({
                index,
                url: `http://${credentials}127.0.0.1:${ports[index]}`,
                port: ports[index]!,
                ip,
                subnet,
                ...(mode ? { dead: mode } : {}),
                get banned() {
                    return deps.isBanned(ip);
                },
                get challenged() {
                    return deps.isChallenged(ip);
                },
            });
        });
        return new ProxyFarm(proxies, live);
    }

    /** Closes every proxy, its connections and its outgoing keep-alive sockets. */
    async close(): Promise<void> {
        await Promise.all(this.live.map((p) => closeProxy(p)));
    }
}

function createProxy(index: number, deps: FarmDependencies, mode: DeadProxyMode | undefined): LiveProxy {
    const { options, stats } = deps;
    const { ip } = farmAddress(index, options.subnetSize);
    const counters = stats.proxy(index);
    // Per-proxy agent: keep-alive to the site from this proxy's own source address, destroyed on close.
    const agent = new http.Agent({ keepAlive: true });
    const server = new Server({
        host: '127.0.0.1',
        port: options.basePort > 0 ? options.basePort + index : 0,
        authRealm: 'proving-ground',
        verbose: false,
        prepareRequestFunction: ({ hostname, username, password }) => {
            counters.requests++;
            if (options.auth && (username !== options.auth.username || password !== options.auth.password)) {
                counters.authFailures++;
                return { requestAuthentication: true, failMsg: 'proving-ground proxy: missing or wrong credentials' };
            }
            if (mode === 'tunnel-error') {
                counters.refused++;
                throw new RequestError(`proving-ground proxy ${index} is dead (tunnel error)`, options.dead.status);
            }
            if (!isAllowedTarget(hostname)) {
                counters.refused++;
                throw new RequestError(
                    `proving-ground proxies only reach loopback targets (*.test, localhost, 127.0.0.0/8); refused ${hostname}`,
                    NON_LOOPBACK_STATUS,
                );
            }
            return { localAddress: ip, dnsLookup: testDnsLookup, httpAgent: agent };
        },
    });
    server.server.on('connection', () => {
        counters.connections++;
    });
    // proxy-chain emits this for unexpected handler errors; the client already got a 500.
    server.on('requestFailed', () => {});
    return { server, agent };
}

async function closeProxy(proxy: LiveProxy): Promise<void> {
    try {
        await proxy.server.close(true);
    } catch {
        // Not listening (failed start): nothing to close.
    }
    proxy.agent.destroy();
}

/** Takes a port (a free one for 0) and releases it, so connections to it are refused. */
async function reservePort(port: number): Promise<number> {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => resolve());
    });
    const taken = (server.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return taken;
}
