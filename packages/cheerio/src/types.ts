/**
 * Types of the Cheerio adapter: the crawler options `withSessions()` takes (every handler and hook sees `ctx.session`
 * as a `ManagedSession`) and what Cheerio adds to a rule's hook states.
 */
import type { CheerioCrawlingContext } from '@crawlee/cheerio';
import type { HttpCrawlerOptions, HttpCrawlingContext, InternalHttpCrawlingContext, InternalHttpHook } from '@crawlee/http';
import type { SessionCrawlerOptionsOf } from '@sessionpack/core';

/** The got options a navigation hook may edit (Crawlee's `OptionsInit` of got-scraping). */
export type GotOptions = Parameters<InternalHttpHook<HttpCrawlingContext>>[1];

/**
 * The options of an HttpCrawler (CheerioCrawler by default) as `withSessions()` takes them: Crawlee's, without the
 * options sessionpack owns, and with handlers and hooks that see `ctx.session` as a `ManagedSession`.
 */
export type SessionCrawlerOptions<Context extends InternalHttpCrawlingContext = CheerioCrawlingContext> = SessionCrawlerOptionsOf<
    HttpCrawlerOptions<Context>,
    Context,
    GotOptions
>;

/**
 * What the Cheerio adapter adds to a rule's hook states: a check gets the parsed page as `$` (undefined for JSON and
 * other responses that are not HTML or XML).
 */
export interface CheerioHookExtras {
    check: {
        /** The parsed HTML, as the requestHandler's `ctx.$` will be; undefined for JSON and other non-HTML responses. */
        $?: CheerioCrawlingContext['$'] | undefined;
    };
}
