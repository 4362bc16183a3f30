import http from 'node:http';
import { RequestError, Server } from 'proxy-chain';
import { isAllowedTarget, testDnsLookup } from './loopback.js';
import { NON_LOOPBACK_STATUS } from './farm.js';
import type { ResolvedOptions } from './options.js';
import { hash32, type Random } from './prng.js';
import type { GatewayCounters } from './stats.js';

/**
 * A residential-style gateway: one proxy URL whose exit IP is chosen per request from the session id in the username
 * (`user-session-<id>`, or Apify's `groups-X,session-<id>`). The same id always leaves through the same exit; many ids
 * share each exit (there are far more session ids than exits), and a request without a session id leaves through a
 * random exit. Exits are loopback addresses `127.1.S.H` that the site treats like any client IP: bans, drift and rate
 * limits apply to them, and the gateway itself cannot tell a crawler which exit it got.
 */

/** An exit IP of the gateway, as ground truth. */
export interface GatewayExit {
    /** Position in `pg.gateway.exits`. */
    readonly index: number;
    /** The client IP the site sees (`127.1.1.11`, ...). */
    readonly ip: string;
    /** First three octets of `ip`. */
    readonly subnet: string;
    /** Whether the site bans this IP right now (from the start, or by drift). */
    readonly banned: boolean;
}

/** The running gateway, as `pg.gateway`. */
export interface Gateway {
    /** `http://127.0.0.1:PORT`: put a username with `session-<id>` in it (see {@link Gateway.urlFor}). */
    readonly url: string;
    readonly port: number;
    readonly exits: readonly GatewayExit[];
    /** The proxy URL for one session id: `http://user-session-<id>[:password]@127.0.0.1:PORT`. */
    urlFor(sessionId: string): string;
    /** The exit a session id leaves through (ground truth; a crawler cannot know it). */
    exitFor(sessionId: string): GatewayExit;
}

/** Address of gateway exit `index`: `127.1.S.H`, S = 1 + index / subnetSize, H = 11 + index % subnetSize. */
export function gatewayAddress(index: number, subnetSize: number): { ip: string; subnet: string } {
    const subnet = `127.1.${1 + Math.floor(index / subnetSize)}`;
    return { ip: `${subnet}.${11 + (index % subnetSize)}`, subnet };
}

/** The session id in a gateway username (`user-session-abc`, `groups-RES,session-abc`), or undefined. */
export function sessionIdOf(username: string | undefined): string | undefined {
    if (!username) return undefined;
    const match = /(?:^|[-,])session-([A-Za-z0-9._~]+)/.exec(username);
    return match?.[1];
}

/** Which exit a session id leaves through: a seeded hash, so the same id always gets the same exit. */
export function exitIndexOf(sessionId: string, exits: number, seed: number): number {
    return hash32(`${seed >>> 0}/gateway/${sessionId}`) % exits;
}

export interface GatewayDependencies {
    options: NonNullable<ResolvedOptions['gateway']>;
    seed: number;
    counters: GatewayCounters;
    random: Random;
    isBanned: (ip: string) => boolean;
}

/** Starts the gateway on 127.0.0.1. */
export async function startGateway(deps: GatewayDependencies): Promise<{ gateway: Gateway; close(): Promise<void> }> {
    const { options, seed, counters } = deps;
    const exits = Array.from({ length: options.exits }, (_, index): GatewayExit => {
        const { ip, subnet } = gatewayAddress(index, options.subnetSize);
        return Object.freeze({
            index,
            ip,
            subnet,
            get banned() {
                return deps.isBanned(ip);
            },
        });
    });
    const agent = new http.Agent({ keepAlive: true });
    const server = new Server({
        host: '127.0.0.1',
        port: options.port,
        authRealm: 'proving-ground gateway',
        verbose: false,
        prepareRequestFunction: ({ hostname, username, password }) => {
            counters.requests++;
            if (options.password !== undefined && password !== options.password) {
                counters.authFailures++;
                return { requestAuthentication: true, failMsg: 'proving-ground gateway: missing or wrong password' };
            }
            if (!isAllowedTarget(hostname)) {
                counters.refused++;
                throw new RequestError(`proving-ground gateway only reaches loopback targets; refused ${hostname}`, NON_LOOPBACK_STATUS);
            }
            const id = sessionIdOf(username);
            let exit: number;
            if (id === undefined) {
                counters.withoutSession++;
                exit = Math.floor(deps.random() * exits.length);
            } else {
                counters.bySessionId[id] = (counters.bySessionId[id] ?? 0) + 1;
                exit = exitIndexOf(id, exits.length, seed);
            }
            counters.byExit[exit] = (counters.byExit[exit] ?? 0) + 1;
            // One agent: Node keys its sockets by localAddress too, so exits never share a connection.
            return { localAddress: exits[exit]!.ip, dnsLookup: testDnsLookup, httpAgent: agent };
        },
    });
    server.server.on('connection', () => {
        counters.connections++;
    });
    server.on('requestFailed', () => {});
    await server.listen();
    const port = server.port;
    const secret = options.password !== undefined ? `:${encodeURIComponent(options.password)}` : '';
    const gateway: Gateway = Object.freeze({
        url: `http://127.0.0.1:${port}`,
        port,
        exits,
        urlFor: (sessionId: string) => `http://user-session-${encodeURIComponent(sessionId)}${secret}@127.0.0.1:${port}`,
        exitFor: (sessionId: string) => exits[exitIndexOf(sessionId, exits.length, seed)]!,
    });
    return {
        gateway,
        async close() {
            try {
                await server.close(true);
            } catch {
                // not listening
            }
            agent.destroy();
        },
    };
}

export function emptyGatewayCounters(): GatewayCounters {
    return { connections: 0, requests: 0, withoutSession: 0, authFailures: 0, refused: 0, bySessionId: {}, byExit: {} };
}
