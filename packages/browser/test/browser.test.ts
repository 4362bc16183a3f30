import { Session } from '@crawlee/core';
import { EventEmitter } from 'node:events';
import { accessSync, constants } from 'node:fs';
import fc from 'fast-check';
import { mulberry32 } from '@sessionpack/proving-ground';
import { describe, expect, it } from 'vitest';

import {
    browserWideHeaders,
    chromiumLaunchArgs,
    mergeFeatureSwitches,
    PageRoutes,
    tokenOf,
    jarToBrowserCookies,
    resolveChromiumPath,
    saveBrowserCookies,
    SessionFingerprints,
    userAgentMetadata,
    windowViewport,
    withChromiumIdentities,
    hostOperatingSystem,
    BROWSER_UI_HEIGHT,
} from '../src/index.js';
import { windowInScreen } from '../src/viewport.js';

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
        expect(resolveChromiumPath({ CHROMIUM_PATH: '  ' })).toBe(resolveChromiumPath({}));
        let systemChromium = true;
        try {
            accessSync('/usr/bin/chromium', constants.X_OK);
        } catch {
            systemChromium = false;
        }
        expect(resolveChromiumPath({})).toBe(systemChromium ? '/usr/bin/chromium' : undefined);
    });
});

describe('chromiumLaunchArgs', () => {
    it('adds what is missing and keeps what the user gave', () => {
        const args = chromiumLaunchArgs(['--disable-dev-shm-usage', '--lang=de']);
        expect(args.filter((a) => a === '--disable-dev-shm-usage')).toHaveLength(1);
        expect(args).toContain('--disable-background-networking');
        expect(args).toContain('--lang=de');
        expect(args).toContain('--disable-blink-features=AutomationControlled');
        expect(chromiumLaunchArgs(['--disable-blink-features=Foo'])).toContain('--disable-blink-features=Foo,AutomationControlled');
        const asRoot = process.getuid?.() === 0;
        expect(chromiumLaunchArgs([], { noSandboxAsRoot: true }).includes('--no-sandbox')).toBe(asRoot);
        expect(chromiumLaunchArgs([]).includes('--no-sandbox')).toBe(false);
    });

    it('turns off the spare renderer and the back/forward cache for kept tabs, merged into a --disable-features given', () => {
        const plain = chromiumLaunchArgs([]);
        expect(plain.some((a) => a.startsWith('--disable-features='))).toBe(false);
        expect(plain).not.toContain('--disable-back-forward-cache');
        const kept = chromiumLaunchArgs([], { keptTabs: true });
        expect(kept).toContain('--disable-features=SpareRendererForSitePerProcess');
        expect(kept).toContain('--disable-back-forward-cache');
        // Chromium takes the last --disable-features only: one flag, the user's features and ours.
        const merged = chromiumLaunchArgs(['--disable-features=Translate', '--disable-back-forward-cache'], { keptTabs: true });
        expect(merged.filter((a) => a.startsWith('--disable-features='))).toEqual(['--disable-features=Translate,SpareRendererForSitePerProcess']);
        expect(merged.filter((a) => a === '--disable-back-forward-cache')).toHaveLength(1);
        expect(chromiumLaunchArgs(['--disable-features=SpareRendererForSitePerProcess'], { keptTabs: true }).filter((a) => a.includes('SpareRenderer'))).toEqual([
            '--disable-features=SpareRendererForSitePerProcess',
        ]);
    });
});

