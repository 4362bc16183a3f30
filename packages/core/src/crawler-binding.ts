import { type CrawlingContext, log as crawleeLog, ProxyConfiguration, type Request } from '@crawlee/core';
import { AttemptTracker } from './attempts.js';
import { BadSessionError, SessionsUnavailableError } from './errors.js';
import type { AcquireOptions } from './init.js';
import { SessionManager } from './manager.js';
import { type SessionManagerOptions, validateOptions } from './options.js';
import type { ManagedSession } from './session.js';
import type { Outcome, ResponseSnapshot } from './types.js';

type AnyContext = CrawlingContext & { session?: ManagedSession | undefined };
type Handler<C> = (ctx: C, error: Error) => unknown;

/**
 * What every adapter needs to put a {@link SessionManager} between a Crawlee crawler and its requests:
 * a ProxyConfiguration that acquires a session per attempt, and the bookkeeping that ends each attempt
 * exactly once (bad response, handler success or failure, or an error before any response).
 */
export class CrawlerBinding {
    private managerPromise?: Promise<SessionManager>;
    private tracker?: AttemptTracker;
    private stopReason?: string;
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
            return await tracker.begin(request, options);
        } catch (error) {
            if ((error as { stopsCrawl?: boolean }).stopsCrawl) this.stop((error as Error).message);
            if (this.stopReason) throw new SessionsUnavailableError(this.stopReason);
            throw error;
        }
    }

    /** Latches the stop: from now on every attempt fails at once with the reason, so the queue drains into failedRequestHandler. */
    stop(reason: string) {
        if (this.stopReason) return;
        this.stopReason = reason;
        this.log.error(`Stopping the crawl: ${reason.replace(/\.+$/, '')}. Remaining requests fail with this reason.`);
    }

    get stopped(): string | undefined {
        return this.stopReason;
    }

    /** The session of the running attempt of `request`. */
    current(request: Request): ManagedSession | undefined {
        return this.tracker?.current(request);
    }

    /** Puts the attempt's session on the context, as `ctx.session`, with `ctx.proxyInfo` naming it. */
    attach(ctx: AnyContext): ManagedSession {
        const session = this.current(ctx.request);
        if (!session) throw new Error(`sessionpack: no session was acquired for ${ctx.request.url}; is the crawler's proxyConfiguration the one withSessions() set?`);
        ctx.session = session;
        if (ctx.proxyInfo) ctx.proxyInfo.sessionId = session.id;
        return session;
    }

    /** Ends the running attempt of `request` with `outcome` (once; later calls for the same attempt are ignored). */
    async end(request: Request, outcome: Outcome): Promise<void> {
        await this.tracker?.end(request, outcome);
    }

    /** Classifies a response (core classifier + the rule's checks); on a bad outcome ends the attempt and throws so Crawlee rotates. */
    async check(ctx: AnyContext, response: ResponseSnapshot, extras: Record<string, unknown> = {}): Promise<void> {
        const session = this.current(ctx.request);
        if (!session) return;
        const manager = await this.manager();
        let outcome: Outcome;
        try {
            outcome = await manager.evaluate({ session, request: ctx.request, response, ...extras });
        } catch (error) {
            await this.end(ctx.request, { type: 'check-failed', reason: (error as Error).message });
            if ((error as { stopsCrawl?: boolean }).stopsCrawl) {
                this.stop((error as Error).message);
                throw new SessionsUnavailableError(this.stopReason!);
            }
            throw error;
        }
        if (outcome.type === 'ok') return;
        await this.end(ctx.request, outcome);
        throw new BadSessionError(outcome, session);
    }

    /** Wraps the user's requestHandler: its success or failure ends the attempt. */
    wrapRequestHandler<C extends AnyContext>(handler: (ctx: C) => unknown, before?: (ctx: C) => Promise<void>) {
        return async (ctx: C) => {
            if (before) await before(ctx);
            try {
                await handler(ctx);
            } catch (error) {
                await this.end(ctx.request, { type: 'handler-error', reason: (error as Error)?.message });
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
            await this.endFromError(ctx, error);
            if (handler) await handler(ctx, error);
        };
    }

    private async endFromError(ctx: AnyContext, error: Error) {
        if (error instanceof BadSessionError || error instanceof SessionsUnavailableError) return;
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
