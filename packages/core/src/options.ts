/**
 * Options of `SessionManager.open()`, their defaults, and their validation with `ow` (every option is checked at open
 * time; a wrong one fails with a message naming it and the expected shape).
 */
import type { Configuration, Log, ProxyConfiguration } from '@crawlee/core';
import type { HeaderGeneratorOptions } from 'header-generator';
import ow from 'ow';

import type { ClassifierOptions } from './classifier.js';
import type { Clock } from './clock.js';
import { IdentityFactory } from './identity.js';
import { redactText } from './redact.js';
import { POLICY_NAMES, type PolicyName } from './policies.js';
import type { DecayingBackoffOptions } from './learner/backoff.js';
import type { LearnerOptions } from './learner/learner.js';
import { learnerShape } from './learner/options.js';
import type { HookExtras, Rule } from './rules.js';
import type { SessionStore } from './store.js';
import { crawlReportOptionsShape, type CrawlReportOptions } from './crawl-report.js';

/** Proxy backoff settings (`proxyBackoff` option): the schedule of the learner's decaying backoffs and bans. */
export interface ProxyBackoffOptions {
    /** First backoff of a proxy blamed for a block or failing, in milliseconds (raised to a site's learned recovery time). @default 5000 */
    baseMillis?: number;
    /** Cap of a backoff before the ban level, in milliseconds. @default 600000 (10 minutes) */
    maxMillis?: number;
    /** Random spread of each backoff, as a fraction: 0.2 means ±20 %. @default 0.2 */
    jitter?: number;
    /**
     * Accepted for compatibility and ignored: blame decides now (a block on a fresh session backs its proxy off at
     * once; see DESIGN.md). @default 3
     */
    blockedInRow?: number;
    /**
     * Backoffs in a row (without a success) after which the proxy counts as banned on the site: re-probed after 30 min,
     * doubling up to 6 h. A failed probe of a proxy that never served the site counts three. @default 5
     */
    banAfterBackoffs?: number;
    /** Consecutive target errors of one proxy on one site that count as one failure for that site. @default 5 */
    targetErrorsInRow?: number;
}

/** Size and limits of one pool (`pool` for the defaults, `pools[key]` per pool key). */
export interface PoolOptions {
    /**
     * Most live sessions the pool keeps: a ceiling. Sessions are created as demand needs them (every usable one busy,
     * cooling or paced, and a usable proxy without one), never to pre-fill. With a dynamic ProxyConfiguration (a
     * gateway) fewer, down to half, while burns that hit several session ids at once say they crowd its exits (see
     * draw-guard.ts). @default 100 with fixed proxies, 20 with a dynamic ProxyConfiguration
     */
    size?: number;
    /** A session is retired this many seconds after it was created. @default 3000 */
    maxAgeSecs?: number;
    /** A session is retired after this many uses. @default 50 */
    maxUses?: number;
    /** A session is retired when its error score (target errors +1, ok −`errorScoreDecrement`) reaches this. @default 3 */
    maxErrorScore?: number;
    /** How much an ok use lowers the error score. @default 0.5 */
    errorScoreDecrement?: number;
    /** Minimum pause between two uses of one session, in milliseconds. @default 0 */
    minDelayBetweenUsesMillis?: number;
    /** Random extra pause added to `minDelayBetweenUsesMillis` (uniform in [0, jitter]), in milliseconds. @default 0 */
    delayJitterMillis?: number;
    /** How many uses of one session may be open at once. @default 1 */
    maxConcurrentUses?: number;
    /** How long `acquire()` waits for a usable session before failing. @default 30 */
    acquireTimeoutSecs?: number;
    /** This many failed `init`s in a row in one pool stop the crawl with an `InitFailedError`. @default 8 */
    maxInitFailuresInRow?: number;
    /** Cool-down of a rate-limited session when the response gave no Retry-After, in milliseconds. @default 10000 */
    rateLimitCooldownMillis?: number;
    /** Cap of any rate-limit cool-down (Retry-After included), in milliseconds. @default 600000 */
    maxRateLimitCooldownMillis?: number;
    /** How the pool picks sessions and proxies. @default the manager's `policy` ('scored') */
    policy?: PolicyName;
    /** Chance that the scored policy also picks at random (its Thompson draws already explore). @default 0 */
    explorationRate?: number;
}

