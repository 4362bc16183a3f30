/**
 * The classifier: turns what a crawler saw (status, headers, body text, or the error instead of a response) into an
 * {@link Outcome}. Pure: same snapshot and options, same verdict. Every adapter uses it through `manager.evaluate()`.
 *
 * Where is a 429 handled? Here ({@link classify}); what a rate-limited outcome does to the session and proxy is in
 * manager.ts (`report`) and proxies.ts.
 */
import { redactText } from './redact.js';
import type { Outcome, ResponseSnapshot } from './types.js';

/** A page marker that means "this is not the page you asked for". */
export interface BlockMarker {
    /** Name shown in the outcome's reason, e.g. `Cloudflare challenge`. */
    name: string;
    /** Tested against the page's `<title>` text. */
    title?: RegExp;
    /** Tested against the (first `maxBodyChars` of the) body. */
    body?: RegExp;
    /** Tested against the final URL. */
    url?: RegExp;
    /** Header name (lower-case) → pattern of its value. */
    header?: { name: string; value: RegExp };
    /**
     * `strong`: the marker alone means blocked. `weak` (captcha widgets that also appear on legitimate forms): blocked
     * only with an error status, a small page, or a captcha-like title. @default 'strong'
     */
    strength?: 'strong' | 'weak';
    /** The outcome this marker gives. @default 'blocked' */
    outcome?: 'blocked' | 'rate-limited';
}

/** Options of {@link classify} (the `classifier` option of the manager). */
export interface ClassifierOptions {
    /** Status codes that mean the session is blocked. @default [401, 403] */
    blockedStatusCodes?: number[];
    /** Status codes that mean rate-limited (with or without Retry-After). @default [429] */
    rateLimitStatusCodes?: number[];
    /** Extra markers, checked before the built-in ones. @default [] */
    markers?: BlockMarker[];
    /** Names of built-in markers to ignore (e.g. `['soft block']` when the site's pages say "access denied"). @default [] */
    disableMarkers?: string[];
    /** How much of the body is searched for markers, in characters. @default 300000 */
    maxBodyChars?: number;
    /** Pages whose text is shorter than this are "small": soft-block words and captcha widgets count there. @default 4000 */
    smallPageChars?: number;
    /** Cap of a Retry-After wait, in milliseconds. @default 600000 */
    maxRetryAfterMillis?: number;
    /** Whether the use went through a proxy (then connection errors are the proxy's). @default false */
    usingProxy?: boolean;
    /** The proxy URL used, to tell connection errors to the proxy from errors to the site. Never printed. */
    proxyUrl?: string;
    /** Current time in epoch millis, for HTTP-date Retry-After values. @default Date.now() */
    now?: number;
}

const CAPTCHA_TITLE = /captcha|robot|are you (a )?human|verify(ing)? you are|security check|bot check|human verification|challenge/i;

