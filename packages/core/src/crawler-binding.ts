import { type CrawlingContext, log as crawleeLog, ProxyConfiguration, type Request } from '@crawlee/core';
import { AttemptTracker } from './attempts.js';
import { BadSessionError, SessionsUnavailableError, TargetError } from './errors.js';
import type { AcquireOptions } from './init.js';
import { SessionManager } from './manager.js';
import { type SessionManagerOptions, validateOptions } from './options.js';
import type { ManagedSession } from './session.js';
import type { Outcome, ResponseSnapshot } from './types.js';

/** Options of {@link CrawlerBinding.check}. */
export interface CheckOptions {
    /**
     * `'headers'`: only status and headers are known (the body follows): the classifier runs, rule checks do not, and a
     * target error is left to the crawler (Crawlee fails a 5xx itself and retries it within `maxRequestRetries`).
     * `'body'` (default): the whole response; rule checks run, exactly once per response.
     */
    phase?: 'headers' | 'body';
    /** Status codes the user told the crawler to accept (`ignoreHttpErrorStatusCodes`): never a target error. */
    acceptedStatusCodes?: ReadonlySet<number>;
}

/** The part of a Crawlee crawler the binding watches to close its manager when the run ends. */
interface TeardownTarget {
    teardown(): Promise<void>;
}

type AnyContext = CrawlingContext & { session?: ManagedSession | undefined };
type Handler<C> = (ctx: C, error: Error) => unknown;

/**
 * What every adapter needs to put a {@link SessionManager} between a Crawlee crawler and its requests:
 * a ProxyConfiguration that acquires a session per attempt, and the bookkeeping that ends each attempt
 * exactly once (bad response, handler success or failure, or an error before any response).
 */
export class CrawlerBinding {
    /** Errors thrown by the user's requestHandler: their attempts end as handler errors, after the user's errorHandler. */
    private readonly handlerErrors = new WeakSet<object>();
    private managerPromise?: Promise<SessionManager>;
    private tracker?: AttemptTracker;
    private stopReason?: string;
    private stoppedFailures = 0;
    private readonly watched = new WeakSet<object>();
    private readonly runEndTasks: (() => Promise<void>)[] = [];
    readonly log = crawleeLog.child({ prefix: 'sessionpack' });

    /** Options are validated here, at the crawler's construction, so a wrong option fails before any request. */
    constructor(private readonly source: SessionManager | SessionManagerOptions) {
        if (source instanceof SessionManager) this.managerPromise = Promise.resolve(source);
        else validateOptions(source);
    }

    /** The manager, opened on first use when the binding was given options. */
    manager(): Promise<SessionManager> {
        this.managerPromise ??= SessionManager.open(this.source as SessionManagerOptions);
        return this.managerPromise;
    }

    /** True when the binding opened its manager from options (and so closes it when the crawler's run ends). */
    get ownsManager(): boolean {
        return !(this.source instanceof SessionManager);
    }

    /**
     * Closes the manager at the end of the crawler's run (its `teardown()`), when the binding opened it: the final
     * stats line, the stored state and stats record, the persist listener removed. A manager you passed in stays open
     * (you close it). Called from every hook with the context's `crawler`; watching the same crawler twice is a no-op.
     */
    watch(crawler: unknown): void {
        if (!crawler || typeof crawler !== 'object' || this.watched.has(crawler)) return;
        const target = crawler as TeardownTarget;
        if (typeof target.teardown !== 'function') return;
        this.watched.add(crawler);
        const teardown = target.teardown.bind(target);
        target.teardown = async () => {
            try {
                await teardown();
            } finally {
                await this.endRun();
            }
        };
    }

    /**
     * Runs `task` when a watched crawler's run ends, before an owned manager closes (an adapter finishing work it
     * deferred, e.g. cookies still being read into sessions' jars, so that the stored state has them).
     */
    onRunEnd(task: () => Promise<void>): void {
        this.runEndTasks.push(task);
    }

    /** The run ended: summarize the requests a stop failed, close an owned manager, and be ready for another run. */
    private async endRun(): Promise<void> {
        for (const task of this.runEndTasks) await task().catch(() => {});
        if (this.stopReason && this.stoppedFailures > 0) {
            this.log.error(`${this.stoppedFailures} requests failed because the crawl stopped: ${this.stopReason}`);
        }
        this.stopReason = undefined;
        this.stoppedFailures = 0;
        if (!this.ownsManager || !this.managerPromise) return;
        const opened = this.managerPromise;
        this.managerPromise = undefined;
        this.tracker = undefined;
        await (await opened).close();
    }

