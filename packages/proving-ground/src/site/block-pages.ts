import type { ChallengeStyle } from '../options.js';
import { hash32 } from '../prng.js';
import { escapeHtml } from './html.js';

/**
 * Block pages that look like the real ones (same titles, ids, script globals, headers), so a
 * classifier trained on production markers recognises them. Every third-party URL is text only:
 * nothing on these pages loads anything, and nothing external is ever contacted.
 */

/** A response body with its status and headers. */
export interface BlockPage {
    status: number;
    headers: Record<string, string>;
    body: string;
}

/** Context for reference numbers and echoed details. */
export interface BlockContext {
    host: string;
    ip: string;
    path: string;
    /** Current time (ms), echoed like real block pages do. */
    now: number;
}

function hex(seed: string, length: number): string {
    let out = '';
    for (let i = 0; out.length < length; i++) out += hash32(`${seed}/${i}`).toString(16).padStart(8, '0');
    return out.slice(0, length);
}

const HTML = 'text/html; charset=UTF-8';

/** 403 "Access Denied" in Akamai's style (`Reference #18...`, `server: AkamaiGHost`). */
export function forbiddenPage(ctx: BlockContext): BlockPage {
    const url = `http://${ctx.host}${ctx.path}`.replace(/[:/.]/g, (c) => `&#${c.charCodeAt(0)};`);
    const ref = `18&#46;${hex(ctx.ip, 8)}&#46;${Math.floor(ctx.now / 1000)}&#46;${hex(ctx.path, 8)}`;
    return {
        status: 403,
        headers: { 'content-type': 'text/html', server: 'AkamaiGHost', 'cache-control': 'max-age=0, no-cache, no-store' },
        body: `<HTML><HEAD>\n<TITLE>Access Denied</TITLE>\n</HEAD><BODY>\n<H1>Access Denied</H1>\n \n` +
            `You don't have permission to access "${url}" on this server.<P>\n` +
            `Reference&#32;&#35;${ref}\n<P>https&#58;&#47;&#47;errors&#46;edgesuite&#46;net&#47;${ref}</P>\n</BODY>\n</HTML>\n`,
    };
}

/** 200 "Access denied / unusual traffic" page: the status says fine, the content says blocked. */
export function softBlockPage(ctx: BlockContext): BlockPage {
    return {
        status: 200,
        headers: { 'content-type': HTML, 'cache-control': 'no-store' },
        body: `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Access denied</title><meta name="robots" content="noindex,nofollow"></head>\n` +
            `<body><div id="block-page" class="access-denied">\n<h1>Access denied</h1>\n` +
            `<p>Our systems have detected unusual traffic from your computer network. ` +
            `This page checks to see if it's really you sending the requests, and not a robot.</p>\n` +
            `<p>Please try again later.</p>\n` +
            `<div id="infoDiv">IP address: ${escapeHtml(ctx.ip)}<br>Time: ${new Date(ctx.now).toISOString()}<br>URL: http://${escapeHtml(ctx.host)}${escapeHtml(ctx.path)}</div>\n` +
            `</div></body></html>\n`,
    };
}

/** 200 captcha form with reCAPTCHA markup (`g-recaptcha`, `g-recaptcha-response`). */
export function captchaPage(ctx: BlockContext): BlockPage {
    return {
        status: 200,
        headers: { 'content-type': HTML, 'cache-control': 'no-store' },
        body: `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Security check</title><meta name="robots" content="noindex,nofollow">\n` +
            `<!-- reCAPTCHA widget: https://www.google.com/recaptcha/api.js (text only, not loaded) -->\n</head>\n` +
            `<body><div id="captcha-page">\n<h1>Please verify you are a human</h1>\n` +
            `<p>To continue to ${escapeHtml(ctx.host)}, please complete the security check below.</p>\n` +
            `<form id="captcha-form" action="#" method="POST">\n` +
            `<div class="g-recaptcha" data-sitekey="6Lc${hex(ctx.host, 36)}" data-callback="onCaptchaSolved"></div>\n` +
            `<textarea id="g-recaptcha-response" name="g-recaptcha-response" class="g-recaptcha-response" style="display:none"></textarea>\n` +
            `<noscript>Please enable JavaScript to complete the captcha.</noscript>\n` +
            `<button type="submit">Continue</button>\n</form>\n</div></body></html>\n`,
    };
}