export type ResolvedPoolOptions = Required<PoolOptions>;

/** Default ceiling of a pool whose sessions get their URLs from a dynamic ProxyConfiguration (a gateway). */
export const DEFAULT_DYNAMIC_POOL_SIZE = 20;

export const DEFAULT_POOL_OPTIONS: ResolvedPoolOptions = {
    size: 100,
    maxAgeSecs: 3000,
    maxUses: 50,
    maxErrorScore: 3,
    errorScoreDecrement: 0.5,
    minDelayBetweenUsesMillis: 0,
    delayJitterMillis: 0,
    maxConcurrentUses: 1,
    acquireTimeoutSecs: 30,
    maxInitFailuresInRow: 8,
    rateLimitCooldownMillis: 10_000,
    maxRateLimitCooldownMillis: 600_000,
    policy: 'scored',
    explorationRate: 0,
};

/** Where state is kept between runs (`store` option). */
export interface StoreOptions {
    /**
     * Name of the Crawlee KeyValueStore. A named store, because Crawlee purges the *default* store whenever a crawler
     * starts (`purgeOnStart`): there, sessions and proxy health would not outlive the run. @default 'sessionpack'
     */
    keyValueStoreName?: string;
    /** Record key of the state. @default 'SESSIONPACK_STATE' */
    key?: string;
    /** Record key of the final stats, written on `close()`. @default 'SESSIONPACK_STATS' */
    statsKey?: string;
    /** Write the state on Crawlee's `persistState` event. @default true */
    persistOnEvent?: boolean;
    /** Restore the state on `open()`. @default true */
    restore?: boolean;
    /** A store of your own (e.g. Redis-backed) instead of the KeyValueStore. */
    custom?: SessionStore;
}

/**
 * Options of `SessionManager.open()`. `X` types the rules' hooks for one crawler (each adapter's `withSessions()` sets
 * it: `page` in browser crawlers, `$` in Cheerio); a manager opened by hand has hooks with the base state only.
 */
export interface SessionManagerOptions<X extends HookExtras = {}> {
    /** Proxy URLs (`null` = a direct connection). Mutually exclusive with `proxyConfiguration`. @default none (direct) */
    proxyUrls?: (string | null)[];
    /**
     * A Crawlee ProxyConfiguration: its `proxyUrls`; its `tieredProxyUrls` (each site uses the cheapest tier that works
     * there, see `learner.tiers`); or its `newUrl()` per session. Mutually exclusive with `proxyUrls`. @default none
     */
    proxyConfiguration?: ProxyConfiguration;
    /** Size and limits of every pool. @default see {@link PoolOptions} */
    pool?: PoolOptions;
    /** Per-pool-key overrides of `pool`, e.g. `{ 'shop.example': { size: 5 } }`. @default {} */
    pools?: Record<string, PoolOptions>;
    /** Per-URL rules (pool, size, init/check/prepare hooks). @default [] */
    rules?: Rule<X>[];
    /** How pools pick sessions and proxies. @default 'scored' */
    policy?: PolicyName;
    /** Proxy backoff and ban settings. @default see {@link ProxyBackoffOptions} */
    proxyBackoff?: ProxyBackoffOptions;
    /** What the learner learns and how fast it forgets (health, blame, site-wide blocks, pace, cap, tiers). @default see {@link LearnerOptions} */
    learner?: LearnerOptions;
    /** Where state lives between runs; `false` keeps it in memory only. @default the default KeyValueStore */
    store?: StoreOptions | false;
    /** Seconds between one-line stats summaries in the log; 0 turns them off. @default 60 */
    statsIntervalSecs?: number;
    /** `header-generator` options for session identities. @default desktop Chrome/Firefox/Safari/Edge, en-US */
    headerGeneratorOptions?: Partial<HeaderGeneratorOptions>;
    /** How many distinct header sets are generated and shared among sessions. @default 64 */
    identityVariants?: number;
    /** Classifier settings (blocked status codes, extra markers...). @default see {@link ClassifierOptions} */
    classifier?: Omit<ClassifierOptions, 'usingProxy' | 'proxyUrl' | 'now'>;
    /** Crawlee configuration (KeyValueStore and the persist-state events). @default Configuration.getGlobalConfig() */
    config?: Configuration;
    /** Time source; tests pass a `ManualClock`. @default the system clock */
    clock?: Clock;
    /** Random source in [0, 1) (seed it for reproducible runs). @default Math.random */
    random?: () => number;
    /** Log to write to (a child with prefix 'SessionManager' is used). @default Crawlee's log */
    log?: Log;
    /**
     * The crawl report (HTML, written to the key-value store on `close()`), see {@link CrawlReportOptions}; `false`
     * records nothing for it and writes none. @default { key: 'SESSIONPACK_REPORT', dataKey: 'SESSIONPACK_REPORT_DATA' } in the default store
     */
    report?: CrawlReportOptions | false;
}