    private async attempts(): Promise<AttemptTracker> {
        const manager = await this.manager();
        this.tracker ??= new AttemptTracker(manager);
        return this.tracker;
    }

    /** The ProxyConfiguration the crawler gets: its `newUrlFunction` is where each attempt acquires its session. */
    proxyConfiguration(acquireOptions?: (request: Request) => AcquireOptions): ProxyConfiguration {
        return new ProxyConfiguration({
            newUrlFunction: async (_sessionId, options) => {
                // Crawlee also asks without a request (a browser launched for a page without a proxy): no proxy then.
                const request = options?.request;
                if (!request) return null;
                const session = await this.begin(request, acquireOptions?.(request));
                return session.identity.proxy?.url ?? null;
            },
        });
    }

    /** Acquires the session for a new attempt of `request`, or fails it with the reason the crawl stopped. */
    async begin(request: Request, options?: AcquireOptions): Promise<ManagedSession> {
        if (this.stopReason) throw new SessionsUnavailableError(this.stopReason);
        const tracker = await this.attempts();
        try {
            // The session itself (the same object across attempts): adapters key pages and contexts by it.
            return (await tracker.begin(request, options)).real;
        } catch (error) {
            if ((error as { stopsCrawl?: boolean }).stopsCrawl) this.stop((error as Error).message);
            if (this.stopReason) throw new SessionsUnavailableError(this.stopReason);
            throw error;
        }
    }

    /** Latches the stop: from now on every attempt fails at once with the reason, so the queue drains into failedRequestHandler. */
    stop(reason: string) {
        if (this.stopReason) return;
        this.stopReason = reason.replace(/[.\s]+$/, '');
        this.log.error(`Stopping the crawl: ${this.stopReason}. Remaining requests fail with this reason (one line each).`);
    }

    get stopped(): string | undefined {
        return this.stopReason;
    }

    /** The session of the running attempt of `request` (the session itself: the same object across attempts). */
    current(request: Request): ManagedSession | undefined {
        return this.tracker?.current(request)?.real;
    }

    /**
     * Puts the attempt's handle on the session on the context, as `ctx.session` (verdicts on it merge into the
     * attempt), with `ctx.proxyInfo` naming it. Returns the session itself.
     */
    attach(ctx: AnyContext): ManagedSession {
        const handle = this.tracker?.current(ctx.request);
        if (!handle) throw new Error(`sessionpack: no session was acquired for ${ctx.request.url}; is the crawler's proxyConfiguration the one withSessions() set?`);
        ctx.session = handle;
        if (ctx.proxyInfo) ctx.proxyInfo.sessionId = handle.id;
        bindSendRequest(ctx, handle.real);
        this.watch(ctx.crawler);
        return handle.real;
    }

    /** Ends the running attempt of `request` with `outcome` (once; later calls for the same attempt are ignored). */
    async end(request: Request, outcome: Outcome): Promise<void> {
        await this.tracker?.end(request, outcome);
    }

    /** Classifies a response (core classifier + the rule's checks); on a bad outcome ends the attempt and throws so Crawlee rotates. */
    async check(ctx: AnyContext, response: ResponseSnapshot, extras: Record<string, unknown> = {}, options: CheckOptions = {}): Promise<void> {
        const session = this.current(ctx.request);
        if (!session || !this.tracker?.isOpen(ctx.request)) return;
        const manager = await this.manager();
        const headersOnly = options.phase === 'headers';
        let outcome: Outcome;
        try {
            outcome = await manager.evaluate({ session, request: ctx.request, response, ...extras, ...(headersOnly ? { checks: false } : {}) });
        } catch (error) {
            await this.end(ctx.request, { type: 'check-failed', reason: (error as Error).message });
            if ((error as { stopsCrawl?: boolean }).stopsCrawl) {
                this.stop((error as Error).message);
                throw new SessionsUnavailableError(this.stopReason!);
            }
            throw error;
        }
        if (outcome.type === 'target-error') {
            const accepted = response.statusCode !== undefined && options.acceptedStatusCodes?.has(response.statusCode);
            // The crawler fails a 5xx itself after the headers (the error handler reports it); an accepted one is ok.
            if (headersOnly || accepted) return;
            await this.end(ctx.request, outcome);
            throw new TargetError(outcome);
        }
        if (outcome.type === 'ok') return;
        await this.end(ctx.request, outcome);
        throw new BadSessionError(outcome, session);
    }