/** Built-in markers of the common anti-bot vendors (names are stable: use them in `disableMarkers`). */
export const BUILT_IN_MARKERS: readonly BlockMarker[] = [
    {
        name: 'Cloudflare challenge',
        header: { name: 'cf-mitigated', value: /challenge/i },
    },
    {
        name: 'Cloudflare challenge',
        title: /^\s*(just a moment\.*|attention required!? \| cloudflare)\s*$/i,
    },
    {
        name: 'Cloudflare challenge',
        body: /window\._cf_chl_opt|cf-chl-(widget|bypass|opt)|cf_chl_(opt|prog|rc)|id=["']challenge-(form|running|stage)["']|cf-browser-verification/i,
    },
    { name: 'Cloudflare block', body: /sorry, you have been blocked[\s\S]{0,2000}cloudflare|cf-error-details[\s\S]{0,500}(1020|1010|1012)/i },
    { name: 'Cloudflare Turnstile', body: /challenges\.cloudflare\.com\/turnstile|class=["'][^"']*\bcf-turnstile\b/i, strength: 'weak' },
    {
        name: 'Incapsula incident',
        body: /incapsula incident id|_Incapsula_Resource|request unsuccessful\. incapsula incident/i,
    },
    { name: 'Imperva challenge', title: /^\s*pardon our interruption/i },
    { name: 'DataDome captcha', body: /(geo\.)?captcha-delivery\.com|ct\.captcha-delivery/i },
    {
        name: 'PerimeterX captcha',
        body: /id=["']px-captcha["']|_pxCaptcha|captcha\.px-cdn\.net|px-captcha-(wrapper|container)|press\s*(&|&amp;)\s*hold[\s\S]{0,400}(human|robot|confirm)/i,
    },
    {
        name: 'Akamai access denied',
        body: /errors\.edgesuite\.net|you don'?t have permission to access[\s\S]{0,500}reference\s*#\s*[0-9a-f]+\.[0-9a-f.]+/i,
    },
    { name: 'Google unusual traffic', body: /our systems have detected unusual traffic from your computer network/i },
    { name: 'Google unusual traffic', url: /^https?:\/\/(www\.)?(google\.[a-z.]+|ipv4\.google\.com)\/sorry\//i },
    {
        name: 'reCAPTCHA',
        body: /class=["'][^"']*\bg-recaptcha\b|www\.google\.com\/recaptcha\/(api|enterprise)\.js|recaptcha\/api2\/anchor/i,
        strength: 'weak',
    },
    { name: 'hCaptcha', body: /class=["'][^"']*\bh-captcha\b|js\.hcaptcha\.com|hcaptcha\.com\/1\/api\.js/i, strength: 'weak' },
    {
        name: 'soft block',
        title: /access denied|request (was )?(blocked|rejected)|you (have|'ve) been blocked|blocked by|forbidden|bot detected|unusual (traffic|activity)|automated (access|queries|requests)|are you a robot|verify you are (a )?human|security check/i,
    },
    { name: 'too many requests', title: /too many requests|rate limit(ed)?/i, outcome: 'rate-limited' },
];

const SOFT_BLOCK_TEXT =
    /access denied|request (was )?(blocked|rejected)|you (have|'ve) been blocked|bot detected|unusual (traffic|activity)|automated (access|queries|requests)|please verify you are (a )?human|enable (javascript|js) and (cookies|disable any ad ?blocker)/i;

const PROXY_ERROR_MESSAGE =
    /ERR_PROXY_CONNECTION_FAILED|ERR_TUNNEL_CONNECTION_FAILED|ERR_PROXY_AUTH|ERR_NO_SUPPORTED_PROXIES|ERR_PROXY_CERTIFICATE_INVALID|ERR_SOCKS_CONNECTION_FAILED|ERR_MANDATORY_PROXY_CONFIGURATION_FAILED|NS_ERROR_PROXY|proxy authentication required|proxy responded with (407|5\d\d)|UpstreamProxyError|tunnel(ing)? (socket )?(connection )?(failed|error)|failed to establish (a )?tunnel|proxy connection (refused|failed|ended|timed out)|ECONNREFUSED[^\n]*proxy|proxy[^\n]*ECONNREFUSED/i;

const PROXY_CONNECT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

const TIMEOUT = /timeout|timed out|ETIMEDOUT|ESOCKETTIMEDOUT/i;

/** Parses a Retry-After value (delay-seconds or an HTTP date) into milliseconds from `now`; undefined if absent/invalid. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
    const v = (Array.isArray(value) ? value[0] : value)?.trim();
    if (!v) return undefined;
    if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
    const at = Date.parse(v);
    if (Number.isNaN(at)) return undefined;
    return Math.max(0, at - now);
}

function header(headers: ResponseSnapshot['headers'], name: string): string | undefined {
    if (!headers) return undefined;
    const v = headers[name] ?? headers[name.toLowerCase()];
    if (v === undefined) {
        // Tolerate non-lower-cased keys from some clients.
        for (const [k, val] of Object.entries(headers)) if (k.toLowerCase() === name) return Array.isArray(val) ? val.join(', ') : val;
        return undefined;
    }
    return Array.isArray(v) ? v.join(', ') : v;
}

/** Decodes numeric character references and `&amp;` (Akamai writes its block page as `Reference&#32;&#35;18&#46;...`). */
function decodeEntities(text: string): string {
    if (!text.includes('&#')) return text;
    return text
        .replace(/&#(\d{1,6});/g, (m, d: string) => safeChar(Number(d), m))
        .replace(/&#x([0-9a-f]{1,6});/gi, (m, h: string) => safeChar(parseInt(h, 16), m));
}

function safeChar(code: number, fallback: string): string {
    try {
        return String.fromCodePoint(code);
    } catch {
        return fallback;
    }
}

function titleOf(body: string): string | undefined {
    const m = /<title[^>]*>([\s\S]{0,500}?)<\/title>/i.exec(body);
    return m ? m[1]!.replace(/\s+/g, ' ').replace(/&amp;/g, '&').trim() : undefined;
}

function visibleTextLength(body: string): number {
    return body
        .replace(/<(script|style|noscript)[\s\S]*?<\/\1>/gi, ' ')
        .replace(/<[^>]+>/g, ' ')
        .replace(/\s+/g, ' ')
        .trim().length;
}

function errorText(error: unknown): { code?: string; name?: string; message: string } {
    if (error && typeof error === 'object') {
        const e = error as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown };
        const cause = e.cause && typeof e.cause === 'object' ? (e.cause as { code?: unknown; message?: unknown }) : undefined;
        const code = typeof e.code === 'string' ? e.code : typeof cause?.code === 'string' ? cause.code : undefined;
        const message = [e.message, cause?.message].filter((x) => typeof x === 'string').join(' | ');
        return { code, name: typeof e.name === 'string' ? e.name : undefined, message: message || String(error) };
    }
    return { message: String(error) };
}

function proxyAddressOf(proxyUrl: string | undefined): string | undefined {
    if (!proxyUrl) return undefined;
    try {
        const u = new URL(proxyUrl);
        const port = u.port || (u.protocol === 'https:' ? '443' : u.protocol.startsWith('socks') ? '1080' : '80');
        return `${u.hostname.replace(/^\[|\]$/g, '')}:${port}`;
    } catch {
        return undefined;
    }
}

function classifyError(error: unknown, options: ClassifierOptions): Outcome {
    const { code, name, message } = errorText(error);
    const text = redactText(message).slice(0, 300);
    const usingProxy = options.usingProxy ?? Boolean(options.proxyUrl);
    if (PROXY_ERROR_MESSAGE.test(message)) return { type: 'proxy-failure', reason: `proxy error: ${text}` };
    const errCode = code ?? /\b(ECONNREFUSED|ECONNRESET|EPIPE|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN)\b/.exec(message)?.[1];
    if (usingProxy && errCode && PROXY_CONNECT_CODES.has(errCode)) {
        // With an HTTP proxy the client only ever connects to the proxy; if the message names another address, it is not.
        const proxyAddress = proxyAddressOf(options.proxyUrl);
        const named = /(\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-f:]+\]|[a-z0-9.-]+):(\d{2,5})/i.exec(message);
        const namedAddress = named ? `${named[1]!.replace(/^\[|\]$/g, '')}:${named[2]}` : undefined;
        if (!proxyAddress || !namedAddress || namedAddress === proxyAddress) {
            return { type: 'proxy-failure', reason: `${errCode} to proxy` };
        }
    }
    if (name === 'TimeoutError' || (code && TIMEOUT.test(code)) || TIMEOUT.test(message)) {
        return { type: 'target-error', reason: `timeout: ${text}` };
    }
    return { type: 'target-error', reason: errCode ? `${errCode}: ${text}` : text };
}

function matchMarkers(
    markers: readonly BlockMarker[],
    disabled: ReadonlySet<string>,
    snapshot: ResponseSnapshot,
    body: string,
    title: string | undefined,
    isSmall: () => boolean,
    errorStatus: boolean,
): BlockMarker | undefined {
    for (const m of markers) {
        if (disabled.has(m.name)) continue;
        let hit = false;
        if (m.header) {
            const v = header(snapshot.headers, m.header.name);
            if (v !== undefined && m.header.value.test(v)) hit = true;
        }
        if (!hit && m.title && title !== undefined && m.title.test(title)) hit = true;
        if (!hit && m.url && snapshot.url && m.url.test(snapshot.url)) hit = true;
        if (!hit && m.body && body && m.body.test(body)) hit = true;
        if (!hit) continue;
        if (m.strength === 'weak' && !errorStatus && !(title && CAPTCHA_TITLE.test(title)) && !isSmall()) continue;
        return m;
    }
    return undefined;
}

/**
 * Classifies one response (or the error that replaced it).
 *
 * - error: proxy errors (407, tunnel, `ERR_PROXY_*`, connection refused/reset to the proxy) → `proxy-failure`;
 *   timeouts and anything else → `target-error`.
 * - 407 and proxy-chain's 590-599 → `proxy-failure`.
 * - 429, or 503 with Retry-After → `rate-limited` with `retryAfterMillis` (when the header says).
 * - 401/403, or a challenge/captcha/block page (Cloudflare, Imperva/Incapsula, DataDome, PerimeterX/HUMAN, Akamai,
 *   Google "unusual traffic", reCAPTCHA/hCaptcha walls, short "access denied" pages) → `blocked`.
 * - other 5xx → `target-error`; everything else → `ok`.
 */
export function classify(snapshot: ResponseSnapshot, options: ClassifierOptions = {}): Outcome {
    if (snapshot.error !== undefined && snapshot.error !== null && snapshot.statusCode === undefined) {
        return classifyError(snapshot.error, options);
    }
    const status = snapshot.statusCode;
    const now = options.now ?? Date.now();
    const maxWait = options.maxRetryAfterMillis ?? 600_000;
    const withStatus = (o: Outcome): Outcome => (status !== undefined ? { ...o, statusCode: status } : o);

    if (status === 407) return withStatus({ type: 'proxy-failure', reason: '407 proxy authentication required' });
    if (status !== undefined && status >= 590 && status <= 599) {
        return withStatus({ type: 'proxy-failure', reason: `${status} from the proxy (upstream failure)` });
    }

    const retryAfter = parseRetryAfter(header(snapshot.headers, 'retry-after'), now);
    const rateLimitCodes = options.rateLimitStatusCodes ?? [429];
    if (status !== undefined && (rateLimitCodes.includes(status) || (status === 503 && retryAfter !== undefined))) {
        return withStatus({
            type: 'rate-limited',
            reason: `${status} status code${retryAfter !== undefined ? `, Retry-After ${Math.round(retryAfter / 1000)} s` : ''}`,
            ...(retryAfter !== undefined ? { retryAfterMillis: Math.min(retryAfter, maxWait) } : {}),
        });
    }

    const maxChars = options.maxBodyChars ?? 300_000;
    const body = snapshot.body ? decodeEntities(snapshot.body.slice(0, maxChars)) : '';
    const title = body ? titleOf(body) : undefined;
    let small: boolean | undefined;
    const isSmall = () => (small ??= body.length > 0 && visibleTextLength(body) < (options.smallPageChars ?? 4000));
    const errorStatus = status !== undefined && status >= 400;
    const disabled = new Set(options.disableMarkers ?? []);
    const markers = options.markers?.length ? [...options.markers, ...BUILT_IN_MARKERS] : BUILT_IN_MARKERS;

    const marker = matchMarkers(markers, disabled, snapshot, body, title, isSmall, errorStatus);
    if (marker) {
        const reason = `${marker.name}${status !== undefined ? ` (${status})` : ''}`;
        if (marker.outcome === 'rate-limited') {
            return withStatus({ type: 'rate-limited', reason, ...(retryAfter !== undefined ? { retryAfterMillis: Math.min(retryAfter, maxWait) } : {}) });
        }
        return withStatus({ type: 'blocked', reason });
    }

    const blockedCodes = options.blockedStatusCodes ?? [401, 403];
    if (status !== undefined && blockedCodes.includes(status)) return withStatus({ type: 'blocked', reason: `${status} status code` });

    if (!disabled.has('soft block') && body && isSmall() && SOFT_BLOCK_TEXT.test(body.replace(/<[^>]+>/g, ' '))) {
        return withStatus({ type: 'blocked', reason: `soft block${status !== undefined ? ` (${status})` : ''}` });
    }

    if (status !== undefined && status >= 500) return withStatus({ type: 'target-error', reason: `${status} status code` });
    if (snapshot.error !== undefined && snapshot.error !== null) return withStatus(classifyError(snapshot.error, options));
    return withStatus({ type: 'ok' });
}
