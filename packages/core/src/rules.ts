/**
 * Rules: per-URL overrides of pool, pool size and the three hooks (`init`, `check`, `prepare`). The first enabled
 * rule that matches a request wins, highest `priority` first, then list order.
 *
 * Hooks are typed like ky's: each gets one state object and every hook option takes a function or an array of them.
 */
import type { Log } from '@crawlee/core';
import { Minimatch } from 'minimatch';

import type { ManagedSession } from './session.js';
import type { Outcome, RequestLike, ResponseSnapshot, SendRequest } from './types.js';

/**
 * Extra properties adapters put into hook states (e.g. `page` in browser crawlers, `response` objects). Adapters
 * augment this interface (`declare module '@sessionpack/core' { interface HookExtras { page?: Page } }`).
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface HookExtras {}

/** What every hook receives. */
export interface HookState extends HookExtras {
    /** The session being initialized / used. `session.userData` is where init flows keep what they learned. */
    session: ManagedSession;
    /** The request that triggered this (for `init`: the request that asked for the new session). */
    request: RequestLike;
    /** A child log prefixed with the pool key. */
    log: Log;
    /** The pool key. */
    pool: string;
    /** Sends an HTTP request through the session's proxy with its headers and cookie jar (got-scraping). */
    sendRequest: SendRequest;
    /** Adapter-specific extras not declared in {@link HookExtras}. */
    [extra: string]: unknown;
}

/**
 * Warms a new session up before its first use: log in, set a location, fetch a CSRF token into `session.userData`.
 * Throw to fail the init (the session is retired; `maxInitFailuresInRow` failures in a row stop the crawl).
 *
 * ```ts
 * init: async ({ session, sendRequest }) => {
 *     const res = await sendRequest({ url: 'https://shop.example/login', method: 'POST', form: { user, pass } });
 *     if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode}`);
 *     session.userData.csrf = /name="csrf" value="([^"]+)"/.exec(res.body)?.[1];
 * }
 * ```
 */
export type InitHook = (state: HookState) => void | Promise<void>;

/** What a check says: keep the session, retire it (check-failed), or a full outcome of its own. */
export type CheckVerdict = 'keep' | 'retire' | boolean | Outcome | undefined | void;

/** State of a {@link CheckHook}. */
export interface CheckState extends HookState {
    /** What the crawler saw. */
    response: ResponseSnapshot;
    /** The classifier's verdict (checks only run when it is `ok`). */
    outcome: Outcome;
    /** Stops the crawl with this reason (throws a `CrawlAbortError`). */
    abort(reason: string): never;
}

/**
 * Judges a response the classifier found `ok`: return `'keep'` (or `true`/nothing), `'retire'` (or `false`) for a
 * `check-failed` outcome, an {@link Outcome} of your own, or call `abort(reason)` to stop the crawl.
 *
 * ```ts
 * check: ({ response, abort }) => {
 *     if (response.body?.includes('Log in to continue')) return 'retire';
 *     if (response.body?.includes('Account suspended')) abort('the account is suspended');
 * }
 * ```
 */
export type CheckHook = (state: CheckState) => CheckVerdict | Promise<CheckVerdict>;

/** State of a {@link PrepareHook}. */
export interface PrepareState extends HookState {
    /** The outgoing request's headers (lower-case names): edit in place. */
    headers: Record<string, string>;
}

/**
 * Edits the outgoing request from session data before it is sent.
 *
 * ```ts
 * prepare: ({ session, headers }) => { headers['x-csrf-token'] = String(session.userData.csrf); }
 * ```
 */
export type PrepareHook = (state: PrepareState) => void | Promise<void>;

/** A URL pattern: a glob over the whole URL (Crawlee/minimatch syntax, case-insensitive), a RegExp, or a function. */
export type UrlPattern = string | RegExp | ((url: URL, request: RequestLike) => boolean);

