/**
 * Hooks: running a rule's `check` hooks on a response (after the classifier) and its `prepare` hooks on an outgoing
 * request, and normalising what a check returns into an {@link Outcome}.
 */
import type { Log } from '@crawlee/core';

import { classify, type ClassifierOptions } from './classifier.js';
import { CrawlAbortError, isCrawlStoppingError } from './errors.js';
import { OUTCOME_TYPES } from './outcomes.js';
import type { Redactor } from './redact.js';
import type { CheckState, CheckVerdict, CompiledRule, PrepareState } from './rules.js';
import { createSendRequest } from './send-request.js';
import type { ManagedSession } from './session.js';
import type { Outcome, RequestLike, ResponseSnapshot } from './types.js';

/** Input of `manager.evaluate()`: the session, the request and what the crawler saw, plus adapter extras (page...). */
export interface EvaluateInput {
    session: ManagedSession;
    request: RequestLike;
    response: ResponseSnapshot;
    /** `false`: classify only, without the rule's `check` hooks (status and headers seen before the body). @default true */
    checks?: boolean;
    [extra: string]: unknown;
}

/** Input of `manager.prepare()`: `headers` is the outgoing header object, edited in place by prepare hooks. */
export interface PrepareInput {
    session: ManagedSession;
    request: RequestLike;
    headers: Record<string, string>;
    [extra: string]: unknown;
}

/** What the hook runners need from the manager. */
export interface HookRunnerDeps {
    classifier: Omit<ClassifierOptions, 'usingProxy' | 'proxyUrl' | 'now'> | undefined;
    redactor: Redactor;
    log: Log;
    now(): number;
}

/** Turns a check's return value into an outcome (`undefined`: keep the classifier's verdict). */
export function verdictToOutcome(verdict: CheckVerdict, base: Outcome, redactor: Redactor): Outcome | undefined {
    if (verdict === 'retire' || verdict === false) {
        return { type: 'check-failed', reason: 'check asked to retire the session', statusCode: base.statusCode };
    }
    if (verdict && typeof verdict === 'object' && OUTCOME_TYPES.includes(verdict.type)) {
        const out = { ...verdict };
        if (out.reason) out.reason = redactor.text(out.reason);
        if (out.statusCode === undefined && base.statusCode !== undefined) out.statusCode = base.statusCode;
        if (out.type !== 'ok') return out;
    }
    return undefined;
}

/**
 * Classifies `input.response` and, when the classifier says ok, runs the rule's `check` hooks.
 *
 * @throws CrawlAbortError when a check called `abort(reason)` (or threw a crawl-stopping error).
 */
export async function evaluateResponse(input: EvaluateInput, rule: CompiledRule | undefined, deps: HookRunnerDeps): Promise<Outcome> {
    const { session: given, request, response, checks, ...extras } = input;
    const session = given.real;
    const proxy = session.identity.proxy;
    const base = classify(response, { ...deps.classifier, usingProxy: Boolean(proxy), proxyUrl: proxy?.url, now: deps.now() });
    if (base.reason) base.reason = deps.redactor.text(base.reason);
    if (base.type !== 'ok' || checks === false) return base;
    const hooks = rule?.check ?? [];
    if (hooks.length === 0) return base;
    const context = { pool: session.poolKey, sessionId: session.id, url: request.url };
    const state: CheckState = {
        sendRequest: createSendRequest(session),
        ...extras,
        session: given,
        request,
        response,
        outcome: base,
        log: deps.log,
        pool: session.poolKey,
        abort: (reason: string): never => {
            throw new CrawlAbortError(deps.redactor.text(reason), context);
        },
    };
    for (const hook of hooks) {
        let verdict: CheckVerdict;
        try {
            verdict = await hook(state);
        } catch (error) {
            if (isCrawlStoppingError(error)) throw error;
            const message = deps.redactor.error(error);
            deps.log.warning(`A check hook threw in pool "${session.poolKey}" (treated as check-failed): ${message}`);
            return { type: 'check-failed', reason: `check threw: ${message}`, statusCode: base.statusCode };
        }
        const out = verdictToOutcome(verdict, base, deps.redactor);
        if (out) return out;
    }
    return base;
}

/** Runs the rule's `prepare` hooks for this request (they edit `input.headers` and the request in place). */
export async function prepareRequest(input: PrepareInput, rule: CompiledRule | undefined, deps: HookRunnerDeps): Promise<void> {
    const { session, request, headers, ...extras } = input;
    const hooks = rule?.prepare ?? [];
    if (hooks.length === 0) return;
    const state: PrepareState = {
        sendRequest: createSendRequest(session.real),
        ...extras,
        session,
        request,
        headers,
        log: deps.log,
        pool: session.poolKey,
    };
    for (const hook of hooks) await hook(state);
}
