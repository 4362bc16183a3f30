import http, { type IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';

/** A plain HTTP response, read to the end. */
export interface HttpResult {
    status: number;
    headers: IncomingHttpHeaders;
    body: string;
}

export interface RequestOptions {
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    /** Go through the proxy with a CONNECT tunnel instead of a forwarded request. */
    tunnel?: boolean;
}

function proxyAuthorization(proxy: URL): Record<string, string> {
    if (!proxy.username && !proxy.password) return {};
    const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
    return { 'proxy-authorization': `Basic ${Buffer.from(credentials).toString('base64')}` };
}

function readResponse(res: http.IncomingMessage): Promise<HttpResult> {
    return new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
    });
}

/** One request, without connection reuse (no handles stay open), directly or through an HTTP proxy. */
export function request(url: string, proxyUrl: string | undefined, options: RequestOptions = {}): Promise<HttpResult> {
    const target = new URL(url);
    const method = options.method ?? (options.body !== undefined ? 'POST' : 'GET');
    const headers: Record<string, string> = { host: target.host, ...options.headers };
    if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body));
    const path = `${target.pathname}${target.search}`;

    return new Promise<HttpResult>((resolve, reject) => {
        const send = (req: http.ClientRequest) => {
            req.on('error', reject);
            req.end(options.body);
        };
        const onResponse = (res: http.IncomingMessage) => readResponse(res).then(resolve, reject);

        if (!proxyUrl) {
            send(http.request({ host: target.hostname, port: target.port, method, path, headers, agent: false }, onResponse));
            return;
        }
        const proxy = new URL(proxyUrl);
        if (!options.tunnel) {
            send(http.request(
                { host: proxy.hostname, port: proxy.port, method, path: target.href, headers: { ...headers, ...proxyAuthorization(proxy) }, agent: false },
                onResponse,
            ));
            return;
        }
        const connect = http.request({
            host: proxy.hostname,
            port: proxy.port,
            method: 'CONNECT',
            path: `${target.hostname}:${target.port || 80}`,
            headers: { host: `${target.hostname}:${target.port || 80}`, ...proxyAuthorization(proxy) },
            agent: false,
        });
        connect.on('connect', (res: http.IncomingMessage, socket: Socket) => {
            if (res.statusCode !== 200) {
                // The proxy refused the tunnel: report its status and body like a response.
                socket.destroy();
                resolve({ status: res.statusCode ?? 0, headers: res.headers, body: '' });
                return;
            }
            const inner = http.request({ method, path, headers, createConnection: () => socket }, (innerRes) => {
                readResponse(innerRes).then((r) => {
                    socket.destroy();
                    resolve(r);
                }, reject);
            });
            send(inner);
        });
        connect.on('error', reject);
        connect.end();
    });
}

/**
 * A minimal client with a cookie jar per host and a fixed user agent, going through one proxy:
 * enough to act like one crawler session.
 */
export class Client {
    private readonly jar = new Map<string, Map<string, string>>();

    constructor(
        readonly proxyUrl: string | undefined,
        readonly userAgent = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36',
        readonly tunnel = false,
    ) {}

    async get(url: string, headers: Record<string, string> = {}): Promise<HttpResult> {
        return this.send(url, { headers });
    }

    async post(url: string, body: string, headers: Record<string, string> = {}): Promise<HttpResult> {
        return this.send(url, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } });
    }

    cookie(host: string, name: string): string | undefined {
        return this.jar.get(host)?.get(name);
    }

    clearCookies(): void {
        this.jar.clear();
    }

    private async send(url: string, options: RequestOptions): Promise<HttpResult> {
        const host = new URL(url).hostname;
        const cookies = this.jar.get(host);
        const headers: Record<string, string> = { 'user-agent': this.userAgent, ...options.headers };
        if (cookies?.size) headers.cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
        const result = await request(url, this.proxyUrl, { ...options, headers, tunnel: this.tunnel });
        const setCookie = result.headers['set-cookie'] ?? [];
        for (const line of setCookie) {
            const [pair] = line.split(';');
            const eq = pair!.indexOf('=');
            if (eq < 0) continue;
            if (!this.jar.has(host)) this.jar.set(host, new Map());
            this.jar.get(host)!.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim());
        }
        return result;
    }
}
