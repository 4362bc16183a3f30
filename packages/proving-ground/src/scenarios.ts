import type { ProvingGroundOptions } from './options.js';
import { ProvingGroundOptionsError } from './validate.js';

/** A named preset of options, for the demo, benchmarks and the CLI (`--scenario NAME`). */
export interface Scenario {
    /** Name, as used by `--scenario` and `startProvingGround({ scenario: NAME })`. */
    name: string;
    /** One line on what the scenario is for. */
    description: string;
    /** The options it sets; anything given next to `scenario` is merged over them. */
    options: ProvingGroundOptions;
}

/** User agents that real anti-bot products challenge on sight. */
const BOT_USER_AGENTS = ['HeadlessChrome', 'PhantomJS', 'python-requests', 'curl/', 'Wget/', 'Go-http-client', '^node$', 'undici', '^$'];

function scenario(name: string, description: string, options: ProvingGroundOptions): Scenario {
    return Object.freeze({ name, description, options });
}

/**
 * Named presets. `benign` and `realistic` are what the demo and benchmarks use; the others switch on
 * one family of defenses each, for tests that want to see a single behaviour.
 */
export const scenarios = {
    /** No defenses: 10 proxies, 5 categories x 10 products. */
    benign: scenario('benign', 'No defenses: a friendly shop behind 10 honest proxies.', {
        proxies: { count: 10 },
    }),

    /**
     * What a production scrape feels like: 40 proxies in 4 subnets, 60% of them banned (one whole
     * subnet included) and answered with a mix of 403s, soft blocks, challenges and captchas, 4 dead
     * proxies, rate limits per IP and per session, a session cookie to earn first, usage caps,
     * location + CSRF, identity checks, bot user agents challenged, and mild drift. About 1000
     * product pages; the good proxies can serve them in well under a minute.
     */
    realistic: scenario('realistic', 'Production-like: 40 proxies, ~60% banned, dead proxies, rate limits, session cookie, caps, CSRF, identity checks, drift.', {
        proxies: { count: 40, subnetSize: 10, dead: { refuse: 2, tunnelError: 2 } },
        site: {
            categories: 25,
            productsPerCategory: 40,
            bans: { fraction: 0.6, subnets: 1, response: ['forbidden', 'soft-block', 'challenge', 'captcha'] },
            rateLimits: {
                perIp: { requests: 60, windowMs: 10_000, penaltyMs: 5_000 },
                perSession: { requests: 20, windowMs: 5_000, penaltyMs: 3_000 },
            },
            usageCap: 50,
            sessionRequired: true,
            csrf: true,
            identity: { block: true, response: 'forbidden' },
            challenges: { userAgents: BOT_USER_AGENTS, response: 'challenge' },
            drift: { banAfterRequests: 400, recoverAfterMs: 30_000, jitter: 0.25 },
        },
    }),

    /** Only IP bans: 20 proxies, half banned (one subnet whole), answered with every kind of block. */
    'banned-proxies': scenario('banned-proxies', 'IP bans only: 20 proxies, half banned incl. one subnet, mixed block pages, 2 dead proxies.', {
        proxies: { count: 20, dead: { refuse: 1, tunnelError: 1 } },
        site: { bans: { fraction: 0.5, subnets: 1, response: ['forbidden', 'soft-block', 'challenge', 'captcha'] } },
    }),

    /** Only rate limits: tight per-IP and per-session limits with short penalties. */
    'rate-limits': scenario('rate-limits', 'Rate limits only: 10 requests / 2 s per IP, 5 / 2 s per session, 1 s penalties.', {
        site: {
            rateLimits: {
                perIp: { requests: 10, windowMs: 2_000, penaltyMs: 1_000 },
                perSession: { requests: 5, windowMs: 2_000, penaltyMs: 1_000 },
            },
        },
    }),

    /** Sessions must be earned and set up: cookie required, usage cap, location + CSRF. */
    sessions: scenario('sessions', 'Session warm-up: cookie required, 20 pages per session, location form and API behind CSRF.', {
        site: { sessionRequired: true, usageCap: 20, csrf: true },
    }),

    /** Identity consistency: sessions whose user agent changes or disagrees with the beacon are blocked; bots challenged. */
    identity: scenario('identity', 'Identity checks: user-agent changes and beacon mismatches blocked, bot user agents challenged.', {
        site: { identity: { block: true, response: 'forbidden' }, challenges: { userAgents: BOT_USER_AGENTS, response: 'challenge' } },
    }),

    /** Drift: proxies burn after ~50 requests and recover after 5 s. */
    drift: scenario('drift', 'Drift: good IPs get banned after ~50 requests, banned ones recover after ~5 s.', {
        site: { bans: { fraction: 0.3 }, drift: { banAfterRequests: 50, recoverAfterMs: 5_000, jitter: 0.3 } },
    }),

    /**
     * What wastes requests even for a careful crawler: 40 proxies in 4 subnets (one banned whole, a quarter of the
     * rest banned too), drift (a good IP burns after ~40 requests, a banned one recovers ~8 s later), a captcha after
     * 25 pages per session cookie, 3 requests/s per IP (429 + Retry-After 2 s), and a residential-style gateway with
     * 20 exits (a quarter banned) that the same defenses apply to. 1,000 product pages.
     */
    hard: scenario('hard', 'Hard: subnet bans, drift (burn after ~40 requests, recover after ~8 s), captcha after 25 pages per session, 3 requests/s per IP, a gateway.', {
        proxies: { count: 40, subnetSize: 10 },
        gateway: { exits: 20, bannedFraction: 0.25 },
        site: {
            categories: 25,
            productsPerCategory: 40,
            bans: { subnets: 1, fraction: 0.4, response: ['forbidden', 'challenge', 'captcha'] },
            rateLimits: { perIp: { requests: 3, windowMs: 1_000, penaltyMs: 2_000 } },
            usageCap: 25,
            drift: { banAfterRequests: 40, recoverAfterMs: 8_000, jitter: 0.25 },
        },
    }),
} satisfies Record<string, Scenario>;

/** Names of the built-in scenarios. */
export type ScenarioName = keyof typeof scenarios;

/** Looks a scenario up by name; throws naming the known ones. */
export function getScenario(name: string): Scenario {
    const found = (scenarios as Record<string, Scenario>)[name];
    if (!found || !Object.hasOwn(scenarios, name)) {
        throw new ProvingGroundOptionsError(
            `Invalid proving-ground options: options.scenario ${JSON.stringify(name)} is not a known scenario; use one of ${Object.keys(scenarios).join(', ')}`,
        );
    }
    return found;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
    return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof RegExp);
}

/** Deep merge: objects merge key by key, anything else (arrays included) in `over` replaces `base`. */
export function mergeOptions<T>(base: T, over: unknown): T {
    if (over === undefined) return base;
    if (!isPlainObject(base) || !isPlainObject(over)) return over as T;
    const out: Record<string, unknown> = { ...base };
    for (const [key, value] of Object.entries(over)) {
        if (value === undefined) continue;
        out[key] = mergeOptions(out[key], value);
    }
    return out as T;
}

/**
 * Resolves `options.scenario` (a name or a scenario object, which may itself name a scenario) and
 * merges the remaining options over it.
 */
export function applyScenario(options: ProvingGroundOptions): ProvingGroundOptions {
    const { scenario: chosen, ...rest } = options;
    if (chosen === undefined) return rest;
    const base = typeof chosen === 'string' ? getScenario(chosen).options : chosen.options;
    return mergeOptions(applyScenario(base), rest);
}
