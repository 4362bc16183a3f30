import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { BanResponses } from '../defenses/ip-bans.js';
import type { ChallengePolicy } from '../defenses/challenges.js';
import { CSRF_FIELD, CSRF_HEADER, csrfValid } from '../defenses/csrf.js';
import type { IpStanding } from '../defenses/drift.js';
import { observeBeacon, observeHeaderUserAgent } from '../defenses/identity.js';
import { RateLimiter } from '../defenses/rate-limit.js';
import { SessionStore, sessionCookie, type SiteSession } from '../defenses/sessions.js';
import { overUsageCap } from '../defenses/usage-cap.js';
import type { BlockResponse, ResolvedOptions } from '../options.js';
import type { RefusalReason, RequestLogEntry, ResponseKind, StatsRecorder } from '../stats.js';
import { type BlockContext, type BlockPage, captchaPage, challengePage, forbiddenPage, rateLimitedPage, softBlockPage } from './block-pages.js';
import { Catalog } from './catalog.js';
import { BEACON_PATH } from './html.js';
import {
    badRequestPage,
    categoryPage,
    homePage,
    jsPage,
    landingPage,
    locationFormPage,
    locationSetPage,
    notFoundPage,
    productPage,
} from './pages.js';

/** What the site needs from the rest of the proving ground. */
export interface SiteDependencies {
    options: ResolvedOptions['site'];
    seed: number;
    stats: StatsRecorder;
    standing: IpStanding;
    challenges: ChallengePolicy;
    banResponses: BanResponses;
    /** Source address of each farm proxy -> its index. */
    farmIps: ReadonlyMap<string, number>;
    /** Further client IPs that may connect (the gateway's exits); they have no proxy index. */
    extraIps?: ReadonlySet<string>;
    /** Accept connections that do not come from a farm proxy. */
    exposeDirect: boolean;
    now?: () => number;
}

/** One request on its way through the defenses. */
interface Exchange {
    req: IncomingMessage;
    res: ServerResponse;
    entry: Omit<RequestLogEntry, 'status' | 'kind'>;
    session?: SiteSession;
    /** Set when this response must carry a new session cookie. */
    newSession?: SiteSession;
    block: BlockContext;
}

const HTML = 'text/html; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';
const MAX_BODY = 16 * 1024;

/**
 * The shop: one HTTP server on 127.0.0.1 that answers every `*.test` hostname (each its own site,
 * with its own sessions) and runs each request through the configured defenses in this order:
 * IP ban (with drift) -> challenge -> rate limit per IP -> session cookie -> rate limit per
 * session -> identity block -> usage cap -> the page itself (CSRF checks on the API and the form).
 */
export class Site {
    readonly server: http.Server;
    private readonly catalog: Catalog;
    private readonly sessions: SessionStore;
    private readonly ipLimiter?: RateLimiter;
    private readonly sessionLimiter?: RateLimiter;
    private readonly now: () => number;
    private readonly timers = new Set<NodeJS.Timeout>();
    private readonly sockets = new Set<Socket>();
    private outageUntil = 0;

    constructor(private readonly deps: SiteDependencies) {
        const { options } = deps;
        this.now = deps.now ?? Date.now;
        this.catalog = new Catalog(options.categories, options.productsPerCategory);
        this.sessions = new SessionStore(deps.seed);
        if (options.rateLimits?.perIp) this.ipLimiter = new RateLimiter(options.rateLimits.perIp, this.now);
        if (options.rateLimits?.perSession) this.sessionLimiter = new RateLimiter(options.rateLimits.perSession, this.now);
        this.server = http.createServer((req, res) => {
            this.handle(req, res).catch((error: unknown) => {
                if (!res.headersSent) {
                    res.writeHead(500, { 'content-type': 'text/plain' });
                    res.end(`proving-ground site error: ${String(error)}`);
                } else {
                    res.destroy();
                }
            });
        });
        this.server.on('connection', (socket) => {
            const remote = normalizeIp(socket.remoteAddress);
            if (!deps.exposeDirect && !deps.farmIps.has(remote) && !deps.extraIps?.has(remote)) {
                // Only the farm's proxies may reach the site unless it is exposed for direct use.
                socket.destroy();
                return;
            }
            this.sockets.add(socket);
            socket.once('close', () => this.sockets.delete(socket));
        });
    }

    /** Listens on 127.0.0.1:`port` (0 = a free port) and resolves with the port. */
    async listen(port: number): Promise<number> {
        await new Promise<void>((resolve, reject) => {
            this.server.once('error', reject);
            this.server.listen(port, '127.0.0.1', () => {
                this.server.off('error', reject);
                resolve();
            });
        });
        return (this.server.address() as { port: number }).port;
    }

