import { describe, expect, it } from 'vitest';

import { classify, parseRetryAfter } from '../src/index.js';

const page = (title: string, body = '') => `<!DOCTYPE html><html><head><title>${title}</title></head><body>${body}</body></html>`;
const longText = '<p>' + 'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(200) + '</p>';

describe('classify: status codes', () => {
    it.each([
        [200, 'ok'],
        [204, 'ok'],
        [301, 'ok'],
        [404, 'ok'],
        [401, 'blocked'],
        [403, 'blocked'],
        [407, 'proxy-failure'],
        [429, 'rate-limited'],
        [500, 'target-error'],
        [502, 'target-error'],
        [503, 'target-error'],
        [590, 'proxy-failure'],
        [595, 'proxy-failure'],
        [599, 'proxy-failure'],
    ])('%i → %s', (statusCode, type) => {
        const o = classify({ statusCode, body: page('Shop', '<h1>Products</h1>') });
        expect(o.type).toBe(type);
        expect(o.statusCode).toBe(statusCode);
    });

    it('429 with Retry-After seconds gives the wait', () => {
        expect(classify({ statusCode: 429, headers: { 'retry-after': '7' } })).toMatchObject({ type: 'rate-limited', retryAfterMillis: 7000 });
    });

    it('503 with Retry-After as an HTTP date is rate-limited with the remaining time', () => {
        const now = Date.UTC(2025, 0, 1, 12, 0, 0);
        const o = classify(
            { statusCode: 503, headers: { 'Retry-After': new Date(now + 120_000).toUTCString() } },
            { now },
        );
        expect(o).toMatchObject({ type: 'rate-limited', retryAfterMillis: 120_000 });
    });

    it('caps Retry-After', () => {
        expect(classify({ statusCode: 429, headers: { 'retry-after': '999999' } }, { maxRetryAfterMillis: 60_000 }).retryAfterMillis).toBe(
            60_000,
        );
    });

    it('429 without Retry-After leaves the wait to the pool', () => {
        const o = classify({ statusCode: 429 });
        expect(o.type).toBe('rate-limited');
        expect(o.retryAfterMillis).toBeUndefined();
    });

    it('custom blocked and rate-limit codes', () => {
        expect(classify({ statusCode: 418 }, { blockedStatusCodes: [418] }).type).toBe('blocked');
        expect(classify({ statusCode: 403 }, { blockedStatusCodes: [] }).type).toBe('ok');
        expect(classify({ statusCode: 420 }, { rateLimitStatusCodes: [420] }).type).toBe('rate-limited');
    });
});

describe('parseRetryAfter', () => {
    it('parses seconds, dates and rejects junk', () => {
        expect(parseRetryAfter('0')).toBe(0);
        expect(parseRetryAfter('1.5')).toBe(1500);
        expect(parseRetryAfter(['3'])).toBe(3000);
        expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', Date.UTC(2015, 9, 21, 7, 27, 0))).toBe(60_000);
        expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', Date.UTC(2016, 0, 1))).toBe(0);
        expect(parseRetryAfter('soon')).toBeUndefined();
        expect(parseRetryAfter(undefined)).toBeUndefined();
    });
});

