/**
 * Proxies: where they come from (a URL list, a Crawlee ProxyConfiguration, or none), their stable ids and printable
 * labels. How healthy each one is lives in `health.ts`.
 */
import { createHash } from 'node:crypto';
import { inspect } from 'node:util';

import type { ProxyConfiguration } from '@crawlee/core';

import { readTiers } from './learner/tiered.js';
import { redactUrl, type Redactor } from './redact.js';
import type { ProxyRef, RequestLike } from './types.js';

/** Id of the "no proxy" entry (direct connections have a health record too: your own IP can get blocked). */
export const DIRECT_PROXY_ID = 'direct';

/** Stable, printable id of a proxy URL: a hash of protocol, host, port and username (never the password). */
export function proxyIdOf(url: string): string {
    const u = new URL(url);
    const key = `${u.protocol}//${decodeURIComponent(u.username)}@${u.hostname.toLowerCase()}:${u.port}`;
    return `proxy_${createHash('sha256').update(key).digest('hex').slice(0, 12)}`;
}

/**
 * Builds a {@link ProxyRef} from a URL. `JSON.stringify` and `util.inspect` of the ref show only the id and the
 * redacted URL (non-enumerable `toJSON` / inspect hooks), so logging or serializing a session does not leak the password.
 */
export function proxyRefOf(url: string): ProxyRef {
    const u = new URL(url);
    const port = u.port || (u.protocol === 'https:' ? '443' : u.protocol.startsWith('socks') ? '1080' : '80');
    const ref: ProxyRef = { id: proxyIdOf(url), url, redactedUrl: redactUrl(url), hostPort: `${u.hostname}:${port}` };
    const safe = () => ({ id: ref.id, redactedUrl: ref.redactedUrl });
    Object.defineProperty(ref, 'toJSON', { value: safe, enumerable: false });
    Object.defineProperty(ref, inspect.custom, { value: () => `ProxyRef ${ref.id} ${ref.redactedUrl}`, enumerable: false });
    return ref;
}

/** Where proxies come from. `undefined` entries stand for a direct connection. */
export class ProxySource {
    /** The fixed list of proxies, or `undefined` when URLs come from a `newUrlFunction` (one per session). */
    readonly fixed: readonly (ProxyRef | undefined)[] | undefined;
    /** With `tieredProxyUrls` (two tiers or more): the tier of each fixed proxy by id (0 = cheapest), and how many tiers. */
    readonly tiers: { of: ReadonlyMap<string, number>; count: number } | undefined;
    private readonly known = new Map<string, ProxyRef>();

    private constructor(
        fixed: (ProxyRef | undefined)[] | undefined,
        private readonly configuration: ProxyConfiguration | undefined,
        private readonly redactor: Redactor,
        tiers?: { of: ReadonlyMap<string, number>; count: number },
    ) {
        this.fixed = fixed;
        this.tiers = tiers;
        for (const p of fixed ?? []) if (p) this.remember(p);
    }

    /** Proxies from `proxyUrls`, from a Crawlee `ProxyConfiguration`, or direct when neither is given. */
    static create(
        options: { proxyUrls?: readonly (string | null)[]; proxyConfiguration?: ProxyConfiguration },
        redactor: Redactor,
    ): ProxySource {
        if (options.proxyUrls) return new ProxySource(dedupe(options.proxyUrls), undefined, redactor);
        const pc = options.proxyConfiguration;
        if (!pc) return new ProxySource([undefined], undefined, redactor);
        const inner = pc as unknown as {
            proxyUrls?: (string | null)[];
            tieredProxyUrls?: (string | null)[][];
            newUrlFunction?: unknown;
        };
        if (inner.proxyUrls?.length) return new ProxySource(dedupe(inner.proxyUrls), undefined, redactor);
        const tiered = readTiers(inner);
        if (tiered) {
            // Each proxy keeps the first (cheapest) tier it appears in; the ladder decides per site which tier new sessions take.
            const fixed = dedupe(tiered.urls);
            const of = new Map<string, number>();
            for (const url of tiered.urls) {
                const id = url ? proxyIdOf(url) : DIRECT_PROXY_ID;
                if (!of.has(id)) of.set(id, tiered.tierOf.get(url ?? '')!);
            }
            return new ProxySource(fixed, undefined, redactor, tiered.count > 1 ? { of, count: tiered.count } : undefined);
        }
        return new ProxySource(undefined, pc, redactor);
    }

    /** True when every session gets its URL from the ProxyConfiguration (`newUrlFunction`, Apify Proxy...). */
    get dynamic(): boolean {
        return this.fixed === undefined;
    }

    /** The proxy known under `id` (from the current configuration), or undefined. */
    byId(id: string): ProxyRef | undefined {
        return this.known.get(id);
    }

    /** Asks the ProxyConfiguration for the URL of a new session (dynamic mode only). `null` means direct. */
    async fromConfiguration(sessionId: string, request?: RequestLike): Promise<ProxyRef | undefined | null> {
        if (!this.configuration) throw new Error('fromConfiguration() needs a ProxyConfiguration');
        const url = await this.configuration.newUrl(sessionId, request ? { request: request as never } : undefined);
        if (!url) return null;
        const ref = proxyRefOf(url);
        ref.sessionId = sessionId;
        this.remember(ref);
        return ref;
    }

    /**
     * The current ProxyRef for a stored proxy id: undefined for direct, 'missing' if the configuration lacks it. With a
     * dynamic configuration `sessionId` is the id the URL was asked for (the session's own, or the one it reused).
     */
    async reattach(proxyId: string, sessionId: string): Promise<ProxyRef | undefined | 'missing'> {
        if (this.dynamic) {
            try {
                const ref = await this.fromConfiguration(sessionId);
                if (!ref) return proxyId === DIRECT_PROXY_ID ? undefined : 'missing';
                return ref.id === proxyId ? ref : 'missing';
            } catch {
                return 'missing';
            }
        }
        if (proxyId === DIRECT_PROXY_ID) return this.fixed!.includes(undefined) ? undefined : 'missing';
        return this.byId(proxyId) ?? 'missing';
    }

    private remember(ref: ProxyRef): void {
        this.known.set(ref.id, ref);
        this.redactor.addUrl(ref.url);
    }
}

function dedupe(urls: readonly (string | null)[]): (ProxyRef | undefined)[] {
    const seen = new Set<string>();
    const out: (ProxyRef | undefined)[] = [];
    for (const url of urls) {
        const ref = url ? proxyRefOf(url) : undefined;
        const id = ref?.id ?? DIRECT_PROXY_ID;
        if (seen.has(id)) continue;
        seen.add(id);
        out.push(ref);
    }
    return out;
}

/** How logs name a proxy: its id and `host:port`, never its credentials (`direct` for no proxy). */
export function proxyLabel(ref: ProxyRef | undefined): string {
    return ref ? `${ref.id} (${ref.hostPort})` : DIRECT_PROXY_ID;
}