const nonNegative = ow.optional.number.finite.greaterThanOrEqual(0);
const positiveInt = ow.optional.number.integer.positive;

const poolShape = {
    size: positiveInt,
    maxAgeSecs: ow.optional.number.positive,
    maxUses: positiveInt,
    maxErrorScore: ow.optional.number.positive,
    errorScoreDecrement: nonNegative,
    minDelayBetweenUsesMillis: nonNegative,
    delayJitterMillis: nonNegative,
    maxConcurrentUses: positiveInt,
    acquireTimeoutSecs: nonNegative,
    maxInitFailuresInRow: positiveInt,
    rateLimitCooldownMillis: nonNegative,
    maxRateLimitCooldownMillis: nonNegative,
    policy: ow.optional.string.oneOf([...POLICY_NAMES]),
    explorationRate: ow.optional.number.inRange(0, 1),
};

const urlPattern = ow.any(ow.string.nonEmpty, ow.regExp, ow.function);
const hooks = ow.optional.any(ow.function, ow.array.ofType(ow.function));

const ruleShape = ow.object.exactShape({
    match: ow.any(urlPattern, ow.array.nonEmpty.ofType(urlPattern)),
    exclude: ow.optional.any(urlPattern, ow.array.ofType(urlPattern)),
    priority: ow.optional.number.finite,
    enabled: ow.optional.boolean,
    pool: ow.optional.any(ow.string.nonEmpty, ow.function),
    size: positiveInt,
    init: hooks,
    check: hooks,
    prepare: hooks,
});