/** 429 with Retry-After. */
export function rateLimitedPage(ctx: BlockContext, retryAfterSeconds: number): BlockPage {
    return {
        status: 429,
        headers: { 'content-type': HTML, 'retry-after': String(retryAfterSeconds), 'cache-control': 'no-store' },
        body: `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>429 Too Many Requests</title></head>\n` +
            `<body><h1>Too Many Requests</h1>\n<p>You have sent too many requests to ${escapeHtml(ctx.host)}. Retry after ${retryAfterSeconds} seconds.</p></body></html>\n`,
    };
}

/** 403 anti-bot interstitial in the given vendor's style. */
export function challengePage(ctx: BlockContext, style: ChallengeStyle): BlockPage {
    switch (style) {
        case 'datadome':
            return dataDomeChallenge(ctx);
        case 'perimeterx':
            return perimeterXChallenge(ctx);
        case 'imperva':
            return impervaChallenge(ctx);
        case 'cloudflare':
        default:
            return cloudflareChallenge(ctx);
    }
}

function cloudflareChallenge(ctx: BlockContext): BlockPage {
    const ray = hex(`${ctx.ip}${ctx.path}${ctx.now}`, 16);
    const host = escapeHtml(ctx.host);
    return {
        status: 403,
        headers: {
            'content-type': HTML,
            server: 'cloudflare',
            'cf-ray': `${ray}-FRA`,
            'cf-mitigated': 'challenge',
            'cache-control': 'private, max-age=0, no-store, no-cache, must-revalidate, post-check=0, pre-check=0',
            'cross-origin-opener-policy': 'same-origin',
        },
        body: `<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>` +
            `<meta http-equiv="Content-Type" content="text/html; charset=UTF-8"><meta http-equiv="X-UA-Compatible" content="IE=Edge">` +
            `<meta name="robots" content="noindex,nofollow"><meta name="viewport" content="width=device-width,initial-scale=1"></head>\n` +
            `<body class="no-js"><div class="main-wrapper" role="main"><div class="main-content">` +
            `<h1 class="zone-name-title h1">${host}</h1>` +
            `<h2 id="challenge-running" class="h2">Verifying you are human. This may take a few seconds.</h2>` +
            `<div id="challenge-stage"><div class="cf-turnstile" data-sitekey="0x4AAAAAAA${hex(ctx.host, 14)}"></div></div>` +
            `<div id="challenge-body-text" class="core-msg spacer">${host} needs to review the security of your connection before proceeding.</div>` +
            `<noscript><div id="challenge-error-title"><div class="h2"><span id="challenge-error-text">Enable JavaScript and cookies to continue</span></div></div></noscript>` +
            `</div></div>\n` +
            `<script>(function(){window._cf_chl_opt={cvId: '3',cZone: "${host}",cType: 'managed',cRay: '${ray}',cH: '${hex(ray, 40)}',` +
            `cUPMDTk: "\\/?__cf_chl_tk=${hex(ray + 'tk', 32)}",cFPWv: 'b',cTplV: 5,cTplB: 'cf',` +
            `cOrchestrate: '/cdn-cgi/challenge-platform/h/b/orchestrate/chl_page/v1?ray=${ray}',` +
            `cTurnstile: 'https://challenges.cloudflare.com/turnstile/v0/api.js?onload=_cf_chl_turnstile_l'};` +
            `/* The real page appends the orchestrate script here; the proving ground loads nothing. */}());</script>\n` +
            `<div class="footer" role="contentinfo"><div class="footer-inner"><div class="clearfix diagnostic-wrapper"><div class="ray-id">Ray ID: <code>${ray}</code></div></div>` +
            `<div class="text-center" id="footer-text">Performance &amp; security by <a rel="noopener noreferrer" href="https://www.cloudflare.com?utm_source=challenge&amp;utm_campaign=m" target="_blank">Cloudflare</a></div></div></div>\n` +
            `</body></html>\n`,
    };
}

