/**
 * Every option of the proving ground, with its JSDoc and default. All defenses are off by default:
 * `startProvingGround()` with no options is a friendly shop behind 10 honest proxies.
 */

/** How the site answers a client it has decided to block. */
export type BlockResponse =
    /** 403 "Access Denied" page (Akamai-style, with a reference number). */
    | 'forbidden'
    /** 200 page saying "Access denied / unusual traffic" (a soft block: the status looks fine). */
    | 'soft-block'
    /** 403 anti-bot interstitial (Cloudflare turnstile by default, see {@link SiteOptions.challengeStyle}). */
    | 'challenge'
    /** 200 captcha form (reCAPTCHA-like markup). */
    | 'captcha';

/** The anti-bot vendor whose interstitial a `'challenge'` imitates (markup only, nothing external loads). */
export type ChallengeStyle = 'cloudflare' | 'datadome' | 'perimeterx' | 'imperva';

/** Why a proxy is dead. */
export type DeadProxyMode =
    /** Nothing listens on the proxy's port: connections are refused. */
    | 'refuse'
    /** The proxy answers every request (CONNECT or forward) with an error status (default 599). */
    | 'tunnel-error';

export interface ProxyAuthOptions {
    /** Username every proxy requires (HTTP Basic `Proxy-Authorization`). */
    username: string;
    /** Password every proxy requires. */
    password: string;
}

export interface DeadProxiesOptions {
    /** How many proxies (picked by seed) refuse connections. @default 0 */
    refuse?: number;
    /** How many proxies (picked by seed) answer every request with an error status. @default 0 */
    tunnelError?: number;
    /** Status the `tunnel-error` proxies answer with (proxy-chain uses 590-599 for upstream failures). @default 599 */
    status?: number;
}

export interface ProxyFarmOptions {
    /** Number of proxies in the farm. @default 10 */
    count?: number;
    /**
     * Proxies per "subnet". Proxy `i` gets the source address `127.0.S.H` with
     * `S = 1 + floor(i / subnetSize)` and `H = 11 + i % subnetSize`, so with 10 per subnet the first
     * ten proxies are 127.0.1.11-20, the next ten 127.0.2.11-20, and so on.
     * @default 10
     */
    subnetSize?: number;
    /** Credentials every proxy requires; the proxy URLs then carry them. @default undefined (no auth) */
    auth?: ProxyAuthOptions;
    /** Dead proxies, picked by seed. @default none */
    dead?: DeadProxiesOptions;
    /** Port of the first proxy; proxy `i` listens on `basePort + i`. `0` picks free ports. @default 0 */
    basePort?: number;
}

export interface IpBanOptions {
    /**
     * Fraction of the farm's IPs banned from the start, counting the IPs of banned subnets:
     * `0.6` with 40 proxies bans 24 IPs in total. Picked by seed. @default 0
     */
    fraction?: number;
    /**
     * Whole subnets banned from the start: a number (that many subnets, picked by seed) or the
     * subnets themselves (`['127.0.3']`). @default 0
     */
    subnets?: number | string[];
    /** IPs banned from the start in addition to the above (any address, e.g. `'127.0.0.1'`). @default [] */
    ips?: string[];
    /**
     * What banned clients get. With an array, each banned IP is assigned one entry (by seed) and
     * keeps it. @default 'forbidden'
     */
    response?: BlockResponse | BlockResponse[];
}

export interface RateLimitOptions {
    /** Requests allowed per window. */
    requests: number;
    /** Window length in milliseconds (fixed windows, starting at the key's first request). */
    windowMs: number;
    /**
     * How long the key is penalised once over the limit. The 429 carries `Retry-After` (seconds,
     * rounded up); every request made during the penalty gets 429 again and restarts the penalty.
     * @default 2000
     */
    penaltyMs?: number;
}

export interface RateLimitsOptions {
    /** Limit per client IP. @default undefined (no limit) */
    perIp?: RateLimitOptions;
    /** Limit per session cookie. @default undefined (no limit) */
    perSession?: RateLimitOptions;
}

export interface ChallengeOptions {
    /**
     * User agents (regular expressions, case-insensitive when given as strings) that get challenged
     * on every request, e.g. `['HeadlessChrome', 'python-requests', '^$']`. @default []
     */
    userAgents?: (string | RegExp)[];
    /** Fraction of the farm's not-banned IPs (picked by seed) that get challenged on every request. @default 0 */
    fraction?: number;
    /** Further IPs that get challenged on every request. @default [] */
    ips?: string[];
    /** What a challenged client gets. @default 'challenge' */
    response?: 'challenge' | 'captcha';
}

