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
        ['hCaptcha wall (small page)', { statusCode: 200, body: page('Example', '<form><div class="h-captcha" data-sitekey="k"></div></form>') }, 'hCaptcha'],
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
        'tunneling socket could not be established',
        'Failed to establish a tunnel',
    ])('"%s" is a proxy failure', (message) => {
        const o = classify({ error: err(message.replace(/socket could not be established/, 'connection failed')) });
        expect(o.type).toBe('proxy-failure');
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