/** A glob matches the whole URL: it starts with a scheme (`https://`) or with a wildcard (`**`, `{http,https}://`...). */
const GLOB_START = /^([a-z][a-z0-9+.-]*:\/\/|[*?[{!(])/i;

/** Each rule on its own, so an error names the rule's index; a glob without a scheme would never match. */
function validateRules(rules: readonly unknown[]): void {
    rules.forEach((rule, i) => {
        const label = `rules[${i}]`;
        try {
            ow(rule, label, ruleShape);
        } catch (error) {
            throw new TypeError(`SessionManager options: \`${label}\`: ${tidyOwMessage((error as Error).message, label)}`);
        }
        const { match, exclude } = rule as { match: unknown; exclude?: unknown };
        for (const [field, value] of [['match', match], ['exclude', exclude]] as const) {
            const patterns = Array.isArray(value) ? value : value === undefined ? [] : [value];
            patterns.forEach((pattern, j) => {
                if (typeof pattern !== 'string' || GLOB_START.test(pattern)) return;
                const where = Array.isArray(value) ? `${label}.${field}[${j}]` : `${label}.${field}`;
                throw new TypeError(
                    `SessionManager options: \`${where}\` is '${pattern}', which never matches: a glob matches the whole URL, ` +
                        `scheme included. Write 'http://${pattern}' (or 'https://...', or '**/${pattern}').`,
                );
            });
        }
    });
}

/** ow's nested messages repeat words ("property property") and name the object twice: one plain sentence instead. */
function tidyOwMessage(message: string, label: string): string {
    return redactText(message)
        .replace(/\b(property )+/g, 'property ')
        .replace(/\((array|object) `[^`]*`\) /g, '')
        .replace(new RegExp(` in object \`${label.replace(/[[\]]/g, '\\$&')}\``, 'g'), '')
        .trim();
}

const markerShape = ow.object.partialShape({
    name: ow.string.nonEmpty,
    title: ow.optional.regExp,
    body: ow.optional.regExp,
    url: ow.optional.regExp,
    header: ow.optional.object.exactShape({ name: ow.string.nonEmpty, value: ow.regExp }),
    strength: ow.optional.string.oneOf(['strong', 'weak']),
    outcome: ow.optional.string.oneOf(['blocked', 'rate-limited']),
});

const statusCodes = ow.optional.array.ofType(ow.number.integer.inRange(100, 599));

const optionsShape = ow.object.exactShape({
    proxyUrls: ow.optional.array.ofType(ow.any(ow.string.url, ow.null)),
    proxyConfiguration: ow.optional.object.validate((pc: object) => ({
        validator: typeof (pc as { newUrl?: unknown }).newUrl === 'function',
        message: (label: string) => `Expected ${label} to be a Crawlee ProxyConfiguration (an object with newUrl())`,
    })),
    pool: ow.optional.object.exactShape(poolShape),
    pools: ow.optional.object.valuesOfType(ow.object.exactShape(poolShape)),
    // Each rule is checked by validateRules() (messages name the rule's index).
    rules: ow.optional.array,
    policy: ow.optional.string.oneOf([...POLICY_NAMES]),
    proxyBackoff: ow.optional.object.exactShape({
        baseMillis: ow.optional.number.positive,
        maxMillis: ow.optional.number.positive,
        jitter: ow.optional.number.inRange(0, 1),
        blockedInRow: positiveInt,
        banAfterBackoffs: positiveInt,
        targetErrorsInRow: positiveInt,
    }),
    learner: learnerShape,
    store: ow.optional.any(
        ow.boolean.false,
        ow.object.exactShape({
            keyValueStoreName: ow.optional.string.nonEmpty,
            key: ow.optional.string.nonEmpty,
            statsKey: ow.optional.string.nonEmpty,
            persistOnEvent: ow.optional.boolean,
            restore: ow.optional.boolean,
            custom: ow.optional.object.partialShape({ load: ow.function, save: ow.function }),
        }),
    ),
    statsIntervalSecs: nonNegative,
    headerGeneratorOptions: ow.optional.object,
    identityVariants: positiveInt,
    classifier: ow.optional.object.exactShape({
        blockedStatusCodes: statusCodes,
        rateLimitStatusCodes: statusCodes,
        markers: ow.optional.array.ofType(markerShape),
        disableMarkers: ow.optional.array.ofType(ow.string),
        maxBodyChars: positiveInt,
        smallPageChars: nonNegative,
        maxRetryAfterMillis: nonNegative,
    }),
    config: ow.optional.object,
    clock: ow.optional.object.partialShape({ now: ow.function, setTimeout: ow.function, clearTimeout: ow.function }),
    random: ow.optional.function,
    log: ow.optional.object,
    report: crawlReportOptionsShape,
});

/** Validates `options` (throws ow's ArgumentError naming the option) and checks cross-option constraints. */
export function validateOptions(options: SessionManagerOptions): void {
    // Checked before ow, whose messages quote the value: a malformed proxy URL may still hold a password.
    if (Array.isArray(options?.proxyUrls)) {
        options.proxyUrls.forEach((url, i) => {
            if (url === null) return;
            let ok = typeof url === 'string';
            if (ok) {
                try {
                    const u = new URL(url);
                    ok = /^(https?|socks[45]?h?):$/.test(u.protocol) && u.hostname.length > 0;
                } catch {
                    ok = false;
                }
            }
            if (!ok) {
                throw new TypeError(
                    `SessionManager options: \`proxyUrls[${i}]\` must be a proxy URL like http://user:pass@host:port or null ` +
                        '(value not shown: it may hold credentials).',
                );
            }
        });
    }
    try {
        ow(options, 'SessionManager options', optionsShape);
    } catch (error) {
        if (error instanceof Error) error.message = redactText(error.message);
        throw error;
    }
    if (Array.isArray(options.proxyUrls) && options.proxyUrls.length === 0) {
        throw new TypeError(
            'SessionManager options: `proxyUrls` is empty: give at least one proxy URL (or `null` for a direct connection), or leave the option out to connect directly.',
        );
    }
    if (options.rules) validateRules(options.rules);
    if (options.headerGeneratorOptions) {
        try {
            new IdentityFactory({ headerGeneratorOptions: options.headerGeneratorOptions }).validate();
        } catch (error) {
            throw new TypeError(
                `SessionManager options: \`headerGeneratorOptions\` was rejected by header-generator: ${redactText(String((error as Error)?.message ?? error))}`,
            );
        }
    }
    if (options.proxyUrls && options.proxyConfiguration) {
        const tiered = (options.proxyConfiguration as unknown as { tieredProxyUrls?: unknown[] }).tieredProxyUrls?.length ? ' (a tiered one: its `tieredProxyUrls` are the proxies)' : '';
        throw new TypeError(`SessionManager options: give either \`proxyUrls\` or \`proxyConfiguration\`${tiered}, not both.`);
    }
    const t = options.learner?.tiers;
    if (t?.probeLowerAfterMillis !== undefined && t.maxProbeLowerAfterMillis !== undefined && t.maxProbeLowerAfterMillis < t.probeLowerAfterMillis) {
        throw new TypeError('SessionManager options: `learner.tiers.maxProbeLowerAfterMillis` must be at least `learner.tiers.probeLowerAfterMillis`.');
    }
    const b = options.proxyBackoff;
    if (b?.baseMillis !== undefined && b.maxMillis !== undefined && b.maxMillis < b.baseMillis) {
        throw new TypeError('SessionManager options: `proxyBackoff.maxMillis` must be at least `proxyBackoff.baseMillis`.');
    }
}

/** Pool options for one key: defaults ← `pool` ← the rule's `size` ← `pools[key]`. */
export function resolvePoolOptions(
    options: SessionManagerOptions,
    key: string,
    ruleSize?: number,
): ResolvedPoolOptions {
    const dynamic = !options.proxyUrls && options.proxyConfiguration !== undefined && !hasFixedUrls(options.proxyConfiguration);
    return {
        ...DEFAULT_POOL_OPTIONS,
        ...(dynamic ? { size: DEFAULT_DYNAMIC_POOL_SIZE } : {}),
        ...(options.policy ? { policy: options.policy } : {}),
        ...stripUndefined(options.pool ?? {}),
        ...(ruleSize !== undefined ? { size: ruleSize } : {}),
        ...stripUndefined(options.pools?.[key] ?? {}),
    };
}

function hasFixedUrls(pc: ProxyConfiguration): boolean {
    const inner = pc as unknown as { proxyUrls?: unknown[]; tieredProxyUrls?: unknown[] };
    return Boolean(inner.proxyUrls?.length || inner.tieredProxyUrls?.length);
}

/** The learner's options with `proxyBackoff` as its backoff schedule (the `learner.backoff` keys win). */
export function resolveLearner(options: SessionManagerOptions): LearnerOptions {
    const { blockedInRow: _ignored, targetErrorsInRow, ...schedule } = stripUndefined(options.proxyBackoff ?? {});
    const backoff: DecayingBackoffOptions = { ...schedule, ...stripUndefined(options.learner?.backoff ?? {}) };
    return {
        ...options.learner,
        backoff,
        ...(options.learner?.targetErrorsInRow === undefined && targetErrorsInRow !== undefined ? { targetErrorsInRow } : {}),
    };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
    const out: Partial<T> = {};
    for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
    return out;
}