describe('mergeFeatureSwitches', () => {
    // What Playwright puts first (abridged), then the user's flags: Chromium takes only the last of each switch.
    const DEFAULTS = ['--disable-field-trial-config', '--disable-features=PaintHolding,HttpsUpgrades,MediaRouter', '--enable-features=CDPScreenshotNewSurface'];
    const features = (args: readonly string[], flag: string) => args.filter((a) => a.startsWith(`${flag}=`)).flatMap((a) => a.slice(flag.length + 1).split(','));

    it("puts the user's features after the library's in one switch and replaces the library's", () => {
        const { args, replaced } = mergeFeatureSwitches(DEFAULTS, chromiumLaunchArgs(['--lang=de'], { keptTabs: true }));
        expect(args.filter((a) => a.startsWith('--disable-features='))).toEqual(['--disable-features=PaintHolding,HttpsUpgrades,MediaRouter,SpareRendererForSitePerProcess']);
        expect(args).toContain('--lang=de');
        // The library's enable list is not touched when the user gave none.
        expect(args.some((a) => a.startsWith('--enable-features='))).toBe(false);
        expect(replaced).toEqual(['--disable-features=PaintHolding,HttpsUpgrades,MediaRouter']);
    });

    it('leaves the library alone when the user gives no feature switch', () => {
        expect(mergeFeatureSwitches(DEFAULTS, ['--lang=de'])).toEqual({ args: ['--lang=de'], replaced: [] });
        // Without a library switch of that kind, the user's own are merged into one.
        expect(mergeFeatureSwitches([], ['--disable-features=A', '--x', '--disable-features=B,A'])).toEqual({ args: ['--disable-features=A,B', '--x'], replaced: [] });
    });

    it("lets the user's enable win over the library's disable, and the other way round", () => {
        const { args, replaced } = mergeFeatureSwitches(DEFAULTS, ['--enable-features=PaintHolding:delay/0,Foo', '--disable-features=CDPScreenshotNewSurface']);
        expect(features(args, '--disable-features')).toEqual(['HttpsUpgrades', 'MediaRouter', 'CDPScreenshotNewSurface']);
        expect(args).not.toContain('--enable-features=CDPScreenshotNewSurface,PaintHolding:delay/0,Foo');
        expect(features(args, '--enable-features')).toEqual(['PaintHolding:delay/0', 'Foo']);
        expect(replaced).toEqual(DEFAULTS.slice(1));
        // Only an overruled library feature: the library's switch is replaced, none of that kind was given.
        const only = mergeFeatureSwitches(DEFAULTS, ['--enable-features=MediaRouter']);
        expect(only.args).toContain('--disable-features=PaintHolding,HttpsUpgrades');
        expect(only.replaced).toContain('--disable-features=PaintHolding,HttpsUpgrades,MediaRouter');
    });

    it('turns off the omnibox popup WebUI with noBrowserUi, next to the spare renderer, unless the user enables one', () => {
        const both = chromiumLaunchArgs(['--disable-features=Translate'], { keptTabs: true, noBrowserUi: true });
        expect(both.filter((a) => a.startsWith('--disable-features='))).toEqual(['--disable-features=Translate,SpareRendererForSitePerProcess,WebUIOmniboxPopup,WebUIOmniboxAimPopup']);
        const enabled = chromiumLaunchArgs(['--enable-features=WebUIOmniboxPopup'], { noBrowserUi: true });
        expect(enabled.filter((a) => a.startsWith('--disable-features='))).toEqual(['--disable-features=WebUIOmniboxAimPopup']);
        expect(chromiumLaunchArgs([], { keptTabs: true }).filter((a) => a.includes('Omnibox'))).toEqual([]);
    });

    it('keeps the spare renderer when the user enables it', () => {
        const args = chromiumLaunchArgs(['--enable-features=SpareRendererForSitePerProcess'], { keptTabs: true });
        expect(args.some((a) => a.startsWith('--disable-features='))).toBe(false);
        const merged = mergeFeatureSwitches(DEFAULTS, args);
        expect(merged.args.filter((a) => a.startsWith('--disable-features='))).toEqual([]);
        expect(merged.args).toContain('--enable-features=CDPScreenshotNewSurface,SpareRendererForSitePerProcess');
    });

    it("ends with at most one switch of each kind, every feature of the user's and the library's not overruled (seeded)", () => {
        const feature = fc.constantFrom('A', 'B', 'C', 'D', 'PaintHolding', 'MediaRouter', 'CDPScreenshotNewSurface');
        const flag = fc.oneof(
            fc.array(feature, { minLength: 1, maxLength: 3 }).map((f) => `--disable-features=${f.join(',')}`),
            fc.array(feature, { minLength: 1, maxLength: 3 }).map((f) => `--enable-features=${f.join(',')}`),
            fc.constantFrom('--lang=de', '--no-first-run'),
        );
        fc.assert(
            fc.property(fc.array(flag, { maxLength: 6 }), (userArgs) => {
                const { args, replaced } = mergeFeatureSwitches(DEFAULTS, userArgs);
                // What Chromium would see: the library's switches not replaced, then ours.
                const commandLine = [...DEFAULTS.filter((a) => !replaced.includes(a)), ...args];
                const last = (kind: string) => [...commandLine].reverse().find((a) => a.startsWith(`${kind}=`));
                const effective = (kind: string) => new Set(last(kind)?.slice(kind.length + 1).split(',') ?? []);
                for (const [kind, other] of [
                    ['--disable-features', '--enable-features'],
                    ['--enable-features', '--disable-features'],
                ] as const) {
                    expect(args.filter((a) => a.startsWith(`${kind}=`)).length).toBeLessThanOrEqual(1);
                    const userOther = new Set(features(userArgs, other));
                    const userOwn = new Set(features(userArgs, kind));
                    for (const f of userOwn) expect(effective(kind).has(f)).toBe(true);
                    // A library feature the user switched the other way is left out (unless they also listed it here).
                    for (const f of features(DEFAULTS, kind)) expect(effective(kind).has(f)).toBe(userOwn.has(f) || !userOther.has(f));
                }
                for (const a of userArgs.filter((x) => !x.includes('-features='))) expect(args).toContain(a);
            }),
            { seed: 7, numRuns: 400 },
        );
    }, 20_000);
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
        // A Chrome user agent the network knows: client hints that match it.
        const meta = userAgentMetadata(fp) as { brands: { brand: string; version: string }[]; platform: string } | undefined;
        expect(meta?.brands.some((b) => b.brand === 'Google Chrome' && b.version === '124')).toBe(true);
        expect(meta?.platform).toBe('Windows');
    });

    it('keeps the fingerprint with the session, and gives a kept one back without generating another', () => {
        const identity = { userAgent: CHROME_HEADERS['user-agent'], headers: CHROME_HEADERS };
        const kept: unknown[] = [];
        const session = { identity, setFingerprint: (fp: never) => void kept.push(fp) };
        const fp = new SessionFingerprints().for(session);
        expect(kept).toHaveLength(1);
        expect(kept[0]).toEqual(JSON.parse(JSON.stringify(fp.fingerprint)));
        // After a restart: a new session object (from the store) with the kept fingerprint gets exactly that one.
        const restored = { identity: { ...identity, fingerprint: kept[0] as Record<string, unknown> }, setFingerprint: (f: never) => void kept.push(f) };
        const again = new SessionFingerprints().for(restored);
        expect(again.fingerprint).toEqual(kept[0]);
        expect(again.headers['user-agent']).toBe(identity.userAgent);
        expect(kept).toHaveLength(1);
    });

    it("fits a kept fingerprint's window to its screen: no inner size for the injector to report, outer size within the screen", () => {
        const identity = { userAgent: CHROME_HEADERS['user-agent'], headers: CHROME_HEADERS };
        const base = new SessionFingerprints().generate(identity).fingerprint;
        // One of fingerprint-generator's samples (about 1 in 3,000): a window wider than its screen.
        const quirk = { ...base, screen: { ...base.screen, width: 1536, height: 864, innerWidth: 1920, innerHeight: 902, outerWidth: 2304, outerHeight: 915 } };
        const fp = new SessionFingerprints().for({ identity: { ...identity, fingerprint: quirk as unknown as Record<string, unknown> } });
        expect(fp.fingerprint.screen).toMatchObject({ width: 1536, height: 864, innerWidth: 0, innerHeight: 0, outerWidth: 1536, outerHeight: 864 });
        expect(windowViewport(fp.fingerprint)).toEqual({ width: 1536, height: 864 - BROWSER_UI_HEIGHT });
        // A window that fits is kept as it is.
        const fits = { ...base, screen: { ...base.screen, width: 1920, height: 1080, innerWidth: 0, innerHeight: 0, outerWidth: 1920, outerHeight: 1032 } };
        expect(new SessionFingerprints().for({ identity: { ...identity, fingerprint: fits as unknown as Record<string, unknown> } }).fingerprint).toBe(fits);
    });

    it('fits every window to its screen and keeps what already fits (seeded)', () => {
        const base = new SessionFingerprints().generate({ userAgent: CHROME_HEADERS['user-agent'], headers: CHROME_HEADERS }).fingerprint;
        const size = fc.integer({ min: 0, max: 9000 });
        fc.assert(
            fc.property(fc.integer({ min: 1, max: 8000 }), fc.integer({ min: 1, max: 8000 }), size, size, size, size, (width, height, innerWidth, innerHeight, outerWidth, outerHeight) => {
                const fp = { ...base, screen: { ...base.screen, width, height, innerWidth, innerHeight, outerWidth, outerHeight } };
                const { screen } = windowInScreen(fp);
                expect(screen.innerWidth).toBe(0);
                expect(screen.innerHeight).toBe(0);
                expect(screen.outerWidth).toBe(Math.min(outerWidth, width));
                expect(screen.outerHeight).toBe(Math.min(outerHeight, height));
                expect(screen.width).toBe(width);
                if (innerWidth === 0 && innerHeight === 0 && outerWidth <= width && outerHeight <= height) expect(windowInScreen(fp)).toBe(fp);
            }),
            { seed: 23, numRuns: 500 },
        );
    }, 20_000);

    it('keeps the identity user agent even when the fingerprint network does not know it', () => {
        const ua = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/999.0.0.0 Safari/537.36 Sessionpack/1';
        const fp = new SessionFingerprints().generate({ userAgent: ua, headers: { 'user-agent': ua } });
        expect(fp.fingerprint.navigator.userAgent).toBe(ua);
    });

    it('keeps screens within fingerprintGeneratorOptions.screen, for the identity\'s user agent', () => {
        const fingerprints = new SessionFingerprints({ fingerprintGeneratorOptions: { screen: { maxWidth: 1440, maxHeight: 900 } } });
        const identity = { userAgent: CHROME_HEADERS['user-agent'], headers: CHROME_HEADERS };
        const screens = Array.from({ length: 25 }, () => fingerprints.generate(identity).fingerprint);
        for (const fp of screens) {
            expect(fp.screen.width).toBeLessThanOrEqual(1440);
            expect(fp.screen.height).toBeLessThanOrEqual(900);
            expect(fp.navigator.userAgent).toBe(identity.userAgent);
        }
        // Without limits the same identity gets larger screens too (1920x1080 is the most common).
        const unlimited = new SessionFingerprints();
        expect(Array.from({ length: 60 }, () => unlimited.generate(identity).fingerprint.screen.width).some((w) => w > 1440)).toBe(true);
    }, 60_000);

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