describe('classify: challenge and block pages', () => {
    const cases: [string, { statusCode: number; body: string; headers?: Record<string, string>; url?: string }, string][] = [
        [
            'Cloudflare "Just a moment..."',
            { statusCode: 403, body: page('Just a moment...', '<div id="challenge-running"></div><script>window._cf_chl_opt={cvId: "3"}</script>') },
            'Cloudflare challenge',
        ],
        ['Cloudflare challenge with 200 status', { statusCode: 200, body: page('Just a moment...', 'Checking your browser') }, 'Cloudflare challenge'],
        ['Cloudflare cf-mitigated header', { statusCode: 200, body: page('x'), headers: { 'cf-mitigated': 'challenge' } }, 'Cloudflare challenge'],
        ['Cloudflare chl script', { statusCode: 503, body: '<html><form id="challenge-form" action="/?__cf_chl_f_tk=abc"></form><div class="cf-chl-widget"></div></html>' }, 'Cloudflare challenge'],
        [
            'Cloudflare Turnstile standalone page',
            { statusCode: 200, body: page('Verify you are human', '<div class="cf-turnstile" data-sitekey="x"></div><script src="https://challenges.cloudflare.com/turnstile/v0/api.js"></script>') },
            'Cloudflare Turnstile',
        ],
        [
            'Incapsula incident',
            { statusCode: 200, body: '<html><head><META NAME="robots" CONTENT="noindex,nofollow"></head><body><iframe src="/_Incapsula_Resource?CWUDNSAI=9"></iframe>Request unsuccessful. Incapsula incident ID: 1234-5678</body></html>' },
            'Incapsula incident',
        ],
        ['Imperva "Pardon Our Interruption"', { statusCode: 200, body: page('Pardon Our Interruption', '<p>As you were browsing something about your browser made us think you were a bot.</p>') }, 'Imperva challenge'],
        [
            'DataDome captcha',
            { statusCode: 403, body: '<html><script>var dd={"cid":"abc","hsh":"x","t":"fe","host":"geo.captcha-delivery.com"}</script><script src="https://ct.captcha-delivery.com/c.js"></script></html>' },
            'DataDome captcha',
        ],
        ['PerimeterX px-captcha', { statusCode: 403, body: page('Access to this page has been denied', '<div id="px-captcha"></div>') }, 'PerimeterX captcha'],
        ['HUMAN "Press & Hold"', { statusCode: 200, body: page('Please verify', '<p>Press &amp; Hold to confirm you are a human (and not a bot).</p>') }, 'PerimeterX captcha'],
        [
            'Akamai Access Denied',
            { statusCode: 403, body: page('Access Denied', '<H1>Access Denied</H1>You don\'t have permission to access "http://www.example.com/" on this server.<P>Reference&#32;&#35;18&#46;a1b2c3d4&#46;1700000000&#46;1234abcd<P>https&#58;&#47;&#47;errors&#46;edgesuite&#46;net&#47;18') }, 'Akamai access denied',
        ],
        [
            'Akamai Access Denied (plain reference)',
            { statusCode: 200, body: '<HTML><HEAD><TITLE>Access Denied</TITLE></HEAD><BODY>You don\'t have permission to access "/" on this server.<P>Reference #18.7d2c1402.1700000000.5e4f3a</BODY></HTML>' },
            'Akamai access denied',
        ],
        [
            'Google unusual traffic',
            { statusCode: 429, body: page('Sorry...', 'Our systems have detected unusual traffic from your computer network.'), url: 'https://www.google.com/sorry/index?continue=x' },
            'rate-limited-or-google',
        ],
        ['Google /sorry/ redirect', { statusCode: 200, body: page('Sorry...', 'x'), url: 'https://www.google.com/sorry/index?continue=x' }, 'Google unusual traffic'],
        [
            'reCAPTCHA wall',
            { statusCode: 200, body: page('Security check', '<form><div class="g-recaptcha" data-sitekey="k"></div></form><script src="https://www.google.com/recaptcha/api.js"></script>') },
            'reCAPTCHA',
        ],
        // A widget alone no longer decides (login and contact forms embed them): the page must ask for proof of being human.
        [
            'hCaptcha wall (small page)',
            { statusCode: 200, body: page('Example', '<p>Please complete the security check to continue.</p><form><div class="h-captcha" data-sitekey="k"></div></form>') },
            'hCaptcha',
        ],
        ['soft block title', { statusCode: 200, body: page('Access denied', '<p>Sorry.</p>') }, 'soft block'],
        ['soft block text on a small page', { statusCode: 200, body: page('Example shop', '<h1>Request blocked</h1><p>Your request was blocked.</p>') }, 'soft block'],
    ];
    it.each(cases)('%s', (_name, snapshot, reason) => {
        const o = classify(snapshot);
        if (reason === 'rate-limited-or-google') {
            // A 429 is rate-limited first; the same page with a 200 is blocked by its marker.
            expect(o.type).toBe('rate-limited');
            expect(classify({ ...snapshot, statusCode: 200 })).toMatchObject({ type: 'blocked', reason: 'Google unusual traffic (200)' });
            return;
        }
        expect(o.type).toBe('blocked');
        expect(o.reason).toContain(reason);
    });

    it.each([
        ['Sucuri JS challenge (503, no headers)', { statusCode: 503, body: "<html><title>You are being redirected...</title><script>var s={},u,c,U,r,i,l=0,a,e=eval,w=String.fromCharCode,sucuri_cloudproxy_js='',S='ej0n';</script></html>" }, 'Sucuri firewall'],
        [
            'Cloudflare Bot Fight Mode (503, empty page)',
            {
                statusCode: 503,
                body: "<html>\n\t<head>\n\t<script async src='/cdn-cgi/bm/cv/664825181/api.js'></script></head>\n\t<body>\n\t<script type=\"text/javascript\">(function(){window['__CF$cv$params']={r:'60aa',m:'53-1610003371-1800-AaU=',s:[0xf3,0xba],}})();</script></body>\n</html>\n",
            },
            'Cloudflare challenge',
        ],
        ['PerimeterX block served as 404', { statusCode: 404, body: page('Access to this page has been denied.', '<h1>Please verify you are a human</h1>') }, 'PerimeterX captcha'],
        ['custom "Access has been denied" served as 404', { statusCode: 404, body: page('RealSelf - Access has been denied', '<p>Sorry.</p>') }, 'soft block'],
        ['HAProxy deny page', { statusCode: 200, body: '<html><body><h1>403 Forbidden</h1>\nRequest forbidden by administrative rules.\n</body></html>' }, 'request denied'],
        ['AWS WAF bodiless 202', { statusCode: 202, body: '' }, 'AWS WAF challenge'],
        ['Google /sorry/ form without its text', { statusCode: 200, body: page('https://www.youtube.com/watch', '<form action="index" id="captcha-form" method="post"><div class="g-recaptcha" data-s="Sm2e"></div></form>') }, 'Google unusual traffic'],
    ])('%s', (_name, snapshot, reason) => {
        expect(classify(snapshot)).toMatchObject({ type: 'blocked', reason: expect.stringContaining(reason) });
    });

    it('a 202 with a body, and a 200 with an empty one, are fine', () => {
        expect(classify({ statusCode: 202, body: '{"queued":true}' }).type).toBe('ok');
        expect(classify({ statusCode: 200, body: '' }).type).toBe('ok');
    });

    it('Cloudflare error 1015 is a rate limit, though its title reads like a block', () => {
        const body = page('Access denied | shop.test used Cloudflare to restrict access', '<h1><span data-translate="error">Error</span><span>1015</span></h1><h2>You are being rate limited</h2>');
        expect(classify({ statusCode: 429, body }).type).toBe('rate-limited');
        expect(classify({ statusCode: 200, body })).toMatchObject({ type: 'rate-limited', reason: 'Cloudflare rate limit (200)' });
    });

    it('a page titled "429" is rate-limited', () => {
        expect(classify({ statusCode: 200, body: page('429', '<p>Slow down</p>') }).type).toBe('rate-limited');
    });

    it('finds markers at the end of a body longer than maxBodyChars, and searches at most maxBodyChars of it', () => {
        const filler = `<img src="data:image/jpeg;base64,${'A'.repeat(400_000)}">`;
        const challengeLast = `<html><head><title>Loading...</title></head><body>${filler}<form id="challenge-form" action="/cdn-cgi/l/chk_jschl"><input name="jschl_vc"></form></body></html>`;
        expect(classify({ statusCode: 200, body: challengeLast })).toMatchObject({ type: 'blocked', reason: 'Cloudflare challenge (200)' });
        // A marker in the middle of a huge body is outside the searched part (the work is bounded).
        const middle = `<html><body>${filler}<div id="challenge-running"></div>${filler}${longText}</body></html>`;
        expect(classify({ statusCode: 200, body: middle }).type).toBe('ok');
        expect(classify({ statusCode: 200, body: middle }, { maxBodyChars: 2_000_000 }).type).toBe('blocked');
    });

    it('a too-many-requests page is rate-limited', () => {
        expect(classify({ statusCode: 200, body: page('Too Many Requests') }).type).toBe('rate-limited');
    });

    it('does not flag good pages that merely embed a captcha or mention blocking', () => {
        const login = page('Log in - Shop', `<form><input name="user"><div class="g-recaptcha" data-sitekey="k"></div></form>${longText}`);
        expect(classify({ statusCode: 200, body: login }).type).toBe('ok');
        const article = page('How CDNs work', `${longText}<p>Sometimes you will see an "Access denied" page.</p>${longText}`);
        expect(classify({ statusCode: 200, body: article }).type).toBe('ok');
        const cfNormal = page('Shop', `<h1>Shop</h1>${longText}<script src="/cdn-cgi/challenge-platform/scripts/jsd/main.js"></script>`);
        expect(classify({ statusCode: 200, body: cfNormal, headers: { server: 'cloudflare' } }).type).toBe('ok');
        // Small login pages with a captcha widget (no long text around them) are still login pages.
        const smallLogin = page('Sign in - Shop', '<form><input type="email" name="user"><input type="password" name="pw"><div class="g-recaptcha" data-sitekey="k"></div><p>Protected by reCAPTCHA. Are you a robot? We check.</p></form><script src="https://www.google.com/recaptcha/api.js"></script>');
        expect(classify({ statusCode: 200, body: smallLogin }).type).toBe('ok');
        const spaLogin = page('Sign In | Accounts', '<div id="root"></div><script src="https://js.hcaptcha.com/1/api.js"></script>');
        expect(classify({ statusCode: 200, body: spaLogin }).type).toBe('ok');
        // Every page of an Incapsula-protected site loads its script; only the incident iframe is a block.
        const incapsulaNormal = page('Hotels', `<script src="/_Incapsula_Resource?SWJIYLWA=719d34d31c8e3a6e6fffd425f7e032f3"></script><h1>Rooms</h1>`);
        expect(classify({ statusCode: 200, body: incapsulaNormal }).type).toBe('ok');
    });

    it('custom markers and disabled built-ins', () => {
        const body = page('Welcome', '<div id="please-login-wall"></div>' + longText);
        expect(classify({ statusCode: 200, body }, { markers: [{ name: 'login wall', body: /please-login-wall/ }] })).toMatchObject({
            type: 'blocked',
            reason: 'login wall (200)',
        });
        expect(classify({ statusCode: 200, body: page('Access denied') }, { disableMarkers: ['soft block'] }).type).toBe('ok');
    });
});

