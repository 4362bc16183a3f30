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
 * What an adapter adds to the state of each kind of hook: e.g. `{ init: { newPage(): Promise<Page> }, check: { page:
 * Page }, prepare: { page: Page } }` in browser crawlers, `{ check: { $: CheerioAPI } }` in Cheerio. Each adapter's
 * `withSessions()` takes `SessionManagerOptions<ItsExtras>`, so a rule written inline sees its crawler's tools typed.
 */
export interface HookExtras {
    init?: object;
    check?: object;
    prepare?: object;
}

/** What an adapter adds to the state of `K` hooks (nothing when it adds nothing). */
export type ExtrasOf<X extends HookExtras, K extends keyof HookExtras> = X[K] extends object ? X[K] : {};

/** What every hook receives, besides the adapter's extras. */
export interface BaseHookState {
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
}

/** What every hook receives: the {@link BaseHookState} and the adapter's extras `E` (e.g. `{ page }`). */
export type HookState<E extends object = {}> = BaseHookState & E;

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
export type InitHook<E extends object = {}> = (state: HookState<E>) => void | Promise<void>;

/** What a check says: keep the session, retire it (check-failed), or a full outcome of its own. */
export type CheckVerdict = 'keep' | 'retire' | boolean | Outcome | undefined | void;

/** What a check gets besides the {@link HookState}. */
export interface CheckFields {
    /** What the crawler saw, the body included (a check runs once per response, after the body arrived). */
    response: ResponseSnapshot;
    /** The classifier's verdict (checks only run when it is `ok`). */
    outcome: Outcome;
    /** Stops the crawl with this reason (throws a `CrawlAbortError`). */
    abort(reason: string): never;
}

/** State of a {@link CheckHook}. */
export type CheckState<E extends object = {}> = HookState<E> & CheckFields;

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
export type CheckHook<E extends object = {}> = (state: CheckState<E>) => CheckVerdict | Promise<CheckVerdict>;

/** What a prepare hook gets besides the {@link HookState}. */
export interface PrepareFields {
    /** The outgoing request's headers (lower-case names): edit in place. */
    headers: Record<string, string>;
}

/** State of a {@link PrepareHook}. */
export type PrepareState<E extends object = {}> = HookState<E> & PrepareFields;

/**
 * Edits the outgoing request from session data before it is sent.
 *
 * ```ts
 * prepare: ({ session, headers }) => { headers['x-csrf-token'] = String(session.userData.csrf); }
 * ```
 */
export type PrepareHook<E extends object = {}> = (state: PrepareState<E>) => void | Promise<void>;

/** A URL pattern: a glob over the whole URL (Crawlee/minimatch syntax, case-insensitive), a RegExp, or a function. */
export type UrlPattern = string | RegExp | ((url: URL, request: RequestLike) => boolean);

/** Per-URL overrides. `X` is what the crawler's adapter adds to each hook's state (see {@link HookExtras}). */
export interface Rule<X extends HookExtras = {}> {
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
    init?: InitHook<ExtrasOf<X, 'init'>> | InitHook<ExtrasOf<X, 'init'>>[];
    /** Runs once on each response the classifier found ok, with its body. */
    check?: CheckHook<ExtrasOf<X, 'check'>> | CheckHook<ExtrasOf<X, 'check'>>[];
    /** Runs before each request is sent. */
    prepare?: PrepareHook<ExtrasOf<X, 'prepare'>> | PrepareHook<ExtrasOf<X, 'prepare'>>[];
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