/** Per-URL overrides. */
export interface Rule {
    /** Which requests this rule applies to, e.g. `'https://shop.example/**'`, `/\/checkout\//`, `(url) => url.port === '8443'`. */
    match: UrlPattern | UrlPattern[];
    /** Requests that match `match` but should not get this rule. @default none */
    exclude?: UrlPattern | UrlPattern[];
    /** Higher first; equal priorities keep list order. @default 0 */
    priority?: number;
    /** A disabled rule is skipped. @default true */
    enabled?: boolean;
    /**
     * The pool key for matching requests (e.g. `'shop@US'`, an account name), or a function of the request.
     * `request.userData.sessionPool`, when set, still wins. @default the request's hostname
     */
    pool?: string | ((request: RequestLike) => string);
    /** Target size of pools created for matching requests (`pools[key].size` still wins). @default pool.size */
    size?: number;
    /** Runs once on each new session, before its first use. */
    init?: InitHook | InitHook[];
    /** Runs on each response the classifier found ok. */
    check?: CheckHook | CheckHook[];
    /** Runs before each request is sent. */
    prepare?: PrepareHook | PrepareHook[];
}

type CompiledPattern = (url: URL, href: string, request: RequestLike) => boolean;

function compilePattern(p: UrlPattern): CompiledPattern {
    if (typeof p === 'string') {
        const mm = new Minimatch(p, { nocase: true, dot: true });
        return (_url, href) => mm.match(href);
    }
    if (p instanceof RegExp) {
        return (_url, href) => {
            p.lastIndex = 0;
            return p.test(href);
        };
    }
    return (url, _href, request) => Boolean(p(url, request));
}

function toArray<T>(v: T | T[] | undefined): T[] {
    if (v === undefined) return [];
    return Array.isArray(v) ? v : [v];
}

/** A rule with its patterns compiled and hooks normalized to arrays. */
export interface CompiledRule {
    readonly rule: Rule;
    readonly index: number;
    readonly init: InitHook[];
    readonly check: CheckHook[];
    readonly prepare: PrepareHook[];
    matches(url: URL, request: RequestLike): boolean;
}

/** The ordered rule list of one manager. */
export class RuleSet {
    private readonly compiled: CompiledRule[];

    constructor(rules: readonly Rule[] = []) {
        this.compiled = rules
            .map((rule, index) => {
                const match = toArray(rule.match).map(compilePattern);
                const exclude = toArray(rule.exclude).map(compilePattern);
                return {
                    rule,
                    index,
                    init: toArray(rule.init),
                    check: toArray(rule.check),
                    prepare: toArray(rule.prepare),
                    matches(url: URL, request: RequestLike) {
                        const href = url.href;
                        return match.some((m) => m(url, href, request)) && !exclude.some((m) => m(url, href, request));
                    },
                };
            })
            .filter((r) => r.rule.enabled !== false)
            .sort((a, b) => (b.rule.priority ?? 0) - (a.rule.priority ?? 0) || a.index - b.index);
    }

    /** The first matching rule for this request, or undefined. */
    ruleFor(request: RequestLike): CompiledRule | undefined {
        if (this.compiled.length === 0) return undefined;
        let url: URL;
        try {
            url = new URL(request.url);
        } catch {
            return undefined;
        }
        for (const r of this.compiled) if (r.matches(url, request)) return r;
        return undefined;
    }

    get size(): number {
        return this.compiled.length;
    }
}

/**
 * The pool key of a request: `request.userData.sessionPool` if it is a non-empty string, else the rule's `pool`, else
 * the request's hostname (lower-case; `'(invalid-url)'` if the URL does not parse).
 */
export function poolKeyOf(request: RequestLike, rule?: CompiledRule): string {
    const named = request.userData?.sessionPool;
    if (typeof named === 'string' && named.length > 0) return named;
    const p = rule?.rule.pool;
    if (typeof p === 'string' && p.length > 0) return p;
    if (typeof p === 'function') {
        const key = p(request);
        if (typeof key === 'string' && key.length > 0) return key;
    }
    try {
        return new URL(request.url).hostname.toLowerCase() || '(no-host)';
    } catch {
        return '(invalid-url)';
    }
}
