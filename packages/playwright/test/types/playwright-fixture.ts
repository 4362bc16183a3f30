/**
 * Type fixture (compiled by the root test/types.test.ts, never run): what must and must not compile for users of the
 * Playwright adapter, README snippets included. Each `@ts-expect-error` must be an error, or tsc reports it as unused.
 */
import { PlaywrightCrawler } from '@crawlee/playwright';
import { type ManagedSession, type Rule, SessionManager } from '@sessionpack/core';
import { type PlaywrightHookExtras, withSessions } from '@sessionpack/playwright';
import type { Page, Response } from 'playwright';
import { expectTypeOf } from 'vitest';

declare const requestHandler: () => Promise<void>;
declare const check: Rule<PlaywrightHookExtras>['check'];

// README: the package's snippet, and the browser README's init.
export const readme = new PlaywrightCrawler(
    withSessions({ requestHandler, maxConcurrency: 5 }, {
        proxyUrls: ['http://user:pass@proxy-1:8000', 'http://user:pass@proxy-2:8000'],
        pool: { size: 8 },
        rules: [
            {
                match: 'https://shop.example/**',
                init: async ({ newPage }) => {
                    const page = await newPage();
                    await page.goto('https://shop.example/location');
                    await page.selectOption('select[name=location]', 'DE');
                    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
                },
                check,
            },
        ],
    }),
);

export const inline = new PlaywrightCrawler(
    withSessions(
        {
            requestHandler: async (ctx) => {
                expectTypeOf(ctx.session).toEqualTypeOf<ManagedSession>();
                expectTypeOf(ctx.page).toEqualTypeOf<Page>();
                expectTypeOf(ctx.session.identity.userAgent).toEqualTypeOf<string>();
                // @ts-expect-error a context has no such property
                ctx.nonexistent.foo();
            },
            preNavigationHooks: [
                ({ session, page }) => {
                    expectTypeOf(session).toEqualTypeOf<ManagedSession>();
                    expectTypeOf(page).toEqualTypeOf<Page>();
                },
            ],
            failedRequestHandler: ({ session }) => {
                expectTypeOf(session).toEqualTypeOf<ManagedSession | undefined>();
            },
        },
        {
            rules: [
                {
                    match: 'http://shop.test/**',
                    init: async ({ newPage, session }) => {
                        expectTypeOf(await newPage()).toEqualTypeOf<Page>();
                        expectTypeOf(session).toEqualTypeOf<ManagedSession>();
                    },
                    check: async ({ page, pageResponse, response }) => {
                        expectTypeOf(page).toEqualTypeOf<Page>();
                        expectTypeOf(pageResponse).toEqualTypeOf<Response | null | undefined>();
                        return (await page.title()).includes('Blocked') || response.statusCode === 403 ? 'retire' : 'keep';
                    },
                    prepare: ({ page, headers }) => {
                        expectTypeOf(page).toEqualTypeOf<Page>();
                        headers['x-mine'] = '1';
                    },
                },
                {
                    match: 'http://shop.test/**',
                    // @ts-expect-error `$` is Cheerio's, not a browser crawler's
                    check: ({ $ }) => Boolean($),
                },
                {
                    match: 'http://shop.test/**',
                    // @ts-expect-error prepare hooks get no newPage (only init does)
                    prepare: ({ newPage }) => void newPage,
                },
            ],
        },
    ),
);

// @ts-expect-error sessionpack owns proxyConfiguration
withSessions({ requestHandler, proxyConfiguration: undefined as never }, {});

// A shared manager with Playwright-typed rules.
export async function shared() {
    const manager = await SessionManager.open<PlaywrightHookExtras>({
        rules: [{ match: '**', init: async ({ newPage }) => void (await (await newPage()).title()) }],
    });
    return new PlaywrightCrawler(withSessions({ requestHandler }, manager));
}