describe('classify: errors', () => {
    const err = (message: string, code?: string, name = 'RequestError') => Object.assign(new Error(message), { code, name });

    it('connection refused/reset to the proxy is a proxy failure', () => {
        const proxyUrl = 'http://u:p@127.0.0.11:8001';
        expect(classify({ error: err('connect ECONNREFUSED 127.0.0.11:8001', 'ECONNREFUSED') }, { proxyUrl }).type).toBe('proxy-failure');
        expect(classify({ error: err('socket hang up', 'ECONNRESET') }, { usingProxy: true }).type).toBe('proxy-failure');
        // The same error to another address (not the proxy) is the target's.
        expect(classify({ error: err('connect ECONNREFUSED 10.0.0.5:443', 'ECONNREFUSED') }, { proxyUrl }).type).toBe('target-error');
        // Without a proxy it is the target's too.
        expect(classify({ error: err('connect ECONNREFUSED 127.0.0.1:80', 'ECONNREFUSED') }).type).toBe('target-error');
    });

    it.each([
        'Proxy responded with 407 Proxy Authentication Required: s',
        'Proxy responded with 595 Connection Reset',
        'net::ERR_PROXY_CONNECTION_FAILED at https://shop.test/',
        'net::ERR_TUNNEL_CONNECTION_FAILED at https://shop.test/',
        'NS_ERROR_PROXY_CONNECTION_REFUSED',
        'tunneling socket could not be established, statusCode=502',
        'Error: tunneling socket could not be established, cause=getaddrinfo ENOTFOUND undefined undefined:80',
        'The proxy server rejected the request with status code 502 (Bad Gateway)',
        'Failed to establish a tunnel',
    ])('"%s" is a proxy failure', (message) => {
        // (This test used to rewrite "socket could not be established" into "connection failed": the real wording failed.)
        const o = classify({ error: err(message) });
        expect(o.type).toBe('proxy-failure');
    });

    it('a 5xx whose whole body is a proxy\'s error is the proxy\'s failure, through a proxy only', () => {
        expect(classify({ statusCode: 500, body: 'error in proxy request' }, { usingProxy: true })).toMatchObject({ type: 'proxy-failure', statusCode: 500 });
        expect(classify({ statusCode: 500, body: 'error in proxy request' }).type).toBe('target-error');
        expect(classify({ statusCode: 500, body: page('Error', `<p>error in proxy request</p>${longText}`) }, { usingProxy: true }).type).toBe('target-error');
    });

    it('timeouts and other errors are target errors', () => {
        expect(classify({ error: err('Timeout awaiting \'request\' for 30000ms', 'ETIMEDOUT', 'TimeoutError') })).toMatchObject({
            type: 'target-error',
        });
        expect(classify({ error: err('Navigation timeout of 30000 ms exceeded', undefined, 'TimeoutError') }).reason).toMatch(/^timeout/);
        expect(classify({ error: new Error('boom') })).toMatchObject({ type: 'target-error', reason: 'boom' });
    });

    it('redacts proxy credentials in reasons', () => {
        const o = classify({ error: err('Proxy responded with 407 for http://alice:hunter2@127.0.0.11:8001') });
        expect(o.reason).not.toContain('hunter2');
        expect(o.reason).toContain('alice:***@');
    });
});
