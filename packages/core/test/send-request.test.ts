import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createSendRequest } from '../src/adapter/index.js';
import { classify } from '../src/index.js';
import { openManager, req } from './helpers.js';

/** A target on loopback that echoes what it received and sets a cookie. */
function startTarget(): Promise<Server> {
    const server = createServer((request, response) => {
        let body = '';
        request.on('data', (c) => (body += c));
        request.on('end', () => {
            if (request.url?.startsWith('/blocked')) {
                response.writeHead(403, { 'content-type': 'text/html' }).end('<title>Access denied</title>');
                return;
            }
            response.setHeader('set-cookie', 'visited=yes; Path=/');
            response.setHeader('content-type', 'application/json');
            response.end(JSON.stringify({ method: request.method, url: request.url, headers: request.headers, body }));
        });
    });
    return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

/** A minimal HTTP proxy (absolute-URI forwarding and CONNECT) that requires basic auth and counts requests. */
function startProxy(user: string, pass: string) {
    const seen: string[] = [];
    const expected = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
    const authorized = (r: IncomingMessage) => r.headers['proxy-authorization'] === expected;
    const server = createServer((request, response) => {
        if (!authorized(request)) {
            response.writeHead(407, { 'proxy-authenticate': 'Basic' }).end();
            return;
        }
        seen.push(`${request.method} ${request.url}`);
        const target = new URL(request.url!);
        const headers = { ...request.headers };
        delete headers['proxy-authorization'];
        const upstream = httpRequest(
            { host: target.hostname, port: target.port, path: target.pathname + target.search, method: request.method, headers },
            (res) => {
                response.writeHead(res.statusCode!, res.headers);
                res.pipe(response);
            },
        );
        request.pipe(upstream);
    });
    server.on('connect', (request, socket) => {
        if (!authorized(request)) {
            socket.end('HTTP/1.1 407 Proxy Authentication Required\r\n\r\n');
            return;
        }
        seen.push(`CONNECT ${request.url}`);
        const [host, port] = request.url!.split(':');
        const upstream = connect(Number(port), host!, () => {
            socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
            upstream.pipe(socket);
            socket.pipe(upstream);
        });
        upstream.on('error', () => socket.destroy());
    });
    return new Promise<{ server: Server; seen: string[] }>((r) => server.listen(0, '127.0.0.1', () => r({ server, seen })));
}

describe('createSendRequest', () => {
    let target: Server;
    let proxy: { server: Server; seen: string[] };
    let targetUrl: string;
    let proxyUrl: string;
    beforeAll(async () => {
        target = await startTarget();
        proxy = await startProxy('alice', 'pa55word');
        targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
        proxyUrl = `http://alice:pa55word@127.0.0.1:${(proxy.server.address() as AddressInfo).port}`;
    });
    afterAll(() => {
        target.close();
        proxy.server.close();
    });

    it("goes through the session's proxy with its headers, and keeps cookies in its jar", async () => {
        const { manager } = await openManager({ proxyUrls: [proxyUrl] });
        const session = await manager.acquire(req('http://shop.test/'));
        const send = createSendRequest(session);
        const first = await send(`${targetUrl}/login?x=1`);
        expect(first.statusCode).toBe(200);
        const echoed = JSON.parse(first.body);
        expect(echoed.headers['user-agent']).toBe(session.identity.userAgent);
        expect(proxy.seen.some((l) => l.includes('/login?x=1') || l.startsWith('CONNECT'))).toBe(true);
        expect(session.getCookieString(`${targetUrl}/`)).toBe('visited=yes');
        const second = JSON.parse((await send({ url: `${targetUrl}/form`, form: { user: 'a' }, headers: { 'X-Test': '1' } })).body);
        expect(second.method).toBe('POST');
        expect(second.body).toBe('user=a');
        expect(second.headers.cookie).toBe('visited=yes');
        expect(second.headers['x-test']).toBe('1');
        await manager.close();
    });

    it('a wrong proxy password fails as a proxy failure, without leaking it', async () => {
        const { manager } = await openManager({ proxyUrls: [proxyUrl.replace('pa55word', 'wrong-pw')] });
        const session = await manager.acquire(req('http://shop.test/'));
        let outcome;
        try {
            const res = await createSendRequest(session)(`${targetUrl}/`);
            outcome = await manager.evaluate({ session, request: req(`${targetUrl}/`), response: { statusCode: res.statusCode } });
        } catch (error) {
            outcome = await manager.evaluate({ session, request: req(`${targetUrl}/`), response: { error } });
        }
        expect(outcome.type).toBe('proxy-failure');
        expect(JSON.stringify(outcome)).not.toContain('wrong-pw');
        await manager.close();
    });

    it("init's sendRequest classifies responses: a block fails the init against the proxy, not the init flow", async () => {
        const { manager } = await openManager({
            proxyUrls: [proxyUrl],
            pool: { maxInitFailuresInRow: 1, acquireTimeoutSecs: 0 },
            proxyBackoff: { blockedInRow: 1 },
            rules: [{ match: '**', init: async ({ sendRequest, request }) => void (await sendRequest(request.url)) }],
        });
        const err = await manager.acquire(req(`${targetUrl}/blocked`)).catch((e) => e);
        // The only proxy is now backed off on this site: no InitFailedError (the init flow is fine), a proxy error.
        expect(err.name).toBe('NoUsableProxyError');
        const c = manager.stats().pools['127.0.0.1']!.counters;
        expect([c['init/failed'], c['proxy/backoff']]).toEqual([1, 1]);
        expect(manager.pools.get('127.0.0.1')!.initFailuresInRow).toBe(0);
        // initTools may be a function of the new session.
        const seen: string[] = [];
        const { manager: m2 } = await openManager({
            proxyUrls: [proxyUrl],
            rules: [{ match: '**', init: (state) => void seen.push(String((state as typeof state & { tag?: string }).tag)) }],
        });
        const s = await m2.acquire(req(`${targetUrl}/ok`), { initTools: (session) => ({ tag: `for ${session.id}` }) });
        expect(seen).toEqual([`for ${s.id}`]);
        await manager.close();
        await m2.close();
    });

    it('a dead proxy is a proxy failure', async () => {
        const dead = createServer();
        await new Promise<void>((r) => dead.listen(0, '127.0.0.1', () => r()));
        const port = (dead.address() as AddressInfo).port;
        await new Promise((r) => dead.close(r));
        const { manager } = await openManager({ proxyUrls: [`http://u:p@127.0.0.1:${port}`] });
        const session = await manager.acquire(req('http://shop.test/'));
        const error = await createSendRequest(session)(`${targetUrl}/`).catch((e) => e);
        expect(classify({ error }, { proxyUrl: session.identity.proxy!.url }).type).toBe('proxy-failure');
        await manager.close();
    });
});