    /** Wraps the user's requestHandler: its success or failure ends the attempt. */
    wrapRequestHandler<C extends AnyContext>(handler: (ctx: C) => unknown, before?: (ctx: C) => Promise<void>) {
        return async (ctx: C) => {
            this.watch(ctx.crawler);
            if (before) await before(ctx);
            try {
                await handler(ctx);
            } catch (error) {
                // Ended by the error handler wrapper (which Crawlee calls next), so the user's errorHandler can still
                // retire the attempt's session; a thrown non-object cannot be recognised there: end it now.
                if (typeof error === 'object' && error !== null) this.handlerErrors.add(error);
                else await this.end(ctx.request, { type: 'handler-error', reason: String(error) });
                throw error;
            }
            await this.end(ctx.request, { type: 'ok' });
        };
    }

    /**
     * Wraps errorHandler / failedRequestHandler: an attempt that failed before we saw a usable response
     * (proxy refused, tunnel error, timeout, a response Crawlee rejected) is classified from its error here.
     */
    wrapErrorHandler<C extends AnyContext>(handler: Handler<C> | undefined) {
        return async (ctx: C, error: Error) => {
            this.watch(ctx.crawler);
            if (error instanceof SessionsUnavailableError) this.stoppedFailures++;
            // The user's handler runs while the attempt is still open: its `ctx.session.retire()` / `markBad()` count.
            try {
                if (handler) await handler(ctx, error);
            } finally {
                await this.endFromError(ctx, error);
            }
        };
    }

    private async endFromError(ctx: AnyContext, error: Error) {
        if (error instanceof BadSessionError || error instanceof SessionsUnavailableError || error instanceof TargetError) return;
        if (this.handlerErrors.has(error)) {
            await this.end(ctx.request, { type: 'handler-error', reason: error.message });
            return;
        }
        const session = this.current(ctx.request);
        if (!session) return;
        const response = (ctx as { response?: { statusCode?: number; status?: () => number; headers?: unknown } }).response;
        const statusCode = response?.statusCode ?? (typeof response?.status === 'function' ? response.status() : undefined);
        const snapshot: ResponseSnapshot = { error, statusCode, headers: response?.headers as ResponseSnapshot['headers'] };
        let outcome: Outcome;
        try {
            outcome = await (await this.manager()).evaluate({ session, request: ctx.request, response: snapshot });
        } catch (checkError) {
            outcome = { type: 'check-failed', reason: (checkError as Error).message };
        }
        // A response that classified as fine but still failed (e.g. a content type Crawlee refuses) is not the session's fault.
        await this.end(ctx.request, outcome.type === 'ok' ? { type: 'target-error', reason: error.message } : outcome);
    }
}

type SendRequestOverrides = Record<string, unknown> & { url?: string | URL; headers?: Record<string, string>; hooks?: Record<string, unknown[]> };
type CrawleeSendRequest = (overrides?: SendRequestOverrides) => Promise<{ headers: Record<string, unknown>; url: string }>;

/**
 * Every hop's `Set-Cookie` into the session, and the session's cookies onto the next hop: a got `beforeRedirect` hook
 * (Crawlee's own redirect handling does this only with its session pool on).
 */
export function redirectCookies(session: ManagedSession) {
    return (options: { url?: URL | string; headers: Record<string, unknown> }, response: { headers: Record<string, unknown>; url: string }) => {
        session.setCookiesFromResponse(response as never);
        const next = options.url ? String(options.url) : undefined;
        const cookie = next ? session.getCookieString(next) : '';
        if (cookie) options.headers.cookie = cookie;
        else delete options.headers.cookie;
    };
}

/**
 * Makes `ctx.sendRequest()` go out as the session: through its proxy, with its header set and user agent (no generated
 * headers), its cookies (every hop's, redirects included) and the response's cookies kept in the session.
 */
function bindSendRequest(ctx: AnyContext, session: ManagedSession): void {
    const original = (ctx as { sendRequest?: CrawleeSendRequest }).sendRequest;
    if (typeof original !== 'function' || (original as { sessionpack?: boolean }).sessionpack) return;
    const bound = async (overrides: SendRequestOverrides = {}) => {
        const url = String(overrides.url ?? ctx.request.url);
        const cookie = session.getCookieString(url);
        const response = await original({
            proxyUrl: session.identity.proxy?.url,
            useHeaderGenerator: false,
            ...overrides,
            headers: { ...session.identity.headers, ...(cookie ? { cookie } : {}), ...ctx.request.headers, ...overrides.headers },
            hooks: { ...overrides.hooks, beforeRedirect: [redirectCookies(session), ...(overrides.hooks?.beforeRedirect ?? [])] },
        });
        session.setCookiesFromResponse(response as never);
        return response;
    };
    Object.defineProperty(bound, 'sessionpack', { value: true });
    (ctx as { sendRequest?: unknown }).sendRequest = bound;
}