describe('windowViewport', () => {
    const fingerprintWith = (screen: Record<string, number>) => ({ screen }) as never;

    it('is the window inner size: its outer width, its outer height less the browser UI, within the screen', () => {
        expect(windowViewport(fingerprintWith({ width: 1920, height: 1080, outerWidth: 1920, outerHeight: 1032 }))).toEqual({
            width: 1920,
            height: 1032 - BROWSER_UI_HEIGHT,
        });
        expect(windowViewport(fingerprintWith({ width: 1920, height: 1080, outerWidth: 654, outerHeight: 1039 }))).toEqual({ width: 654, height: 1039 - BROWSER_UI_HEIGHT });
        // A window larger than its screen (a sample's quirk): clipped to the screen.
        expect(windowViewport(fingerprintWith({ width: 1280, height: 720, outerWidth: 1300, outerHeight: 800 }))).toEqual({ width: 1280, height: 720 - BROWSER_UI_HEIGHT });
    });

    it('falls back to the whole screen when the fingerprint has no usable window size', () => {
        expect(windowViewport(fingerprintWith({ width: 1366, height: 768, outerWidth: 0, outerHeight: 0 }))).toEqual({ width: 1366, height: 768 });
        expect(windowViewport(fingerprintWith({ width: 1366, height: 768 }))).toEqual({ width: 1366, height: 768 });
        expect(windowViewport(fingerprintWith({ width: 1366, height: 768, outerWidth: 1366, outerHeight: 120 }))).toEqual({ width: 1366, height: 768 });
    });

    it('never exceeds the screen, and leaves the page less height than the window (seeded)', () => {
        fc.assert(
            fc.property(
                fc.integer({ min: 1, max: 8000 }),
                fc.integer({ min: 1, max: 8000 }),
                fc.integer({ min: 0, max: 9000 }),
                fc.integer({ min: 0, max: 9000 }),
                (width, height, outerWidth, outerHeight) => {
                    const v = windowViewport(fingerprintWith({ width, height, outerWidth, outerHeight }));
                    expect(Number.isInteger(v.width) && Number.isInteger(v.height)).toBe(true);
                    expect(v.width).toBeLessThanOrEqual(width);
                    expect(v.height).toBeLessThanOrEqual(height);
                    const fromWindow = v.width !== width || v.height !== height;
                    if (fromWindow) {
                        expect(v.width).toBeLessThanOrEqual(outerWidth);
                        expect(v.height).toBe(Math.min(outerHeight, height) - BROWSER_UI_HEIGHT);
                    }
                },
            ),
            { seed: 12, numRuns: 500 },
        );
    }, 20_000);
});