    /** Answers every request with a plain 403 (reason `outage`) for `durationMs` from now. */
    startOutage(durationMs: number): void {
        this.outageUntil = this.now() + durationMs;
    }

    /** Forgets sessions and rate-limit state (IP standing and stats are reset by their owners). */
    reset(): void {
        this.sessions.reset();
        this.outageUntil = 0;
        this.ipLimiter?.reset();
        this.sessionLimiter?.reset();
    }

    /** Stops listening, drops every connection and pending delayed response. */
    async close(): Promise<void> {
        for (const timer of this.timers) clearTimeout(timer);
        this.timers.clear();
        const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
        this.server.closeAllConnections();
        for (const socket of this.sockets) socket.destroy();
        await closed;
    }

    private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
        const now = this.now();
        const ip = normalizeIp(req.socket.remoteAddress);
        const host = hostOf(req.headers.host);
        const rawPath = pathOf(req.url);
        const pathname = rawPath.split('?')[0]!;
        const method = (req.method ?? 'GET').toUpperCase();
        const userAgent = headerValue(req.headers['user-agent']);
        const proxy = this.deps.farmIps.get(ip);

        if (pathname === '/favicon.ico') {
            // Browsers ask for it on their own; not part of the ground truth.
            res.writeHead(204).end();
            return;
        }

        const session = this.sessions.fromRequest(req, host);
        const exchange: Exchange = {
            req,
            res,
            session,
            entry: { t: now, host, ip, method, path: rawPath, userAgent, ...(proxy !== undefined ? { proxy } : {}) },
            block: { host, ip, path: rawPath, now },
        };
        if (session) exchange.entry.sid = session.id;

        if (pathname === BEACON_PATH && method === 'POST') {
            await this.beacon(exchange);
            return;
        }

        const { options } = this.deps;
        if (session && observeHeaderUserAgent(session, userAgent)) exchange.entry.uaMismatch = true;
        if (this.ipLimiter?.isPenalised(ip) || (session && this.sessionLimiter?.isPenalised(session.id))) {
            exchange.entry.duringPenalty = true;
        }

        // 0. A site-wide outage: everyone is refused, whoever they are.
        if (now < this.outageUntil) return this.blocked(exchange, 'forbidden', 'outage');
        // 1. IP bans (from the start, or by drift).
        if (this.deps.standing.countRequest(ip)) {
            return this.blocked(exchange, this.deps.banResponses.for(ip), 'ip-ban');
        }
        // 2. Challenges for configured clients.
        if (this.deps.challenges.applies(ip, userAgent)) {
            return this.blocked(exchange, options.challenges?.response ?? 'challenge', 'challenged');
        }
        // 3. Rate limit per IP.
        const ipVerdict = this.ipLimiter?.hit(ip);
        if (ipVerdict?.limited) return this.rateLimited(exchange, ipVerdict.retryAfterSeconds, 'rate-limit-ip');

        // 4. The session cookie.
        const isApi = pathname.startsWith('/api/');
        if (!exchange.session) {
            if (options.sessionRequired && isApi) {
                return this.json(exchange, 401, { error: 'session required: load a page of the site first' }, 'unauthorized', 'no-session');
            }
            const created = this.sessions.create(host);
            observeHeaderUserAgent(created, userAgent);
            exchange.session = created;
            exchange.newSession = created;
            exchange.entry.sid = created.id;
            if (options.sessionRequired) {
                return this.html(exchange, 200, landingPage(host, rawPath), 'landing', 'no-session');
            }
        }
        const current = exchange.session!;

        // 5. Rate limit per session.
        const sessionVerdict = this.sessionLimiter?.hit(current.id);
        if (sessionVerdict?.limited) return this.rateLimited(exchange, sessionVerdict.retryAfterSeconds, 'rate-limit-session');
        // 6. Identity consistency.
        if (options.identity?.block && current.flagged) {
            return this.blocked(exchange, options.identity.response ?? 'forbidden', 'identity');
        }
        // 7. Usage cap.
        if (overUsageCap(current, options.usageCap)) return this.blocked(exchange, 'captcha', 'usage-cap');

