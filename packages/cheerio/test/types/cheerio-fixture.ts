/**
 * Type fixture (compiled by types.test.ts, never run): what must and must not compile for users of the Cheerio adapter,
 * README snippets included. Each `@ts-expect-error` must be an error, or tsc reports the directive as unused.
 */
import { CheerioCrawler, type CheerioAPI, type CheerioCrawlerOptions } from '@crawlee/cheerio';
import { HttpCrawler, type HttpCrawlingContext } from '@crawlee/http';
import type { ManagedSession } from '@sessionpack/core';
import { SessionManager } from '@sessionpack/core';
import { type CheerioHookExtras, withSessions } from '@sessionpack/cheerio';
import { expectTypeOf } from 'vitest';

declare const requestHandler: () => Promise<void>;

// README "Use" (root README).
export const readme = new CheerioCrawler(
    withSessions({ requestHandler }, {
        proxyUrls: ['http://user:pass@proxy-1:8000', 'http://user:pass@proxy-2:8000'],
        pool: { size: 8 },
        rules: [
            {
                match: 'https://shop.example/**',
                init: async ({ session, sendRequest }) => {
                    const res = await sendRequest({ url: 'https://shop.example/login', method: 'POST', form: { user: 'a', pass: 'b' } });
                    session.userData.csrf = /name="csrf" value="([^"]+)"/.exec(res.body)?.[1];
                },
                check: ({ response }) => (response.body?.includes('Please log in') ? 'retire' : 'keep'),
                prepare: ({ session, headers }) => {
                    headers['x-csrf-token'] = String(session.userData.csrf);
                },
            },
        ],
    }),
);

// An inline handler's context is CheerioCrawler's, with our session.
export const inline = new CheerioCrawler(
    withSessions(
        {
            requestHandler: async (ctx) => {
                expectTypeOf(ctx.session).toEqualTypeOf<ManagedSession>();
                expectTypeOf(ctx.session.identity.userAgent).toEqualTypeOf<string>();
                expectTypeOf(ctx.session.poolKey).toEqualTypeOf<string>();
                expectTypeOf(ctx.$).toEqualTypeOf<CheerioAPI>();
                // @ts-expect-error a context has no such property (it was `any` before)
                ctx.nonexistent.foo();
            },
            preNavigationHooks: [
                (ctx, gotOptions) => {
                    expectTypeOf(ctx.session).toEqualTypeOf<ManagedSession>();
                    gotOptions.headers = { ...gotOptions.headers, 'x-mine': '1' };
                },
            ],
            postNavigationHooks: [
                ({ session }) => {
                    expectTypeOf(session).toEqualTypeOf<ManagedSession>();
                },
            ],
            // The attempt may have failed before it got a session (a stopped crawl).
            errorHandler: ({ session }) => {
                expectTypeOf(session).toEqualTypeOf<ManagedSession | undefined>();
            },
            failedRequestHandler: ({ session }, error) => {
                expectTypeOf(session).toEqualTypeOf<ManagedSession | undefined>();
                expectTypeOf(error).toEqualTypeOf<Error>();
            },
        },
        {
            rules: [
                {
                    match: 'http://shop.test/**',
                    // Cheerio checks get the parsed page.
                    check: ({ $, response, session }) => {
                        expectTypeOf($).toEqualTypeOf<CheerioAPI | undefined>();
                        expectTypeOf(session).toEqualTypeOf<ManagedSession>();
                        return $?.('.price').length && response.statusCode === 200 ? 'keep' : 'retire';
                    },
                },
                {
                    match: 'http://shop.test/**',
                    // @ts-expect-error `page` is a browser crawler's, not Cheerio's
                    check: ({ page }) => Boolean(page),
                },
                {
                    match: 'http://shop.test/**',
                    // @ts-expect-error no index signature: unknown state properties do not exist
                    init: async ({ newPage }) => void newPage,
                },
            ],
        },
    ),
);

// sessionpack owns these options: they do not compile.
// @ts-expect-error proxyConfiguration belongs to the sessions options
withSessions({ requestHandler, proxyConfiguration: undefined as never }, {});
// @ts-expect-error useSessionPool is sessionpack's
withSessions({ requestHandler, useSessionPool: true }, {});
// @ts-expect-error a handler of another context type is rejected
withSessions({ requestHandler: async (ctx: { page: string }) => void ctx.page }, {});

// Options already typed as Crawlee's (a user's existing crawler) are accepted as they are.
declare const existing: CheerioCrawlerOptions;
export const fromExisting = new CheerioCrawler(withSessions(existing, {}));

// Another HttpCrawler: name its context.
export const http = new HttpCrawler(
    withSessions<HttpCrawlingContext>(
        {
            requestHandler: async ({ session, body }) => {
                expectTypeOf(session).toEqualTypeOf<ManagedSession>();
                expectTypeOf(body).toEqualTypeOf<string | Buffer>();
            },
        },
        {},
    ),
);

// Crawlee's implicit router: no requestHandler.
export const routed = new CheerioCrawler(withSessions({ maxConcurrency: 2 }, {}));

// A shared manager with Cheerio-typed rules.
export async function shared() {
    const manager = await SessionManager.open<CheerioHookExtras>({ rules: [{ match: '**', check: ({ $ }) => Boolean($) }] });
    return new CheerioCrawler(withSessions({ requestHandler }, manager));
}