export interface IdentityOptions {
    /**
     * Block sessions flagged for inconsistent identity: the header user agent changed within the
     * session, or the beacon's `navigator.userAgent` differs from it. Mismatches are always counted
     * in the stats; this only decides whether the site fights back. @default false
     */
    block?: boolean;
    /** What a flagged session gets when `block` is on. @default 'forbidden' */
    response?: BlockResponse;
}

export interface DriftOptions {
    /** A good IP becomes banned after this many requests (counted since it was last good). @default undefined (never) */
    banAfterRequests?: number;
    /** A good IP becomes banned this many milliseconds after it was last good (or the start). @default undefined (never) */
    banAfterMs?: number;
    /** A banned IP (also one banned from the start) recovers this many milliseconds after it was banned. @default undefined (never) */
    recoverAfterMs?: number;
    /**
     * Spread of the thresholds above per IP, by seed: each IP's thresholds are multiplied by a factor
     * in `[1 - jitter, 1 + jitter]`. @default 0
     */
    jitter?: number;
}

export interface SiteOptions {
    /** Hostname of the main site; any other `*.test` name is a separate site on the same server. @default 'shop.test' */
    host?: string;
    /** Port of the site server. @default 0 (a free port) */
    port?: number;
    /** Number of category pages (`/category/1` ...). @default 5 */
    categories?: number;
    /** Products per category (`/product/:id`), all linked from their category page. @default 10 */
    productsPerCategory?: number;
    /** Locations offered by the location form; the first is the default of a new session. @default ['US', 'DE', 'GB', 'JP'] */
    locations?: string[];
    /** Extra delay before every response, in milliseconds (simulates a slow site). @default 0 */
    latencyMs?: number;
    /** Client IPs banned from the start. @default undefined (no bans) */
    bans?: IpBanOptions;
    /** Rate limits per IP and per session cookie, answered with 429 + Retry-After. @default undefined (no limits) */
    rateLimits?: RateLimitsOptions;
    /** Pages a session cookie may get; after that it only gets a captcha page. @default undefined (no cap) */
    usageCap?: number;
    /** Anti-bot interstitials for configured clients. @default undefined (no challenges) */
    challenges?: ChallengeOptions;
    /** Vendor whose markup `'challenge'` responses imitate. @default 'cloudflare' */
    challengeStyle?: ChallengeStyle;
    /**
     * A client without the site's session cookie gets a landing page (200) that sets it, and the API
     * answers 401; content is only served once the cookie comes back. @default false
     */
    sessionRequired?: boolean;
    /**
     * `POST /location` needs the session's CSRF token (form field `_csrf`, from `GET /location`), and
     * `/api/*` needs it in the `x-csrf-token` header; otherwise 403. @default false
     */
    csrf?: boolean;
    /** Identity consistency checks (user agent in headers vs beacon). @default undefined (counted, never blocked) */
    identity?: IdentityOptions;
    /** Good IPs get banned over time, banned ones recover. @default undefined (no drift) */
    drift?: DriftOptions;
}

/** A residential-style gateway next to the farm (see `pg.gateway`). */
export interface GatewayOptions {
    /** Exit IPs behind the gateway (`127.1.S.H`); session ids are hashed onto them, so many ids share one exit. @default 20 */
    exits?: number;
    /** Exits per subnet `127.1.S`. @default 10 */
    subnetSize?: number;
    /** Fraction of the exits (picked by seed) banned by the site from the start. @default 0 */
    bannedFraction?: number;
    /** Password the gateway requires (any username carrying `session-<id>` is accepted). @default undefined (none) */
    password?: string;
    /** Port of the gateway. @default 0 (a free port) */
    port?: number;
}

/** Where the site reads the time. Core's `ManualClock` fits, as does any object with `now()`. */
export interface ProvingGroundClock {
    /** Milliseconds since the epoch, like `Date.now()`. */
    now(): number;
}

