/**
 * How a page Crawlee opens finds its session. Crawlee asks our ProxyConfiguration for a proxy with `{ request }` and
 * then opens the attempt's page with nothing but that proxy URL (its hooks see a page id, never the request). So the
 * URL handed back is a route: a placeholder host naming the attempt (`http://<token>.sessionpack.invalid`). It never
 * reaches Chromium or the network: the browser Crawlee holds opens the page in the session's own context, which has the
 * session's real proxy. `.invalid` is reserved (RFC 2606): nothing could resolve it even if it leaked.
 */
import { randomBytes } from 'node:crypto';

const ROUTE_SUFFIX = '.sessionpack.invalid';

/** Tokens of the attempts whose page is not open yet, and what each stands for. */
export class PageRoutes<Target> {
    private readonly routes = new Map<string, Target>();

    /** A placeholder proxy URL routing the next page to `target`. */
    add(target: Target): string {
        const token = `r${randomBytes(8).toString('hex')}`;
        this.routes.set(token, target);
        return `http://${token}${ROUTE_SUFFIX}`;
    }

    /** The target of the route in `proxyServer` (a URL or `host:port`), removed from the table; undefined if none. */
    take(proxyServer: string | undefined): Target | undefined {
        const token = tokenOf(proxyServer);
        if (!token) return undefined;
        const target = this.routes.get(token);
        this.routes.delete(token);
        return target;
    }

    /** Forgets the routes whose target matches (their attempt ended, or got a page, before the route was taken). */
    drop(matches: (target: Target) => boolean): void {
        for (const [token, target] of this.routes) if (matches(target)) this.routes.delete(token);
    }

    get size(): number {
        return this.routes.size;
    }
}

/** The token in a route URL, or undefined for any other proxy server. */
export function tokenOf(proxyServer: string | undefined): string | undefined {
    if (!proxyServer) return undefined;
    const host = /^(?:[a-z]+:\/\/)?([^/:@]+)/i.exec(proxyServer)?.[1]?.toLowerCase();
    if (!host?.endsWith(ROUTE_SUFFIX)) return undefined;
    return host.slice(0, -ROUTE_SUFFIX.length);
}