describe('page routes', () => {
    it('route a page to its target once, and nothing else', () => {
        const routes = new PageRoutes<string>();
        const a = routes.add('session a');
        const b = routes.add('session b');
        expect(a).not.toBe(b);
        expect(new URL(a).hostname).toMatch(/\.sessionpack\.invalid$/);
        // Crawlee hands the proxy on as `protocol//host` (Playwright) or as given (Puppeteer).
        expect(routes.take(`${new URL(b).protocol}//${new URL(b).host}`)).toBe('session b');
        expect(routes.take(b)).toBeUndefined();
        expect(routes.take('http://proxy.example:8000')).toBeUndefined();
        expect(routes.take(undefined)).toBeUndefined();
        expect(tokenOf('http://user:pw@shop.test:80')).toBeUndefined();
        routes.drop((t) => t === 'session a');
        expect(routes.size).toBe(0);
        expect(routes.take(a)).toBeUndefined();
    });
});

describe('browser options', () => {
    it('refuses a bad maxIdleContexts or initBrowserIdleSecs at construction, naming the option', async () => {
        const { BrowserSessions } = await import('../src/index.js');
        const driver = {} as never;
        expect(() => new BrowserSessions({ store: false }, driver, { maxIdleContexts: -1 })).toThrow(/maxIdleContexts/);
        expect(() => new BrowserSessions({ store: false }, driver, { maxIdleContexts: 1.5 })).toThrow(/maxIdleContexts/);
        expect(() => new BrowserSessions({ store: false }, driver, { initBrowserIdleSecs: -2 })).toThrow(/initBrowserIdleSecs/);
        expect(() => new BrowserSessions({ store: false }, driver, { maxIdleContexts: 0 })).not.toThrow();
        expect(() => new BrowserSessions({ store: false }, driver, { maxKeptTabs: -1 })).toThrow(/maxKeptTabs/);
        expect(() => new BrowserSessions({ store: false }, driver, { maxKeptTabs: 2.5 })).toThrow(/maxKeptTabs/);
        expect(() => new BrowserSessions({ store: false }, driver, { maxKeptTabs: 0 })).not.toThrow();
    });
});

