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
    /** Tested against the body (at most `maxBodyChars` of it: its start and its end, see {@link ClassifierOptions}). */
    body?: RegExp;
    /** Tested against the final URL. */
    url?: RegExp;
    /** Header name (lower-case) → pattern of its value. */
    header?: { name: string; value: RegExp };
    /** The marker only counts with one of these status codes. @default any status */
    status?: number[];
    /**
     * `strong`: the marker alone means blocked. `weak` (captcha widgets, which also sit on login, sign-up and contact
     * forms): blocked only with an error status, a captcha-like title, or on a small page without a login form whose
     * text asks the visitor to prove they are human. @default 'strong'
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
    /**
     * How much of the body is searched for markers, in characters. A longer body is searched at its start (two thirds
     * of this) and its end (one third): challenge forms and scripts often sit at the end of a page that opens with
     * megabytes of inline images or styles. @default 300000
     */
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

const CAPTCHA_TITLE = /captcha|robot|are you (a )?human|verify(ing)? (that )?you are|security check|bot check|human verification|challenge/i;

/** What a captcha wall says to the visitor (the widget alone also sits on ordinary login and contact forms). */
const HUMAN_PROMPT =
    /verify (that )?you('re| are) (a )?human|prove (that )?you('re| are) (a )?human|(you are|you're|i'?m) not a (ro)?bot|are you (a )?(human|robot)|complete the (security check|captcha|challenge)|solve (the|this) (captcha|puzzle)|captcha below/i;