        return this.route(exchange, method, pathname, current);
    }

    private async route(exchange: Exchange, method: string, pathname: string, session: SiteSession): Promise<void> {
        const { options } = this.deps;
        const location = session.location ?? options.locations[0]!;
        const host = exchange.entry.host;
        const read = method === 'GET' || method === 'HEAD';
        let match: RegExpMatchArray | null;

        if (read && pathname === '/') return this.page(exchange, homePage(this.catalog, host));
        if (read && (match = pathname.match(/^\/category\/(\d+)\/?$/)) && this.catalog.hasCategory(Number(match[1]))) {
            return this.page(exchange, categoryPage(this.catalog, Number(match[1])));
        }
        if (read && (match = pathname.match(/^\/product\/(\d+)\/?$/))) {
            const product = this.catalog.product(Number(match[1]));
            if (product) return this.page(exchange, productPage(this.catalog, product, this.catalog.price(product, location)));
        }
        if (read && (match = pathname.match(/^\/api\/products\/(\d+)\/?$/))) {
            if (options.csrf && !csrfValid(session, headerValue(exchange.req.headers[CSRF_HEADER]))) {
                return this.json(exchange, 403, { error: `missing or invalid ${CSRF_HEADER} header` }, 'forbidden', 'csrf');
            }
            const product = this.catalog.product(Number(match[1]));
            if (product) {
                const price = this.catalog.price(product, location);
                return this.json(exchange, 200, { id: product.id, name: product.name, category: product.category, price }, 'page');
            }
            return this.json(exchange, 404, { error: 'no such product' }, 'not-found');
        }
        if (read && pathname === '/js') return this.page(exchange, jsPage());
        if (read && pathname === '/redirect') return this.redirect(exchange);
        if (read && (match = pathname.match(/^\/status\/([1-5]\d\d)\/?$/))) return this.status(exchange, Number(match[1]));
        if (read && pathname === '/location') {
            return this.page(exchange, locationFormPage(options.locations, location, session.csrfToken, CSRF_FIELD));
        }
        if (method === 'POST' && pathname === '/location') {
            const form = await readForm(exchange.req);
            if (!form) return this.html(exchange, 400, badRequestPage('unreadable form body'), 'bad-request');
            if (options.csrf && !csrfValid(session, form[CSRF_FIELD])) {
                return this.html(exchange, 403, badRequestPage('Invalid or missing CSRF token. Reload the form and try again.'), 'forbidden', 'csrf');
            }
            const chosen = form.location;
            if (!chosen || !options.locations.includes(chosen)) {
                return this.html(exchange, 400, badRequestPage(`unknown location; choose one of ${options.locations.join(', ')}`), 'bad-request');
            }
            session.location = chosen;
            return this.page(exchange, locationSetPage(chosen));
        }
        return this.html(exchange, 404, notFoundPage(pathname), 'not-found');
    }

    /**
     * `/redirect?to=<path>`: a 302 to another path of the same site (default `/`). A client without a session cookie
     * gets it on this 302, so only a client that keeps every hop's cookies arrives with it.
     */
    private redirect(exchange: Exchange): Promise<void> {
        const to = new URLSearchParams(exchange.entry.path.split('?')[1] ?? '').get('to') ?? '/';
        const location = to.startsWith('/') && !to.startsWith('//') ? to : '/';
        return this.send(exchange, 302, { location, 'content-type': HTML }, '', 'redirect');
    }

    /**
     * `/status/<code>?type=<content type>`: answers with that status and content type (default HTML), kind `error`.
     * `&page=challenge` serves the site's challenge page with that status instead (a bot-fight page as a 503);
     * `&pad=<n>` puts n characters of markup before it (a challenge whose markers sit deep in a big page).
     */
    private status(exchange: Exchange, code: number): Promise<void> {
        const query = new URLSearchParams(exchange.entry.path.split('?')[1] ?? '');
        if (query.get('page') === 'challenge') {
            const page = challengePage(exchange.block, this.deps.options.challengeStyle);
            const pad = Math.min(Math.max(0, Number(query.get('pad')) || 0), 10_000_000);
            return this.send(exchange, code, page.headers, pad ? `<!-- ${'x'.repeat(pad)} -->${page.body}` : page.body, 'challenge');
        }
        const type = query.get('type') ?? HTML;
        const body = type.includes('json') ? JSON.stringify({ error: `status ${code}` }) : `<html><body><h1>Status ${code}</h1></body></html>`;
        return this.send(exchange, code, { 'content-type': type }, body, 'error');
    }

    private async beacon(exchange: Exchange): Promise<void> {
        const body = await readBody(exchange.req);
        let reported = body ?? '';
        try {
            const parsed = JSON.parse(reported) as { ua?: unknown };
            if (typeof parsed?.ua === 'string') reported = parsed.ua;
        } catch {
            // A plain-text body is the user agent itself.
        }
        if (observeBeacon(exchange.session, reported, exchange.entry.userAgent)) exchange.entry.uaMismatch = true;
        this.finish(exchange, 204, {}, '', 'beacon');
    }

    private page(exchange: Exchange, body: string): Promise<void> {
        return this.html(exchange, 200, body, 'page');
    }

    private html(exchange: Exchange, status: number, body: string, kind: ResponseKind, reason?: RefusalReason): Promise<void> {
        return this.send(exchange, status, { 'content-type': HTML }, body, kind, reason);
    }

    private json(exchange: Exchange, status: number, value: unknown, kind: ResponseKind, reason?: RefusalReason): Promise<void> {
        return this.send(exchange, status, { 'content-type': JSON_TYPE }, JSON.stringify(value), kind, reason);
    }

    private rateLimited(exchange: Exchange, retryAfterSeconds: number, reason: RefusalReason): Promise<void> {
        const page = rateLimitedPage(exchange.block, retryAfterSeconds);
        return this.send(exchange, page.status, page.headers, page.body, 'rate-limited', reason);
    }

    private blocked(exchange: Exchange, response: BlockResponse, reason: RefusalReason): Promise<void> {
        let page: BlockPage;
        let kind: ResponseKind;
        switch (response) {
            case 'soft-block':
                [page, kind] = [softBlockPage(exchange.block), 'soft-block'];
                break;
            case 'challenge':
                [page, kind] = [challengePage(exchange.block, this.deps.options.challengeStyle), 'challenge'];
                break;
            case 'captcha':
                [page, kind] = [captchaPage(exchange.block), 'captcha'];
                break;
            case 'forbidden':
            default:
                [page, kind] = [forbiddenPage(exchange.block), 'forbidden'];
        }
        return this.send(exchange, page.status, page.headers, page.body, kind, reason);
    }

    private async send(
        exchange: Exchange,
        status: number,
        headers: Record<string, string>,
        body: string,
        kind: ResponseKind,
        reason?: RefusalReason,
    ): Promise<void> {
        const latency = this.deps.options.latencyMs;
        if (latency > 0) {
            await new Promise<void>((resolve) => {
                const timer = setTimeout(() => {
                    this.timers.delete(timer);
                    resolve();
                }, latency);
                this.timers.add(timer);
            });
            if (exchange.res.destroyed) return;
        }
        this.finish(exchange, status, headers, body, kind, reason);
    }

    private finish(exchange: Exchange, status: number, headers: Record<string, string>, body: string, kind: ResponseKind, reason?: RefusalReason): void {
        const { res, entry } = exchange;
        const session = exchange.session;
        if (kind === 'page' && session) session.pages++;
        const outHeaders: Record<string, string | string[]> = { ...headers, 'content-length': String(Buffer.byteLength(body)) };
        if (exchange.newSession) {
            const cookie = sessionCookie(exchange.newSession);
            outHeaders['set-cookie'] = headers['set-cookie'] ? [headers['set-cookie'], cookie] : cookie;
        }
        const logged: RequestLogEntry = { ...entry, status, kind };
        if (reason) logged.reason = reason;
        if (session) logged.location = session.location ?? this.deps.options.locations[0];
        this.deps.stats.record(logged);
        res.writeHead(status, outHeaders);
        res.end(exchange.req.method === 'HEAD' ? undefined : body);
    }
}

