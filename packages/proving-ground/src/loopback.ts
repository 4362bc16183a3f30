import type dns from 'node:dns';
import { isIPv4 } from 'node:net';

/**
 * The one rule of the proving ground: traffic stays on loopback. The farm's proxies reach `*.test`
 * (resolved to 127.0.0.1 by {@link testDnsLookup}), `localhost` and literal 127.0.0.0/8 addresses,
 * and refuse everything else.
 */

/** Where every `*.test` name points. */
export const SITE_ADDRESS = '127.0.0.1';

/** Is `address` an IPv4 address in 127.0.0.0/8? */
export function isLoopbackIp(address: string): boolean {
    return isIPv4(address) && address.startsWith('127.');
}

/** Is `hostname` a made-up `*.test` name (RFC 2606: never resolves on the real internet)? */
export function isTestHost(hostname: string): boolean {
    return /^([a-z0-9-]+\.)*[a-z0-9-]+\.test\.?$/i.test(hostname);
}

/** May a farm proxy connect to `hostname`? */
export function isAllowedTarget(hostname: string): boolean {
    const name = hostname.replace(/^\[|\]$/g, '').toLowerCase();
    return isLoopbackIp(name) || name === 'localhost' || isTestHost(name);
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

/**
 * A `dns.lookup` replacement for the proxies: `*.test` and `localhost` resolve to 127.0.0.1,
 * loopback literals to themselves, anything else fails with ENOTFOUND. Nothing asks a real resolver.
 */
export const testDnsLookup = ((hostname: string, optionsOrCallback: unknown, maybeCallback?: unknown): void => {
    const callback = (typeof optionsOrCallback === 'function' ? optionsOrCallback : maybeCallback) as LookupCallback;
    const options = typeof optionsOrCallback === 'object' && optionsOrCallback !== null ? (optionsOrCallback as dns.LookupOptions) : {};
    const name = hostname.toLowerCase();
    const address = isLoopbackIp(name) ? name : name === 'localhost' || isTestHost(name) ? SITE_ADDRESS : undefined;
    process.nextTick(() => {
        if (address === undefined) {
            const error: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname} (proving-ground proxies resolve only *.test and loopback)`);
            error.code = 'ENOTFOUND';
            error.syscall = 'getaddrinfo';
            callback(error, '', 0);
        } else if (options.all) {
            callback(null, [{ address, family: 4 }]);
        } else {
            callback(null, address, 4);
        }
    });
}) as unknown as typeof dns.lookup;
