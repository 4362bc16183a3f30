import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';

import type { CheerioCrawlingContext } from '@crawlee/cheerio';
import type { HttpCrawlerOptions, HttpCrawlingContext, InternalHttpCrawlingContext, InternalHttpHook } from '@crawlee/http';
import type { SessionManager, SessionManagerOptions } from '@sessionpack/core';
import { CrawlerBinding, redirectCookies } from '@sessionpack/core/adapter';

import type { CheerioHookExtras, SessionCrawlerOptions } from './types.js';

/** The most of a response body the check looks at (challenge markers sit near the top of a page). */
const BODY_CHECK_LIMIT = 256 * 1024;

type Hook = InternalHttpHook<HttpCrawlingContext>;

/** Crawler options sessionpack owns. */
const OWNED = ['proxyConfiguration', 'useSessionPool', 'persistCookiesPerSession', 'sessionPoolOptions'] as const;

/**
 * Returns `crawlerOptions` for a CheerioCrawler (or any HttpCrawler) with sessionpack's hooks wired in:
 * each attempt acquires a session from its site's pool, leaves through the session's proxy with its
 * headers and cookies, has its response checked, and bad sessions are retired and the request retried
 * on another session.
 *
 * ```ts
 * const crawler = new CheerioCrawler(withSessions({ requestHandler }, { proxyUrls, pool: { size: 8 } }));
 * ```
 *
 * Your own `preNavigationHooks` run after ours (so they see `ctx.session` and can override headers),
 * your `postNavigationHooks` after the response was checked, and your handlers get `ctx.session`. Without a
 * `requestHandler`, the crawler's own router (`crawler.router.addHandler(...)`) handles requests, as in Crawlee.
 *
 * A manager opened from options here is closed when the crawler's run ends; a manager you pass in stays open.
 *
 * @param crawlerOptions The crawler's options. `proxyConfiguration`, `useSessionPool` and
 *   `persistCookiesPerSession` must be left out: sessionpack owns proxies, sessions and cookies.
 * @param sessions A {@link SessionManager} to share with other crawlers, or the options to open one.
 */