/** `::ffff:127.0.1.11` -> `127.0.1.11`. */
export function normalizeIp(address: string | undefined): string {
    if (!address) return '';
    return address.startsWith('::ffff:') ? address.slice(7) : address;
}

function hostOf(header: string | undefined): string {
    if (!header) return 'unknown';
    const host = header.startsWith('[') ? header.slice(0, header.indexOf(']') + 1) : header.split(':')[0]!;
    return host.toLowerCase();
}

/** The path with query, also when a client sent an absolute URL in the request line. */
function pathOf(url: string | undefined): string {
    if (!url) return '/';
    if (url.startsWith('/')) return url;
    try {
        const parsed = new URL(url);
        return `${parsed.pathname}${parsed.search}`;
    } catch {
        return '/';
    }
}

function headerValue(value: string | string[] | undefined): string {
    return Array.isArray(value) ? (value[0] ?? '') : (value ?? '');
}

async function readBody(req: IncomingMessage): Promise<string | undefined> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
        size += (chunk as Buffer).length;
        if (size > MAX_BODY) return undefined;
        chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks).toString('utf8');
}

/** Parses a urlencoded or JSON form body into string fields. */
async function readForm(req: IncomingMessage): Promise<Record<string, string> | undefined> {
    const body = await readBody(req);
    if (body === undefined) return undefined;
    const type = headerValue(req.headers['content-type']);
    if (type.includes('application/json')) {
        try {
            const parsed = JSON.parse(body) as unknown;
            if (typeof parsed !== 'object' || parsed === null) return undefined;
            return Object.fromEntries(Object.entries(parsed).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
        } catch {
            return undefined;
        }
    }
    return Object.fromEntries(new URLSearchParams(body));
}