/** A form that takes credentials: a page with one is a login or sign-up page, whatever widgets it embeds. */
const CREDENTIAL_INPUT = /<input\b[^>]*\btype\s*=\s*["']?(password|email)\b/i;

/** Built-in markers of the common anti-bot vendors (names are stable: use them in `disableMarkers`). */
export const BUILT_IN_MARKERS: readonly BlockMarker[] = [
    {
        name: 'Cloudflare challenge',
        header: { name: 'cf-mitigated', value: /challenge/i },
    },
    { name: 'Cloudflare challenge', header: { name: 'cf-chl-bypass', value: /./ } },
    {
        name: 'Cloudflare challenge',
        title: /^\s*(just a moment\.*|attention required!? \| cloudflare|please wait\.* \| cloudflare)\s*$/i,
    },
    {
        // Today's managed challenge (`_cf_chl_opt`, `challenge-*` ids) and the older IUAM form (`jschl_vc`, `chk_jschl`).
        name: 'Cloudflare challenge',
        body: /window\._cf_chl_opt|cf-chl-(widget|bypass|opt)|cf_chl_(opt|prog|rc)|id=["']challenge-(form|running|stage)["']|cf-browser-verification|\/cdn-cgi\/l\/chk_(jschl|captcha)|name=["']jschl_(vc|answer)["']/i,
    },
    {
        // Bot Fight Mode's interstitial: a document holding nothing but the bot-management script and its parameters.
        name: 'Cloudflare challenge',
        body: /^\s*<html>\s*<head>\s*<script[^>]*\/cdn-cgi\/bm\/cv\/\d+\/api\.js[^>]*><\/script>\s*<\/head>\s*<body>\s*<script[^>]*>\s*\(function\(\)\{window\[["']__CF\$cv\$params["']\][^<]{0,2000}<\/script>\s*<\/body>\s*<\/html>\s*$/i,
    },
    {
        // Error 1015 keeps the "Access denied | … used Cloudflare" title of a block: checked before the block markers.
        name: 'Cloudflare rate limit',
        body: /(<span>1015<\/span>|error(&nbsp;|\s)+(code:?\s*)?1015\b)[\s\S]{0,2000}you are being rate limited/i,
        outcome: 'rate-limited',
    },
    { name: 'Cloudflare block', body: /sorry, you have been blocked[\s\S]{0,2000}cloudflare|cf-error-details[\s\S]{0,500}(1020|1010|1012)/i },
    { name: 'Cloudflare Turnstile', body: /challenges\.cloudflare\.com\/turnstile|class=["'][^"']*\bcf-turnstile\b/i, strength: 'weak' },
    {
        // The incident iframe (`_Incapsula_Resource?CWUDNSAI=`); every page of a protected site loads `?SWJIYLWA=` scripts.
        name: 'Incapsula incident',
        body: /incapsula incident id|_Incapsula_Resource\?CWUDNSAI=/i,
    },
    { name: 'Imperva challenge', title: /^\s*pardon our interruption/i },
    { name: 'DataDome captcha', body: /(geo\.)?captcha-delivery\.com|ct\.captcha-delivery/i },
    {
        name: 'PerimeterX captcha',
        body: /id=["']px-captcha["']|_pxCaptcha|captcha\.px-cdn\.net|px-captcha-(wrapper|container)|press\s*(&|&amp;)\s*hold[\s\S]{0,400}(human|robot|confirm)/i,
    },
    // PerimeterX's block template, with or without its captcha (the 2018 pages carry neither id nor script).
    { name: 'PerimeterX captcha', title: /^\s*access to this page has been denied\.?\s*$/i },
    {
        name: 'Akamai access denied',
        body: /errors\.edgesuite\.net|you don'?t have permission to access[\s\S]{0,500}reference\s*#\s*[0-9a-f]+\.[0-9a-f.]+/i,
    },
    {
        // The JS challenge (`sucuri_cloudproxy_js` cookie script) and the firewall's block page.
        name: 'Sucuri firewall',
        body: /sucuri_cloudproxy_js|<title>\s*sucuri website firewall|cloudproxy@sucuri\.net/i,
    },
    { name: 'Sucuri firewall', header: { name: 'x-sucuri-block', value: /./ } },
    { name: 'AWS WAF challenge', header: { name: 'x-amzn-waf-action', value: /challenge|captcha|block/i } },
    { name: 'AWS WAF challenge', body: /awsWafCookieDomainList|window\.gokuProps|AwsWafIntegration/ },
    // AWS WAF also answers a challenged GET with a bodiless 202 (no page to render, nothing to crawl).
    { name: 'AWS WAF challenge', status: [202], body: /^\s*$/ },
    // HAProxy's built-in 403 (`http-request deny`), the deny page of many WAFs in front of it.
    { name: 'request denied', body: /<h1>403 Forbidden<\/h1>\s*Request forbidden by administrative rules\./i },
    { name: 'Google unusual traffic', body: /our systems have detected unusual traffic from your computer network/i },
    // The /sorry/ page's own form: `captcha-form` posting to `index`, its widget carrying Google's `data-s` token.
    { name: 'Google unusual traffic', body: /<form action=["']index["'] id=["']captcha-form["']|class=["']g-recaptcha["'][^>]*\sdata-s=["']/i },
    { name: 'Google unusual traffic', url: /^https?:\/\/(www\.)?(google\.[a-z.]+|ipv4\.google\.com)\/sorry\//i },
    {
        name: 'reCAPTCHA',
        body: /class=["'][^"']*\bg-recaptcha\b|www\.google\.com\/recaptcha\/(api|enterprise)\.js|recaptcha\/api2\/anchor/i,
        strength: 'weak',
    },
    { name: 'hCaptcha', body: /class=["'][^"']*\bh-captcha\b|js\.hcaptcha\.com|hcaptcha\.com\/1\/api\.js/i, strength: 'weak' },
    {
        name: 'soft block',
        title: /access (to this page )?(is |has been )?denied|request (was |has been )?(blocked|rejected)|you (have|'ve) been blocked|blocked by|forbidden|bot detected|unusual (traffic|activity)|automated (access|queries|requests)|are you a robot|verify you are (a )?human|security check/i,
    },
    { name: 'too many requests', title: /too many requests|rate limit(ed)?|^\s*(error\s*)?429\b/i, outcome: 'rate-limited' },
];

const SOFT_BLOCK_TEXT =
    /access (is |has been )?denied|request (was |has been )?(blocked|rejected)|you (have|'ve) been (unfairly )?blocked|we have blocked (your )?access|bot detected|unusual (traffic|activity)|automated (access|queries|requests)|please verify you are (a )?human|enable (javascript|js) and (cookies|disable any ad ?blocker)/i;

const PROXY_ERROR_MESSAGE =
    /ERR_PROXY_CONNECTION_FAILED|ERR_TUNNEL_CONNECTION_FAILED|ERR_PROXY_AUTH|ERR_NO_SUPPORTED_PROXIES|ERR_PROXY_CERTIFICATE_INVALID|ERR_SOCKS_CONNECTION_FAILED|ERR_MANDATORY_PROXY_CONFIGURATION_FAILED|NS_ERROR_PROXY|proxy authentication required|proxy responded with (407|5\d\d)|UpstreamProxyError|tunnel(ing)? (socket )?(connection )?(failed|error)|tunneling socket could not be established|proxy server rejected the request|failed to establish (a )?tunnel|proxy connection (refused|failed|ended|timed out)|ECONNREFUSED[^\n]*proxy|proxy[^\n]*ECONNREFUSED/i;

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

function visibleText(body: string): string {
    return body
        .replace(/<(script|style|noscript)[\s\S]*?<\/\1>/gi, ' ')
        .replace(/<[^>]+>/g, ' ')
        .replace(/\s+/g, ' ')
        .trim();
}

/**
 * The part of the body markers are searched in: all of it up to `maxChars`, else its first two thirds of `maxChars`
 * and its last third (block pages put their challenge forms and scripts last, behind inline images and styles).
 */
function scannedPart(body: string, maxChars: number): string {
    if (body.length <= maxChars) return body;
    const tail = Math.floor(maxChars / 3);
    return `${body.slice(0, maxChars - tail)}\n${body.slice(body.length - tail)}`;
}

/**
 * What a forward proxy writes as its whole answer when it failed (Scrapoxy's "error in proxy request"). Not Apache's
 * "502 Proxy Error" page: that is the site's own reverse proxy.
 */
const PROXY_ERROR_BODY = /^\s*(error in proxy request|upstream proxy (error|failed)[^<]{0,200})\s*$/i;

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
    isWall: () => boolean,
    errorStatus: boolean,
): BlockMarker | undefined {
    for (const m of markers) {
        if (disabled.has(m.name)) continue;
        if (m.status && (snapshot.statusCode === undefined || !m.status.includes(snapshot.statusCode))) continue;
        let hit = false;
        if (m.header) {
            const v = header(snapshot.headers, m.header.name);
            if (v !== undefined && m.header.value.test(v)) hit = true;
        }
        if (!hit && m.title && title !== undefined && m.title.test(title)) hit = true;
        if (!hit && m.url && snapshot.url && m.url.test(snapshot.url)) hit = true;
        if (!hit && m.body && m.body.test(body)) hit = true;
        if (!hit) continue;
        if (m.strength === 'weak' && !errorStatus && !(title && CAPTCHA_TITLE.test(title)) && !isWall()) continue;
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

    const body = snapshot.body ? decodeEntities(scannedPart(snapshot.body, options.maxBodyChars ?? 300_000)) : '';
    const title = body ? titleOf(body) : undefined;
    let text: string | undefined;
    const isSmall = () => body.length > 0 && (text ??= visibleText(body)).length < (options.smallPageChars ?? 4000);
    // A captcha wall: a small page that asks for proof of being human and takes no credentials.
    const isWall = () => isSmall() && !CREDENTIAL_INPUT.test(body) && HUMAN_PROMPT.test(text!);
    const errorStatus = status !== undefined && status >= 400;
    const disabled = new Set(options.disableMarkers ?? []);
    const markers = options.markers?.length ? [...options.markers, ...BUILT_IN_MARKERS] : BUILT_IN_MARKERS;

    const usingProxy = options.usingProxy ?? Boolean(options.proxyUrl);
    if (usingProxy && status !== undefined && status >= 500 && body.length < 1000 && PROXY_ERROR_BODY.test(visibleText(body))) {
        return withStatus({ type: 'proxy-failure', reason: `${status} from the proxy: ${redactText(visibleText(body)).slice(0, 100)}` });
    }

    const marker = matchMarkers(markers, disabled, snapshot, body, title, isWall, errorStatus);
    if (marker) {
        const reason = `${marker.name}${status !== undefined ? ` (${status})` : ''}`;
        if (marker.outcome === 'rate-limited') {
            return withStatus({ type: 'rate-limited', reason, ...(retryAfter !== undefined ? { retryAfterMillis: Math.min(retryAfter, maxWait) } : {}) });
        }
        return withStatus({ type: 'blocked', reason });
    }

    const blockedCodes = options.blockedStatusCodes ?? [401, 403];
    if (status !== undefined && blockedCodes.includes(status)) return withStatus({ type: 'blocked', reason: `${status} status code` });

    if (!disabled.has('soft block') && body && isSmall() && SOFT_BLOCK_TEXT.test(text!)) {
        return withStatus({ type: 'blocked', reason: `soft block${status !== undefined ? ` (${status})` : ''}` });
    }

    if (status !== undefined && status >= 500) return withStatus({ type: 'target-error', reason: `${status} status code` });
    if (snapshot.error !== undefined && snapshot.error !== null) return withStatus(classifyError(snapshot.error, options));
    return withStatus({ type: 'ok' });
}