/** Options of {@link startProvingGround}. */
export interface ProvingGroundOptions {
    /**
     * A preset from {@link scenarios} (by name) or a scenario object; the other options given here
     * are merged over it (objects deeply, arrays replaced). @default undefined (no preset)
     */
    scenario?: string | { options: ProvingGroundOptions };
    /** Seed of everything random. @default 1 */
    seed?: number;
    /** Also expose the site on `http://127.0.0.1:PORT` for direct (proxy-less) use. Otherwise connections not coming from a farm proxy are dropped. @default false */
    exposeDirect?: boolean;
    /** The proxy farm. */
    proxies?: ProxyFarmOptions;
    /** The site and its defenses. */
    site?: SiteOptions;
    /** A residential-style gateway: one proxy URL, the exit IP chosen by the session id in the username. @default undefined (none) */
    gateway?: GatewayOptions;
    /** How many entries the request log keeps (the oldest are dropped). @default 100000 */
    maxLogEntries?: number;
    /**
     * The time the defenses go by (rate-limit windows and penalties, drift) and the request log's `t`. Tests pass a
     * manual clock and move it instead of sleeping. Latency (`site.latencyMs`) stays real time. @default `Date.now`
     */
    clock?: ProvingGroundClock;
}

/** Options after defaults are applied. */
export interface ResolvedOptions {
    seed: number;
    exposeDirect: boolean;
    maxLogEntries: number;
    proxies: Required<Omit<ProxyFarmOptions, 'auth' | 'dead'>> & { auth?: ProxyAuthOptions; dead: Required<DeadProxiesOptions> };
    gateway?: Required<Omit<GatewayOptions, 'password'>> & { password?: string };
    site: Required<Pick<SiteOptions, 'host' | 'port' | 'categories' | 'productsPerCategory' | 'locations' | 'latencyMs' | 'challengeStyle' | 'sessionRequired' | 'csrf'>> &
        Pick<SiteOptions, 'bans' | 'rateLimits' | 'usageCap' | 'challenges' | 'identity' | 'drift'>;
}

export const DEFAULT_SEED = 1;
export const DEFAULT_PROXY_COUNT = 10;
export const DEFAULT_SUBNET_SIZE = 10;
export const DEFAULT_TUNNEL_ERROR_STATUS = 599;
export const DEFAULT_PENALTY_MS = 2000;
export const DEFAULT_GATEWAY_EXITS = 20;
export const DEFAULT_MAX_LOG_ENTRIES = 100_000;
export const DEFAULT_LOCATIONS = ['US', 'DE', 'GB', 'JP'];

/** Applies defaults to already validated (and scenario-merged) options. */
export function resolveOptions(options: ProvingGroundOptions): ResolvedOptions {
    const proxies = options.proxies ?? {};
    const site = options.site ?? {};
    return {
        seed: options.seed ?? DEFAULT_SEED,
        exposeDirect: options.exposeDirect ?? false,
        maxLogEntries: options.maxLogEntries ?? DEFAULT_MAX_LOG_ENTRIES,
        proxies: {
            count: proxies.count ?? DEFAULT_PROXY_COUNT,
            subnetSize: proxies.subnetSize ?? DEFAULT_SUBNET_SIZE,
            basePort: proxies.basePort ?? 0,
            ...(proxies.auth ? { auth: proxies.auth } : {}),
            dead: {
                refuse: proxies.dead?.refuse ?? 0,
                tunnelError: proxies.dead?.tunnelError ?? 0,
                status: proxies.dead?.status ?? DEFAULT_TUNNEL_ERROR_STATUS,
            },
        },
        ...(options.gateway
            ? {
                  gateway: {
                      exits: options.gateway.exits ?? DEFAULT_GATEWAY_EXITS,
                      subnetSize: options.gateway.subnetSize ?? DEFAULT_SUBNET_SIZE,
                      bannedFraction: options.gateway.bannedFraction ?? 0,
                      port: options.gateway.port ?? 0,
                      ...(options.gateway.password !== undefined ? { password: options.gateway.password } : {}),
                  },
              }
            : {}),
        site: {
            host: (site.host ?? 'shop.test').toLowerCase(),
            port: site.port ?? 0,
            categories: site.categories ?? 5,
            productsPerCategory: site.productsPerCategory ?? 10,
            locations: site.locations ?? DEFAULT_LOCATIONS,
            latencyMs: site.latencyMs ?? 0,
            challengeStyle: site.challengeStyle ?? 'cloudflare',
            sessionRequired: site.sessionRequired ?? false,
            csrf: site.csrf ?? false,
            bans: site.bans,
            rateLimits: site.rateLimits,
            usageCap: site.usageCap,
            challenges: site.challenges,
            identity: site.identity,
            drift: site.drift,
        },
    };
}
