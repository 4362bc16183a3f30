/**
 * Types every adapter's `withSessions()` shares: crawler options whose handlers and hooks see `ctx.session` as a
 * {@link ManagedSession}, without the options sessionpack owns.
 */
import type { Awaitable, LoadedContext, RestrictedCrawlingContext } from '@crawlee/core';

import type { ManagedSession } from './session.js';

/** A crawling context whose `session` is the attempt's {@link ManagedSession}. */
export type WithSession<Context> = Omit<Context, 'session'> & { session: ManagedSession };

/**
 * A context of an error handler: `session` is the attempt's session, or undefined when the attempt failed before it got
 * one (e.g. the crawl had stopped).
 */
export type WithOptionalSession<Context> = Omit<Context, 'session'> & { session?: ManagedSession | undefined };

/** Crawler options sessionpack owns: they are left out of the options `withSessions()` takes. */
export type OwnedCrawlerOption = 'proxyConfiguration' | 'useSessionPool' | 'persistCookiesPerSession' | 'sessionPoolOptions';

/** A pre- or post-navigation hook of a crawler with sessions (`HookArg`: got options, or the browser's goto options). */
export type SessionNavigationHook<Context, HookArg> = (ctx: WithSession<Context>, hookArg: HookArg) => Awaitable<void>;

/** The handlers and hooks of a crawler with sessions, typed for its context. */
export interface SessionHandlers<Context extends RestrictedCrawlingContext, HookArg> {
    /** Handles each page whose response passed the checks. @default the crawler's router (`crawler.router`) */
    requestHandler?: (ctx: WithSession<LoadedContext<Context>>) => Awaitable<void>;
    /** Called before each retry (Crawlee's `errorHandler`). @default none */
    errorHandler?: (ctx: WithOptionalSession<LoadedContext<Context>>, error: Error) => Awaitable<void>;
    /** Called when a request failed for good (Crawlee's `failedRequestHandler`). @default none */
    failedRequestHandler?: (ctx: WithOptionalSession<LoadedContext<Context>>, error: Error) => Awaitable<void>;
    /** Run after sessionpack's own pre-navigation hook (the session's identity, headers and cookies are set). @default [] */
    preNavigationHooks?: SessionNavigationHook<Context, HookArg>[];
    /** Run after the response was checked. @default [] */
    postNavigationHooks?: SessionNavigationHook<Context, HookArg>[];
}

/**
 * A crawler's `Options` as `withSessions()` takes them: without the options sessionpack owns, and with handlers and
 * hooks of `Context` that see `ctx.session` as a {@link ManagedSession}.
 */
export type SessionCrawlerOptionsOf<Options, Context extends RestrictedCrawlingContext, HookArg> = Omit<
    Options,
    OwnedCrawlerOption | keyof SessionHandlers<Context, HookArg>
> &
    SessionHandlers<Context, HookArg>;