describe('identities of sessions a browser adapter opens', () => {
    it("are Crawlee's default fingerprint options: desktop Chrome on the host's operating system, en-US", async () => {
        expect(hostOperatingSystem('linux')).toBe('linux');
        expect(hostOperatingSystem('win32')).toBe('windows');
        expect(hostOperatingSystem('darwin')).toBe('macos');
        expect(hostOperatingSystem('freebsd')).toBe('linux');
        const options = withChromiumIdentities({ store: false, statsIntervalSecs: 0 }) as { headerGeneratorOptions?: unknown };
        expect(options.headerGeneratorOptions).toEqual({ devices: ['desktop'], locales: ['en-US'], browsers: ['chrome'], operatingSystems: [hostOperatingSystem()] });
        // What the user chose stays; no operating system is forced on devices the user picked.
        expect((withChromiumIdentities({ headerGeneratorOptions: { browsers: ['edge'], locales: ['de-DE'] } }) as typeof options).headerGeneratorOptions).toEqual({
            devices: ['desktop'],
            locales: ['de-DE'],
            browsers: ['edge'],
            operatingSystems: [hostOperatingSystem()],
        });
        expect((withChromiumIdentities({ headerGeneratorOptions: { devices: ['mobile'] } }) as typeof options).headerGeneratorOptions).toEqual({
            devices: ['mobile'],
            locales: ['en-US'],
            browsers: ['chrome'],
        });
        // The identities made with them are Chrome user agents of the host's operating system.
        const { IdentityFactory } = await import('@sessionpack/core');
        const factory = new IdentityFactory({ headerGeneratorOptions: options.headerGeneratorOptions as never, variants: 16, random: mulberry32(5) });
        const agents = new Set(Array.from({ length: 32 }, () => factory.create(undefined).userAgent));
        expect(agents.size).toBeGreaterThan(1);
        const osToken = { linux: 'Linux', windows: 'Windows', macos: 'Mac OS X' }[hostOperatingSystem()];
        for (const ua of agents) {
            expect(ua).toContain('Chrome/');
            expect(ua).not.toMatch(/Edg\/|Firefox\/|Version\/[\d.]+ Safari/);
            expect(ua).toContain(osToken);
        }
    }, 20_000);
});
