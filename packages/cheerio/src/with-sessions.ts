import type { HttpCrawlerOptions, HttpCrawlingContext, InternalHttpHook } from '@crawlee/http';
import type { SessionManager, SessionManagerOptions } from '@sessionpack/core';
import { CrawlerBinding } from '@sessionpack/core/adapter';

/** The most of a response body the check looks at (challenge markers sit near the top of a page). */
const BODY_CHECK_LIMIT = 256 * 1024;

type Hook = InternalHttpHook<HttpCrawlingContext>;

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
 * your `postNavigationHooks` after the response was checked, and your handlers get `ctx.session`.
 *
 * @param crawlerOptions The crawler's options. `proxyConfiguration`, `useSessionPool` and
 *   `persistCookiesPerSession` must be left out: sessionpack owns proxies, sessions and cookies.
 * @param sessions A {@link SessionManager} to share with other crawlers, or the options to open one.
 */
export function withSessions<Options extends HttpCrawlerOptions<any>>(
    crawlerOptions: Options,
    sessions: SessionManager | SessionManagerOptions,
): Options {
    for (const option of ['proxyConfiguration', 'useSessionPool', 'persistCookiesPerSession', 'sessionPoolOptions'] as const) {
        if (crawlerOptions[option] !== undefined) {
            throw new Error(
                `withSessions(): crawler option "${option}" must be left out: sessionpack manages proxies, sessions and their cookies. Give proxies to the sessions options (proxyUrls or proxyConfiguration) instead.`,
            );
        }
    }
    const binding = new CrawlerBinding(sessions);

    const bind: Hook = async (ctx, gotOptions) => {
        const session = binding.attach(ctx as never);
        // One identity per session: our header set replaces got-scraping's per-request generated one.
        gotOptions.useHeaderGenerator = false;
        gotOptions.headers = { ...session.identity.headers, ...gotOptions.headers };
        const manager = await binding.manager();
        await manager.prepare({ session, request: ctx.request, headers: gotOptions.headers as Record<string, string> });
    };

    const checkHeaders: Hook = async (ctx) => {
        const { response } = ctx;
        if (!response) return;
        const session = binding.current(ctx.request);
        session?.setCookiesFromResponse(response);
        // Status and headers are known here; the body is checked before the requestHandler runs.
        await binding.check(ctx as never, {
            url: response.url,
            statusCode: response.statusCode,
            headers: response.headers,
        });
    };

    const checkBody = async (ctx: HttpCrawlingContext) => {
        const body = ctx.body;
        const text = typeof body === 'string' ? body : Buffer.isBuffer(body) ? body.toString('utf8') : '';
        await binding.check(ctx as never, {
            url: ctx.request.loadedUrl ?? ctx.request.url,
            statusCode: ctx.response.statusCode,
            headers: ctx.response.headers,
            body: text.slice(0, BODY_CHECK_LIMIT),
        });
    };

    const userRequestHandler = crawlerOptions.requestHandler;
    if (!userRequestHandler) throw new Error('withSessions(): crawler option "requestHandler" is required.');

    return {
        ...crawlerOptions,
        useSessionPool: false,
        proxyConfiguration: binding.proxyConfiguration(),
        preNavigationHooks: [bind, ...(crawlerOptions.preNavigationHooks ?? [])],
        postNavigationHooks: [checkHeaders, ...(crawlerOptions.postNavigationHooks ?? [])],
        requestHandler: binding.wrapRequestHandler(userRequestHandler as never, checkBody as never),
        errorHandler: binding.wrapErrorHandler(crawlerOptions.errorHandler as never),
        failedRequestHandler: binding.wrapErrorHandler(crawlerOptions.failedRequestHandler as never),
    };
}
