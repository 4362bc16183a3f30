/**
 * Init: creating a session for a pool and running its rule's `init` hooks before the session's first use. Every
 * response an init sees is classified like any other use: a block, rate limit or proxy failure during init is the
 * proxy's fault on this site (and fails the init) and does not count toward `maxInitFailuresInRow`.
 */
import type { Log } from '@crawlee/core';

import { classify, type ClassifierOptions } from './classifier.js';
import { CrawlAbortError, InitFailedError, isCrawlStoppingError } from './errors.js';
import type { OutcomeEffect } from './health-model.js';
import type { Pool } from './pool.js';
import type { Redactor } from './redact.js';
import type { CompiledRule } from './rules.js';
import { createSendRequest } from './send-request.js';
import type { ManagedSession } from './session.js';
import type { Outcome, RequestLike, ResponseSnapshot, SendRequest } from './types.js';

/** Options of one `acquire()`. */
export interface AcquireOptions {
    /**
     * Extra properties for the state of the rule's `init` hooks when this acquire creates a session (e.g. a way to
     * drive a browser page). A `sendRequest` here replaces the default one (`createSendRequest`).
     */
    initTools?: Record<string, unknown> | ((session: ManagedSession, helpers: InitToolHelpers) => Record<string, unknown>);
}

/** What an `initTools` function gets besides the session, for tools that see responses outside `sendRequest`. */
export interface InitToolHelpers {
    /**
     * Classifies a response an init tool saw (e.g. a browser page's navigation) with the manager's classifier. A block,
     * rate limit or proxy failure fails the init as the proxy's fault, exactly like one seen through `sendRequest`.
     */
    classify(response: ResponseSnapshot): Outcome;
}

/** What an init needs from the manager. */
export interface InitDeps {
    classifier: Omit<ClassifierOptions, 'usingProxy' | 'proxyUrl' | 'now'> | undefined;
    redactor: Redactor;
    log: Log;
    now(): number;
    count(pool: string, counter: 'init/passed' | 'init/failed'): void;
    recordHealth(proxyId: string, pool: string, effect: OutcomeEffect, rateLimitMillis?: number): void;
    retire(session: ManagedSession, reason: string): void;
}

/** How an init ended when it did not give a usable session. */
export type InitFailure = 'init-failed' | 'init-proxy-failed';

/**
 * Runs the rule's init hooks on a freshly created session that is already handed out (one open use). Returns the
 * session when it passed (or needed no init), or why not; throws when the crawl must stop.
 */
export async function runInit(
    session: ManagedSession,
    pool: Pool,
    proxyId: string,
    request: RequestLike,
    rule: CompiledRule | undefined,
    options: AcquireOptions,
    deps: InitDeps,
): Promise<ManagedSession | InitFailure> {
    const hooks = rule?.init ?? [];
    if (hooks.length === 0) {
        session.initialized = true;
        return session;
    }
    const proxy = session.identity.proxy;
    session.initializing = true;
    let initBlock: Outcome | undefined;
    const send = createSendRequest(session);
    const classifyInit = (response: ResponseSnapshot): Outcome => {
        const verdict = classify(response, { ...deps.classifier, usingProxy: Boolean(proxy), proxyUrl: proxy?.url, now: deps.now() });
        if (verdict.type === 'blocked' || verdict.type === 'rate-limited' || verdict.type === 'proxy-failure') initBlock ??= verdict;
        return verdict;
    };
    const classifyingSend: SendRequest = async (input) => {
        const response = await send(input);
        classifyInit(response);
        return response;
    };
    try {
        const state = {
            sendRequest: classifyingSend,
            ...(typeof options.initTools === 'function' ? options.initTools(session, { classify: classifyInit }) : options.initTools),
            session,
            request,
            log: deps.log,
            pool: pool.key,
        };
        for (const hook of hooks) await hook(state);
        if (initBlock) throw new Error(`init got ${initBlock.type}: ${initBlock.reason ?? 'no reason given'}`);
        session.initializing = false;
        session.initialized = true;
        pool.initFailuresInRow = 0;
        deps.count(pool.key, 'init/passed');
        pool.notify();
        return session;
    } catch (error) {
        session.initializing = false;
        session.inUse = Math.max(0, session.inUse - 1);
        deps.count(pool.key, 'init/failed');
        const message = deps.redactor.error(error);
        if (error instanceof CrawlAbortError || isCrawlStoppingError(error)) {
            deps.recordHealth(proxyId, pool.key, 'neutral');
            deps.retire(session, `init aborted: ${message}`);
            throw error;
        }
        const verdict = initBlock ?? classify({ error }, { usingProxy: Boolean(proxy), proxyUrl: proxy?.url });
        const effect: OutcomeEffect =
            verdict.type === 'proxy-failure' ? 'proxy-failure' : verdict.type === 'blocked' ? 'blocked' : verdict.type === 'rate-limited' ? 'rate-limited' : 'neutral';
        deps.recordHealth(proxyId, pool.key, effect, verdict.retryAfterMillis ?? 0);
        deps.retire(session, `init failed: ${message}`);
        if (!pool.initFailureExplained) {
            // Once per pool at info level (every later failure at debug): the first thing to read when inits fail.
            pool.initFailureExplained = true;
            deps.log.info(
                `An init of a session in pool "${pool.key}" failed (${effect === 'neutral' ? 'counted toward maxInitFailuresInRow' : `blamed on the proxy: ${effect}`}): ${message}`,
            );
        } else deps.log.debug(`Init of a session in pool "${pool.key}" failed: ${message}`);
        if (effect === 'neutral') {
            pool.initFailuresInRow++;
            if (pool.initFailuresInRow >= pool.options.maxInitFailuresInRow) {
                pool.initAbort = new InitFailedError(pool.key, pool.initFailuresInRow, message, { cause: error });
                deps.log.error(pool.initAbort.message);
                pool.notify();
                throw pool.initAbort;
            }
        }
        return effect === 'neutral' ? 'init-failed' : 'init-proxy-failed';
    }
}
