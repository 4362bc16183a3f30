/**
 * `sendRequest` for init flows (and anyone else): an HTTP request through the session's proxy, with its identity's
 * headers and its cookie jar, using got-scraping (the HTTP client of Crawlee's HttpCrawler). This is the default
 * init means of every adapter; browser adapters may add a page on top.
 */
import type { ManagedSession } from './session.js';
import type { SendRequest, SendRequestOptions, SendRequestResponse } from './types.js';

/** Options of {@link createSendRequest}. */
export interface CreateSendRequestOptions {
    /** Default timeout of each request in milliseconds. @default 30000 */
    timeoutMillis?: number;
    /** Headers added to every request (after the identity's, before the call's own). @default {} */
    headers?: Record<string, string>;
}

/**
 * A {@link SendRequest} bound to `session`: its proxy (`identity.proxy.url`), its header set and user agent, and its
 * cookie jar (cookies set by responses are kept in the session). Never throws on HTTP error statuses; network and
 * proxy errors reject (classify them with `classify({ error })`).
 *
 * ```ts
 * const send = createSendRequest(session);
 * const res = await send({ url: 'https://shop.example/login', method: 'POST', form: { user: 'a', pass: 'b' } });
 * ```
 */
export function createSendRequest(session: ManagedSession, options: CreateSendRequestOptions = {}): SendRequest {
    return async (input: SendRequestOptions | string): Promise<SendRequestResponse> => {
        const o: SendRequestOptions = typeof input === 'string' ? { url: input } : input;
        const { gotScraping } = await import('got-scraping');
        const headers: Record<string, string> = { ...session.identity.headers, ...options.headers };
        // got decodes gzip/deflate/br; advertising zstd could yield bodies it cannot decode.
        if (headers['accept-encoding']) headers['accept-encoding'] = 'gzip, deflate, br';
        for (const [k, v] of Object.entries(o.headers ?? {})) headers[k.toLowerCase()] = v;
        const response = await gotScraping({
            url: o.url,
            method: (o.method ?? (o.form || o.json !== undefined || o.body !== undefined ? 'POST' : 'GET')).toUpperCase() as 'GET',
            headers,
            proxyUrl: session.identity.proxy?.url,
            cookieJar: session.cookieJar as never,
            useHeaderGenerator: false,
            throwHttpErrors: false,
            followRedirect: o.followRedirect ?? true,
            retry: { limit: 0 },
            timeout: { request: o.timeoutMillis ?? options.timeoutMillis ?? 30_000 },
            responseType: 'text',
            ...(o.form ? { form: o.form } : {}),
            ...(o.json !== undefined ? { json: o.json } : {}),
            ...(o.body !== undefined ? { body: o.body } : {}),
        });
        return {
            url: response.url,
            statusCode: response.statusCode,
            headers: response.headers as SendRequestResponse['headers'],
            body: typeof response.body === 'string' ? response.body : String(response.body ?? ''),
        };
    };
}
