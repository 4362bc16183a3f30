import { Session } from '@crawlee/core';
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';

import {
    browserWideHeaders,
    chromiumLaunchArgs,
    jarToBrowserCookies,
    resolveChromiumPath,
    saveBrowserCookies,
    SessionFingerprints,
    userAgentMetadata,
} from '../src/index.js';

const CHROME_HEADERS = {
    'sec-ch-ua': '"Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"',
    'sec-ch-ua-mobile': '?0',
    'sec-ch-ua-platform': '"Windows"',
    'upgrade-insecure-requests': '1',
    'user-agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
    accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
    'sec-fetch-site': 'none',
    'accept-encoding': 'gzip, deflate, br',
    'accept-language': 'de-DE,de;q=0.9,en;q=0.8',
};

function newSession() {
    return new Session({ sessionPool: new EventEmitter() as never });
}

describe('resolveChromiumPath', () => {
    it('prefers $CHROMIUM_PATH, then /usr/bin/chromium when it exists, then nothing', () => {
        expect(resolveChromiumPath({ CHROMIUM_PATH: '/opt/chrome/chrome' })).toBe('/opt/chrome/chrome');
        const fallback = resolveChromiumPath({});
        expect(fallback === '/usr/bin/chromium' || fallback === undefined).toBe(true);
    });
});

describe('chromiumLaunchArgs', () => {
    it('adds what is missing and keeps what the user gave', () => {
        const args = chromiumLaunchArgs(['--disable-dev-shm-usage', '--lang=de']);
        expect(args.filter((a) => a === '--disable-dev-shm-usage')).toHaveLength(1);
        expect(args).toContain('--disable-background-networking');
        expect(args).toContain('--lang=de');
        const asRoot = process.getuid?.() === 0;
        expect(chromiumLaunchArgs([], { noSandboxAsRoot: true }).includes('--no-sandbox')).toBe(asRoot);
        expect(chromiumLaunchArgs([]).includes('--no-sandbox')).toBe(false);
    });
});

describe('cookies between a jar and a browser', () => {
    it('round-trips host-only and domain cookies, drops expired ones', () => {
        const a = newSession();
        a.cookieJar.setCookieSync('sid=1; Path=/', 'http://shop.test/');
        a.cookieJar.setCookieSync('loc=DE; Domain=shop.test; Path=/; Max-Age=3600; HttpOnly', 'http://shop.test/');
        const cookies = jarToBrowserCookies(a);
        expect(cookies).toEqual(
            expect.arrayContaining([
                expect.objectContaining({ name: 'sid', value: '1', domain: 'shop.test', path: '/' }),
                expect.objectContaining({ name: 'loc', value: 'DE', domain: '.shop.test', httpOnly: true }),
            ]),
        );
        expect(cookies.find((c) => c.name === 'loc')!.expires).toBeGreaterThan(Date.now() / 1000);

        const b = newSession();
        const saved = saveBrowserCookies(b, [
            { name: 'sid', value: '1', domain: 'shop.test', path: '/', expires: -1 },
            { name: 'loc', value: 'DE', domain: '.shop.test', path: '/', expires: Math.floor(Date.now() / 1000) + 60 },
            { name: 'other', value: 'x', domain: 'news.test', path: '/', expires: -1 },
        ]);
        expect(saved).toBe(3);
        expect(b.getCookieString('http://shop.test/p')).toContain('sid=1');
        expect(b.getCookieString('http://sub.shop.test/p')).toBe('loc=DE');
        expect(b.getCookieString('http://news.test/')).toBe('other=x');
        expect(jarToBrowserCookies(b).find((c) => c.name === 'sid')!.domain).toBe('shop.test');
    });
});

describe('SessionFingerprints', () => {
    it('makes a fingerprint for the identity: same user agent, its languages, its headers', () => {
        const fingerprints = new SessionFingerprints();
        const session = { identity: { userAgent: CHROME_HEADERS['user-agent'], headers: CHROME_HEADERS } };
        const fp = fingerprints.for(session);
        expect(fp.fingerprint.navigator.userAgent).toBe(CHROME_HEADERS['user-agent']);
        expect(fp.fingerprint.navigator.languages[0]).toBe('de-DE');
        expect(fp.headers['user-agent']).toBe(CHROME_HEADERS['user-agent']);
        expect(fingerprints.for(session)).toBe(fp);
        // Two sessions with one identity still get fingerprints of their own.
        expect(fingerprints.for({ identity: session.identity })).not.toBe(fp);
        const meta = userAgentMetadata(fp);
        if (meta) expect(meta).toHaveProperty('brands');
    });

    it('keeps the identity user agent even when the fingerprint network does not know it', () => {
        const ua = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/999.0.0.0 Safari/537.36 Sessionpack/1';
        const fp = new SessionFingerprints().generate({ userAgent: ua, headers: { 'user-agent': ua } });
        expect(fp.fingerprint.navigator.userAgent).toBe(ua);
    });

    it('sends only browser-wide headers on every request', () => {
        const headers = browserWideHeaders(CHROME_HEADERS);
        expect(headers).toHaveProperty('user-agent');
        expect(headers).toHaveProperty('sec-ch-ua');
        expect(headers).toHaveProperty('accept-language');
        expect(headers).not.toHaveProperty('accept');
        expect(headers).not.toHaveProperty('sec-fetch-site');
        expect(headers).not.toHaveProperty('upgrade-insecure-requests');
    });
});