export function withSessions<Context extends InternalHttpCrawlingContext = CheerioCrawlingContext>(
    crawlerOptions: SessionCrawlerOptions<Context>,
    sessions: SessionManager | SessionManagerOptions<CheerioHookExtras>,
): HttpCrawlerOptions<Context> {
    const userOptions = crawlerOptions as SessionCrawlerOptions<Context> & Partial<Record<(typeof OWNED)[number], unknown>>;
    for (const option of OWNED) {
        if (userOptions[option] !== undefined) {
            throw new Error(
                `withSessions(): crawler option "${option}" must be left out: sessionpack manages proxies, sessions and their cookies. Give proxies to the sessions options (proxyUrls or proxyConfiguration) instead.`,
            );
        }
    }
    const binding = new CrawlerBinding(sessions as SessionManager | SessionManagerOptions);
    const accepted = new Set<number>(crawlerOptions.ignoreHttpErrorStatusCodes ?? []);
    const checked = new WeakSet<object>();

    const checkHeaders: Hook = async (ctx) => {
        const { response } = ctx;
        if (!response || checked.has(response)) return;
        checked.add(response);
        binding.current(ctx.request)?.setCookiesFromResponse(response);
        // A 5xx never reaches the requestHandler (Crawlee fails it on its status): its body is read here so a block
        // served as 5xx (a bot-fight page as 503) is seen, and handed back to Crawlee unchanged.
        let body: string | undefined;
        const status = response.statusCode ?? 0;
        if (status >= 500 && !accepted.has(status)) {
            const replay = await replayable(response);
            ctx.response = replay.response as typeof ctx.response;
            body = replay.text.slice(0, BODY_CHECK_LIMIT);
        }
        // Status and headers (and a 5xx body) are known here; the rule's checks run once, on the body, before the
        // requestHandler.
        await binding.check(
            ctx as never,
            { url: response.url, statusCode: response.statusCode, headers: response.headers, ...(body !== undefined ? { body } : {}) },
            {},
            { phase: 'headers', acceptedStatusCodes: accepted },
        );
    };

    const bind: Hook = async (ctx, gotOptions) => {
        const session = binding.attach(ctx as never);
        earlyHeaderCheck(ctx.crawler, checkHeaders);
        // One identity per session: our header set replaces got-scraping's per-request generated one.
        gotOptions.useHeaderGenerator = false;
        gotOptions.headers = { ...session.identity.headers, ...gotOptions.headers };
        // Crawlee's HTTP client drops got's cookie jar: cookies of every redirect hop go to the session here.
        const hooks = (gotOptions.hooks ??= {});
        hooks.beforeRedirect = [redirectCookies(session) as never, ...(hooks.beforeRedirect ?? [])];
        const manager = await binding.manager();
        await manager.prepare({ session, request: ctx.request, headers: gotOptions.headers as Record<string, string> });
    };

    const checkBody = async (ctx: HttpCrawlingContext) => {
        const body = ctx.body;
        const text = typeof body === 'string' ? body : Buffer.isBuffer(body) ? body.toString('utf8') : '';
        const $ = (ctx as unknown as Partial<CheerioCrawlingContext>).$;
        await binding.check(
            ctx as never,
            {
                url: ctx.request.loadedUrl ?? ctx.request.url,
                statusCode: ctx.response.statusCode,
                headers: ctx.response.headers,
                body: text.slice(0, BODY_CHECK_LIMIT),
            },
            $ ? { $ } : {},
            { acceptedStatusCodes: accepted },
        );
    };

    // Crawlee's implicit router: without a requestHandler, requests go to `crawler.router`.
    const userRequestHandler =
        crawlerOptions.requestHandler ?? ((ctx: HttpCrawlingContext) => (ctx.crawler as unknown as { router: (c: unknown) => unknown }).router(ctx));

    return {
        ...(crawlerOptions as HttpCrawlerOptions<Context>),
        useSessionPool: false,
        proxyConfiguration: binding.proxyConfiguration(),
        preNavigationHooks: [bind, ...((crawlerOptions.preNavigationHooks ?? []) as Hook[])] as never,
        // Normally already run before Crawlee's content-type check (see earlyHeaderCheck); here it is a fallback.
        postNavigationHooks: [checkHeaders, ...((crawlerOptions.postNavigationHooks ?? []) as Hook[])] as never,
        requestHandler: binding.wrapRequestHandler(userRequestHandler as never, checkBody as never) as never,
        errorHandler: binding.wrapErrorHandler(crawlerOptions.errorHandler as never) as never,
        failedRequestHandler: binding.wrapErrorHandler(crawlerOptions.failedRequestHandler as never) as never,
    };
}

/** The response properties Crawlee reads off its response stream. */
const RESPONSE_PROPERTIES = ['statusCode', 'statusMessage', 'headers', 'complete', 'httpVersion', 'rawHeaders', 'rawTrailers', 'trailers', 'url', 'request', 'redirectUrls', 'ip'] as const;

/** Reads a response stream to its end and returns its text and a stream that replays the same bytes with the same properties. */
async function replayable(response: IncomingMessage): Promise<{ text: string; response: Readable }> {
    const chunks: Buffer[] = [];
    for await (const chunk of response) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
    const raw = Buffer.concat(chunks);
    const replay = Readable.from([raw]);
    for (const key of RESPONSE_PROPERTIES) {
        if (key in response) Object.defineProperty(replay, key, { value: (response as unknown as Record<string, unknown>)[key], writable: true, configurable: true, enumerable: true });
    }
    return { text: raw.toString('utf8'), response: replay };
}

/**
 * HttpCrawler's first post-navigation hook refuses content types it cannot parse (`noRetry`), before any hook of ours:
 * a 403 or 429 served as `text/plain` would fail without a retry on another session. Our status check goes first.
 */
function earlyHeaderCheck(crawler: unknown, checkHeaders: Hook): void {
    const hooks = (crawler as { postNavigationHooks?: unknown[] } | undefined)?.postNavigationHooks;
    if (Array.isArray(hooks) && hooks[0] !== checkHeaders) hooks.unshift(checkHeaders);
}