function dataDomeChallenge(ctx: BlockContext): BlockPage {
    const cid = hex(`${ctx.ip}dd`, 48);
    return {
        status: 403,
        headers: {
            'content-type': 'text/html;charset=utf-8',
            'x-datadome': 'protected',
            'x-dd-b': '1',
            'set-cookie': `datadome=${hex(cid, 64)}; Max-Age=31536000; Path=/; SameSite=Lax`,
            'cache-control': 'max-age=0, private, no-cache, no-store, must-revalidate',
        },
        body: `<html lang="en"><head><title>${escapeHtml(ctx.host)}</title><style>#cmsg{animation: A 1.5s;}@keyframes A{0%{opacity:0;}99%{opacity:0;}100%{opacity:1;}}</style></head>` +
            `<body style="margin:0"><p id="cmsg">Please enable JS and disable any ad blocker</p>` +
            `<script data-cfasync="false">var dd={'rt':'c','cid':'${cid}','hsh':'${hex(ctx.host, 30).toUpperCase()}','t':'fe','s':${hash32(ctx.host) % 50_000},` +
            `'e':'${hex(ctx.path, 64)}','host':'geo.captcha-delivery.com','cookie':'${hex(cid + 'c', 64)}'}</script>` +
            `<!-- loader: https://ct.captcha-delivery.com/c.js (text only, not loaded) --></body></html>\n`,
    };
}

function perimeterXChallenge(ctx: BlockContext): BlockPage {
    const appId = `PX${hex(ctx.host, 8)}`;
    return {
        status: 403,
        headers: { 'content-type': HTML, 'cache-control': 'private, no-cache, no-store, must-revalidate' },
        body: `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex, nofollow">` +
            `<title>Access to this page has been denied.</title></head>\n<body>` +
            `<section class="px-captcha-container"><div class="px-captcha-header">Before we continue...</div>` +
            `<div class="px-captcha-message">Press &amp; Hold to confirm you are<br>a human (and not a bot).</div>` +
            `<div class="px-captcha-error-container"><div id="px-captcha"></div></div>` +
            `<p class="px-captcha-refid">Reference ID ${hex(`${ctx.ip}${ctx.now}`, 8)}-${hex(ctx.path, 4)}-11ee-${hex(ctx.host, 4)}-${hex(ctx.ip, 12)}</p></section>\n` +
            `<script>window._pxAppId = '${appId}';window._pxJsClientSrc = '/${appId.slice(2)}/init.js';window._pxFirstPartyEnabled = true;` +
            `window._pxVid = '';window._pxUuid = '${hex(ctx.ip + 'uuid', 32)}';window._pxHostUrl = '/${appId.slice(2)}/xhr';` +
            `window._pxreCaptchaTheme = 'light';/* captcha: https://captcha.px-cdn.net/${appId}/captcha.js (text only, not loaded) */</script>\n` +
            `</body></html>\n`,
    };
}

function impervaChallenge(ctx: BlockContext): BlockPage {
    const incident = `${hash32(ctx.host) % 1000}000${hash32(ctx.ip) % 100_000}-${hash32(`${ctx.path}${ctx.now}`)}`;
    return {
        status: 403,
        headers: {
            'content-type': 'text/html',
            'x-cdn': 'Imperva',
            'x-iinfo': `${hash32(ctx.ip) % 100}-${hash32(ctx.path)}-0 NNNN CT(0 0 0) RT(${ctx.now} 0) q(0 -1 -1 -1) r(0 -1)`,
            'cache-control': 'no-cache, no-store',
        },
        body: `<html style="height:100%"><head><META NAME="ROBOTS" CONTENT="NOINDEX, NOFOLLOW"><meta name="format-detection" content="telephone=no">` +
            `<meta name="viewport" content="initial-scale=1.0"><meta http-equiv="X-UA-Compatible" content="IE=edge,chrome=1"></head>` +
            `<body style="margin:0px;height:100%"><iframe id="main-iframe" src="about:blank" ` +
            `data-src="/_Incapsula_Resource?CWUDNSAI=23&amp;xinfo=${hash32(ctx.ip) % 100}-${hash32(ctx.path)}-0&amp;incident_id=${incident}&amp;edet=15&amp;mth=GET" ` +
            `frameborder=0 width="100%" height="100%" marginheight="0px" marginwidth="0px">Request unsuccessful. Incapsula incident ID: ${incident}</iframe></body></html>\n`,
    };
}
