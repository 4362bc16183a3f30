/**
 * The integration suite both browser adapters must pass, written once: real Chromium, real proxy-chain proxies (the
 * proving ground's farm), and every assertion made on what the site and the proxies saw (`pg.stats()`), or on the
 * browser side (contexts, processes), never by reading the crawler's context back.
 */
import { execFileSync } from 'node:child_process';

import { Configuration, log, LogLevel, ProxyConfiguration } from '@crawlee/core';
import { chromiumLaunchArgs, resolveChromiumPath } from '@sessionpack/browser';
import { SessionManager, type SessionManagerOptions } from '@sessionpack/core';
import { BEACON_PATH, mulberry32, type ProvingGround, type RequestLogEntry, SESSION_COOKIE, startProvingGround } from '@sessionpack/proving-ground';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** Text the proving ground's `/js` page only has once its script ran. */
const JS_RENDERED_TEXT = 'Rendered by JavaScript: 42 deals today';
const BLOCKED_KINDS = new Set(['forbidden', 'soft-block', 'challenge', 'captcha']);

type AnyCrawler = { run(requests: string[]): Promise<unknown> };
type CrawlerClass = new (options: any, config?: Configuration) => AnyCrawler;

export interface AdapterUnderTest {
    name: string;
    Crawler: CrawlerClass;
    withSessions(crawlerOptions: any, sessions: SessionManager | SessionManagerOptions, options?: { maxIdleContexts?: number }): any;
    /** Browser contexts open in the page's browser (its default context not counted). */
    countContexts(page: any): Promise<number>;
    /** The same, synchronously (as the library knows it right now). */
    countContextsNow(page: any): number;
    /** Tabs open in the page's browser, in its sessions' contexts (the default context's not counted). */
    countTabs(page: any): Promise<number>;
    /** The browser context the page is in (an object that is the same for every page of that context). */
    contextOf(page: any): object;
    /** Chooses `location` in the site's location form on `page` (already on the form) and submits it. */
    submitLocation(page: any, location: string): Promise<void>;
    /** `--no-sandbox` when running as root for the stock crawler (Puppeteer). */
    noSandboxAsRoot?: boolean;
}

/** Main browser processes (not renderers or helpers) among this process's descendants. */
function liveBrowserProcesses(): number {
    const rows = execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' })
        .split('\n')
        .map((line) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), args: m[3]! }));
    const children = new Map<number, typeof rows>();
    for (const row of rows) children.set(row.ppid, [...(children.get(row.ppid) ?? []), row]);
    let count = 0;
    const isBrowser = (args: string) => args.startsWith('/') && /chrom/i.test(args.split(' ')[0]!) && !args.includes('--type=');
    const stack = [{ pid: process.pid, browser: false }];
    while (stack.length) {
        const parent = stack.pop()!;
        for (const child of children.get(parent.pid) ?? []) {
            // The browser's main process: its executable, without --type= (renderers, GPU, zygotes have one). A child of
            // a browser with the browser's own command line is a copy between its fork and its exec (a GPU or utility
            // process being started), not a browser.
            const browser = isBrowser(child.args) && !parent.browser;
            stack.push({ pid: child.pid, browser: isBrowser(child.args) });
            if (browser) {
                if (process.env.SUITE_DEBUG) console.log('browser process', child.pid, child.args.slice(0, 120));
                count++;
            }
        }
    }
    return count;
}

async function waitForAsync(predicate: () => Promise<boolean>, timeoutMillis: number): Promise<boolean> {
    const until = Date.now() + timeoutMillis;
    while (Date.now() < until) {
        if (await predicate()) return true;
        await new Promise((r) => setTimeout(r, 100));
    }
    return predicate();
}

async function waitFor(predicate: () => boolean, timeoutMillis: number): Promise<boolean> {
    const until = Date.now() + timeoutMillis;
    while (Date.now() < until) {
        if (predicate()) return true;
        await new Promise((r) => setTimeout(r, 100));
    }
    return predicate();
}

/** Content requests of the log (the beacon excluded) for `host`. */
function contentRequests(pg: ProvingGround, host = pg.siteHost): RequestLogEntry[] {
    return pg.stats().requests.filter((r) => r.host === host && r.path !== BEACON_PATH);
}

function blockedShare(entries: RequestLogEntry[]): number {
    if (entries.length === 0) return 0;
    return entries.filter((r) => BLOCKED_KINDS.has(r.kind)).length / entries.length;
}

/** One crawled page's view of its `localStorage`: what it found, and what it stored if it found nothing. */
interface StoragePage {
    url: string;
    session: string;
    read: string | null;
    stored?: string;
}

/** Reads the visitor mark from the page's `localStorage`; the session's first page (none found) stores a new one. */
async function visitWithStorage(page: any, url: string, session: string): Promise<StoragePage> {
    const read = (await page.evaluate(() => localStorage.getItem('sp-visitor'))) as string | null;
    if (read !== null) return { url, session, read };
    const stored = `${session}-${Math.random().toString(36).slice(2)}`;
    await page.evaluate((value: string) => localStorage.setItem('sp-visitor', value), stored);
    return { url, session, read, stored };
}

/** Every session stored its mark once (on its first page) and each of its later pages read exactly that mark. */
function expectStorageKeptPerSession(pages: StoragePage[], sessions: number) {
    const bySession = new Map<string, StoragePage[]>();
    for (const p of pages) bySession.set(p.session, [...(bySession.get(p.session) ?? []), p]);
    expect(bySession.size).toBe(sessions);
    let later = 0;
    for (const [id, list] of bySession) {
        const stored = list.filter((p) => p.stored !== undefined);
        expect(stored, `session ${id} stored its mark more than once: its storage was lost`).toHaveLength(1);
        for (const p of list.filter((x) => x.read !== null)) {
            expect(p.read).toBe(stored[0]!.stored);
            later++;
        }
    }
    expect(later).toBe(pages.length - sessions);
    expect(later).toBeGreaterThan(0);
}

/** How many site session cookies (`sid`, as the site logged them) the pages of each crawler session carried. */
function sidsBySession(pages: StoragePage[], log: RequestLogEntry[]): Map<string, number> {
    const out = new Map<string, Set<string | undefined>>();
    for (const p of pages) {
        const entry = log.find((r) => r.path === new URL(p.url).pathname);
        out.set(p.session, new Set([...(out.get(p.session) ?? []), entry?.sid]));
    }
    return new Map([...out].map(([id, set]) => [id, set.size]));
}

/** The path a page's script reports its tab's `sessionStorage` mark with (what it found, and what it holds now). */
const TAB_REPORT = '/status/204?tab=';

/**
 * What a site's script would do: reads the tab's `sessionStorage` mark (storing a new one when there is none) and
 * reports both to the site, whose log then shows what each visit's tab remembered.
 */
async function reportTabStorage(page: any): Promise<void> {
    await page.evaluate(async (report: string) => {
        const found = sessionStorage.getItem('sp-tab');
        if (found === null) sessionStorage.setItem('sp-tab', Math.random().toString(36).slice(2));
        await fetch(`${report}${found ?? 'none'}&mark=${sessionStorage.getItem('sp-tab')}`);
    }, TAB_REPORT);
}

/** The site's view of the tab reports: per site session (cookie), in arrival order, what each tab found and held. */
function tabReportsBySid(log: RequestLogEntry[]): Map<string, { found: string; mark: string }[]> {
    const out = new Map<string, { found: string; mark: string }[]>();
    for (const r of log.filter((e) => e.path.startsWith(TAB_REPORT)).sort((a, b) => a.t - b.t)) {
        const query = new URLSearchParams(r.path.split('?')[1]);
        out.set(r.sid ?? '', [...(out.get(r.sid ?? '') ?? []), { found: query.get('tab')!, mark: query.get('mark')! }]);
    }
    return out;
}

/** What scripts see of the machine: screen, cores, memory, languages, WebGL renderer, user agent. */
async function fingerprintOf(page: any): Promise<string> {
    return page.evaluate(() => {
        const gl = document.createElement('canvas').getContext('webgl');
        const info = gl?.getExtension('WEBGL_debug_renderer_info');
        return [
            screen.width,
            screen.height,
            navigator.hardwareConcurrency,
            (navigator as { deviceMemory?: number }).deviceMemory,
            navigator.languages.join(','),
            info ? gl!.getParameter(info.UNMASKED_RENDERER_WEBGL) : '',
            navigator.userAgent,
        ].join('|');
    });
}

export function browserAdapterSuite(adapter: AdapterUnderTest): void {
    describe(`${adapter.name} with sessions (real Chromium, proving ground)`, () => {
        let pg: ProvingGround;
        const products = (from: number, count: number) => Array.from({ length: count }, (_, i) => `${pg.siteUrl}/product/${from + i}`);
        const goodProxies = () => pg.proxies.filter((p) => !p.banned && !p.challenged).map((p) => p.url);

        beforeAll(async () => {
            log.setLevel(process.env.SUITE_DEBUG ? LogLevel.INFO : LogLevel.OFF);
            pg = await startProvingGround({
                seed: 11,
                proxies: { count: 10 },
                site: {
                    categories: 6,
                    productsPerCategory: 10,
                    csrf: true,
                    // 40% of the farm soft-blocked (a 200 "unusual traffic" page), the first proxy among them: a
                    // stock browser crawler keeps all its pages on its first browser's proxy and never notices.
                    bans: { fraction: 0.4, ips: ['127.0.1.11'], response: 'soft-block' },
                    // And a fifth of the other IPs get an anti-bot challenge on every request.
                    challenges: { fraction: 0.2 },
                },
            });
        });

        afterAll(async () => {
            await pg?.close();
        });

        describe('a crawl through half-banned proxies', () => {
            const visits: {
                url: string;
                session: string;
                proxyIp?: string;
                ua: string;
                navigatorUa: string;
                fingerprint: string;
                /** The page's window as its scripts see it: inner and outer size, screen. */
                window: { innerWidth: number; innerHeight: number; outerWidth: number; outerHeight: number; screenWidth: number; screenHeight: number };
                rendered?: string | null;
            }[] = [];
            let maxContexts = 0;
            let maxBrowsers = 0;
            let manager: SessionManager;
            let sessionpackLog: RequestLogEntry[] = [];
            let stockLog: RequestLogEntry[] = [];

            beforeAll(async () => {
                manager = await SessionManager.open({
                    proxyUrls: [...pg.proxyUrls],
                    // maxUses 5: pools grow on demand now (issue 11), and one session could serve a short crawl alone;
                    // the identity checks below need several sessions.
                    pool: { size: 3, maxConcurrentUses: 1, maxUses: 5 },
                    store: false,
                    statsIntervalSecs: 0,
                    // Seeded: the first three sessions land on two soft-blocked proxies and a good one (unseeded, about 1
                    // crawl in 30 drew only good proxies and met no block to learn from).
                    random: mulberry32(1),
                });
                const ipOfProxy = new Map(pg.proxies.map((p) => [p.url, p.ip]));
                const sampler = setInterval(() => {
                    maxBrowsers = Math.max(maxBrowsers, liveBrowserProcesses());
                }, 250);
                const crawler = new adapter.Crawler(
                    adapter.withSessions(
                        {
                            maxConcurrency: 3,
                            maxRequestRetries: 8,
                            requestHandler: async ({ page, request, session }: any) => {
                                maxContexts = Math.max(maxContexts, await adapter.countContexts(page));
                                visits.push({
                                    url: request.url,
                                    proxyIp: ipOfProxy.get(session.identity.proxy?.url),
                                    ua: session.identity.userAgent,
                                    session: session.id,
                                    navigatorUa: await page.evaluate(() => navigator.userAgent),
                                    // What scripts see of the machine: screen, cores, memory, languages, WebGL vendor.
                                    fingerprint: await page.evaluate(() => {
                                        const gl = document.createElement('canvas').getContext('webgl');
                                        const info = gl?.getExtension('WEBGL_debug_renderer_info');
                                        return [
                                            screen.width,
                                            screen.height,
                                            navigator.hardwareConcurrency,
                                            (navigator as { deviceMemory?: number }).deviceMemory,
                                            navigator.languages.join(','),
                                            info ? gl!.getParameter(info.UNMASKED_RENDERER_WEBGL) : '',
                                        ].join('|');
                                    }),
                                    window: await page.evaluate(() => ({
                                        innerWidth: window.innerWidth,
                                        innerHeight: window.innerHeight,
                                        outerWidth: window.outerWidth,
                                        outerHeight: window.outerHeight,
                                        screenWidth: screen.width,
                                        screenHeight: screen.height,
                                    })),
                                    rendered: request.url.endsWith('/js')
                                        ? await page.$eval('#rendered', (el: Element) => el.textContent).catch(() => null)
                                        : undefined,
                                });
                            },
                        },
                        manager,
                    ),
                    new Configuration({ persistStorage: false }),
                );
                const t0 = Date.now();
                try {
                    await crawler.run([...products(1, 18), `${pg.siteUrl}/js`]);
                } finally {
                    clearInterval(sampler);
                }
                sessionpackLog = contentRequests(pg);
                const t1 = Date.now();

                // The same proxies and pages through a stock crawler of the same library.
                pg.reset();
                const stock = new adapter.Crawler(
                    {
                        maxConcurrency: 3,
                        maxRequestRetries: 8,
                        proxyConfiguration: new ProxyConfiguration({ proxyUrls: [...pg.proxyUrls] }),
                        launchContext: {
                            launchOptions: {
                                executablePath: resolveChromiumPath(),
                                args: chromiumLaunchArgs([], { noSandboxAsRoot: adapter.noSandboxAsRoot }),
                            },
                        },
                        requestHandler: async () => {},
                    },
                    new Configuration({ persistStorage: false }),
                );
                await stock.run(products(1, 18));
                stockLog = contentRequests(pg);
                if (process.env.SUITE_DEBUG) console.log(`sessionpack crawl ${t1 - t0} ms, stock crawl ${Date.now() - t1} ms`);
                if (process.env.SUITE_DEBUG) console.log(pg.proxies.map((p) => `${p.index}:${p.ip}:${p.banned}`).join(' '), stockLog.map((r) => `${r.ip}:${r.kind}`).join(' '));
            });

            it('extracts every page, the JS-rendered one included', () => {
                const urls = new Set(visits.map((v) => v.url));
                expect(urls.size).toBe(19);
                expect(visits.find((v) => v.url.endsWith('/js'))?.rendered).toBe(JS_RENDERED_TEXT);
            });

            it("sends each session's pages from its proxy's IP, with navigator.userAgent equal to its header user agent", () => {
                const { requests } = { requests: sessionpackLog };
                const bySid = new Map<string, RequestLogEntry[]>();
                for (const r of requests) if (r.sid) bySid.set(r.sid, [...(bySid.get(r.sid) ?? []), r]);
                expect(bySid.size).toBeGreaterThan(1);
                for (const entries of bySid.values()) {
                    // One site session = one IP and one user agent.
                    expect(new Set(entries.map((e) => e.ip)).size).toBe(1);
                    expect(new Set(entries.map((e) => e.userAgent)).size).toBe(1);
                }
                // Each good page came from the IP of the proxy its session holds, with the session's user agent.
                for (const visit of visits) {
                    const path = new URL(visit.url).pathname;
                    const served = requests.filter((r) => r.path === path && r.kind === 'page');
                    expect(served.some((r) => r.ip === visit.proxyIp && r.userAgent === visit.ua)).toBe(true);
                    expect(visit.navigatorUa).toBe(visit.ua);
                }
                // The site's beacon compared navigator.userAgent with the header user agent of every page: no mismatch.
                expect(pg.stats().totals.uaMismatches).toBe(0);
            });

            it('gives each session a fingerprint of its own, kept for its life, in one shared browser', () => {
                const bySession = new Map<string, Set<string>>();
                for (const v of visits) bySession.set(v.session, new Set([...(bySession.get(v.session) ?? []), v.fingerprint]));
                expect(bySession.size).toBeGreaterThan(1);
                for (const fingerprints of bySession.values()) expect(fingerprints.size).toBe(1);
                // Contexts of one browser do not share one fingerprint (Crawlee's own fingerprints are per browser).
                const distinct = new Set([...bySession.values()].map((f) => [...f][0]));
                expect(distinct.size).toBeGreaterThan(1);
            });

            it('renders pages in a window that fits its screen: inner size within the outer size, as in a real browser', () => {
                expect(visits.length).toBeGreaterThan(0);
                for (const { window: w } of visits) {
                    expect(w.innerWidth).toBeGreaterThan(0);
                    expect(w.innerWidth).toBeLessThanOrEqual(w.outerWidth);
                    // (A viewport the size of the screen, as before, had innerHeight > outerHeight.)
                    expect(w.innerHeight).toBeLessThanOrEqual(w.outerHeight);
                    expect(w.innerWidth).toBeLessThanOrEqual(w.screenWidth);
                    expect(w.innerHeight).toBeLessThan(w.screenHeight);
                }
            });

            it('retires sessions on soft blocks and challenges and learns which proxies are banned', () => {
                const stats = manager.stats();
                expect(stats.totals.counters['use/blocked']).toBeGreaterThan(0);
                expect(stats.totals.counters['session/retired']).toBeGreaterThan(0);
                // A site session that was blocked (soft block, challenge, captcha, 403) is never used again.
                const blocked = new Set<string>();
                for (const r of sessionpackLog) {
                    if (!r.sid) continue;
                    if (blocked.has(r.sid)) expect(r.kind, `site session ${r.sid} used after a block`).not.toBe('page');
                    if (BLOCKED_KINDS.has(r.kind)) blocked.add(r.sid);
                }
                expect([...sessionpackLog].some((r) => r.kind === 'soft-block' || r.kind === 'challenge')).toBe(true);
                // After warm-up (the first half of the requests), far fewer blocks than the stock crawler.
                const late = (log: RequestLogEntry[]) => log.slice(Math.floor(log.length / 2));
                const ours = blockedShare(late(sessionpackLog));
                const stock = blockedShare(late(stockLog));
                console.log(
                    `${adapter.name}: blocked share after warm-up ${(ours * 100).toFixed(1)}% with sessionpack (${sessionpackLog.length} requests) vs ${(stock * 100).toFixed(1)}% stock (${stockLog.length} requests)`,
                );
                expect(ours).toBeLessThan(0.15);
                expect(stock - ours).toBeGreaterThan(0.25);
            });

            it('keeps contexts and browser processes bounded while retiring sessions, and leaves none open', async () => {
                expect(manager.stats().totals.counters['session/retired']).toBeGreaterThanOrEqual(3);
                // A context per concurrent page (3) and no more, in one browser; the init browser is not needed here.
                expect(maxContexts).toBeLessThanOrEqual(3);
                expect(maxBrowsers).toBeGreaterThanOrEqual(1);
                expect(maxBrowsers).toBeLessThanOrEqual(3);
                expect(await waitFor(() => liveBrowserProcesses() === 0, 20_000)).toBe(true);
            });
        });

        it('retires many sessions without growing the number of live browsers', { timeout: 300_000 }, async () => {
            pg.reset();
            const manager = await SessionManager.open({
                proxyUrls: pg.proxies.filter((p) => !p.banned && !p.challenged).map((p) => p.url),
                // Every session is used up after one page: each page is a new session, the old one retired.
                pool: { size: 2, maxUses: 1 },
                store: false,
                statsIntervalSecs: 0,
            });
            let maxBrowsers = 0;
            let maxContexts = 0;
            const sampler = setInterval(() => {
                maxBrowsers = Math.max(maxBrowsers, liveBrowserProcesses());
            }, 200);
            const crawler = new adapter.Crawler(
                adapter.withSessions(
                    {
                        maxConcurrency: 3,
                        requestHandler: async ({ page }: any) => {
                            maxContexts = Math.max(maxContexts, await adapter.countContexts(page));
                        },
                    },
                    manager,
                ),
                new Configuration({ persistStorage: false }),
            );
            try {
                await crawler.run(products(41, 12));
            } finally {
                clearInterval(sampler);
            }
            const log = contentRequests(pg);
            expect(log.filter((r) => r.kind === 'page')).toHaveLength(12);
            expect(new Set(log.map((r) => r.sid)).size).toBeGreaterThanOrEqual(10);
            expect(manager.stats().totals.counters['session/retired']).toBeGreaterThanOrEqual(10);
            expect(maxContexts).toBeLessThanOrEqual(3);
            expect(maxBrowsers).toBeLessThanOrEqual(2);
            expect(await waitFor(() => liveBrowserProcesses() === 0, 20_000)).toBe(true);
        });

        it('uses authenticated proxies without their password reaching Chromium or the logs', async () => {
            const secret = 's3cret-Pa55';
            const authed = await startProvingGround({ seed: 5, proxies: { count: 3, auth: { username: 'scraper', password: secret } } });
            const printed: string[] = [];
            const originalLevel = log.getLevel();
            const logger = log.getOptions().logger;
            const capture = Object.create(logger) as typeof logger;
            capture.log = (level: number, message: string, ...rest: unknown[]) => {
                printed.push(`${message} ${JSON.stringify(rest)}`);
            };
            log.setOptions({ logger: capture });
            log.setLevel(LogLevel.DEBUG);
            let commandLines = '';
            try {
                const manager = await SessionManager.open({
                    proxyUrls: [...authed.proxyUrls],
                    pool: { size: 2 },
                    store: false,
                    statsIntervalSecs: 0,
                    rules: [
                        {
                            match: `${authed.siteUrl}/**`,
                            init: async ({ newPage }: any) => {
                                const page = await newPage();
                                await page.goto(`${authed.siteUrl}/`);
                            },
                        },
                    ],
                });
                const crawler = new adapter.Crawler(
                    adapter.withSessions(
                        {
                            maxConcurrency: 2,
                            requestHandler: async () => {
                                commandLines += execFileSync('ps', ['-eo', 'args='], { encoding: 'utf8' });
                            },
                        },
                        manager,
                    ),
                    new Configuration({ persistStorage: false }),
                );
                await crawler.run([`${authed.siteUrl}/product/1`, `${authed.siteUrl}/product/2`, `${authed.siteUrl}/product/3`, `${authed.siteUrl}/product/4`]);
                const served = authed.stats().requests.filter((r) => r.path !== BEACON_PATH && r.kind === 'page');
                // Init pages and crawled pages both went through the authenticating proxies.
                expect(served.filter((r) => r.path.startsWith('/product/'))).toHaveLength(4);
                expect(served.filter((r) => r.path === '/').length).toBe(manager.stats().totals.counters['init/passed']);
                expect(JSON.stringify(manager.stats())).not.toContain(secret);
            } finally {
                log.setOptions({ logger });
                log.setLevel(originalLevel);
                await authed.close();
            }
            expect(commandLines).toContain('chrom');
            expect(commandLines).not.toContain(secret);
            expect(printed.length).toBeGreaterThan(0);
            expect(printed.join('\n')).not.toContain(secret);
        });

        it('handles dead proxies and rate limits like the other adapters, and stops the crawl when a check aborts', async () => {
            const hostile = await startProvingGround({
                seed: 9,
                // Two thirds of the proxies dead (refusing, or answering 599), and one page per site session per 3 s.
                proxies: { count: 6, dead: { refuse: 2, tunnelError: 2 } },
                site: { rateLimits: { perSession: { requests: 1, windowMs: 3_000, penaltyMs: 1_000 } } },
            });
            try {
                const manager = await SessionManager.open({
                    proxyUrls: [...hostile.proxyUrls],
                    pool: { size: 2 },
                    store: false,
                    statsIntervalSecs: 0,
                    // Seeded: the first sessions meet dead proxies every run (unseeded, a crawl could draw only the two
                    // good ones and see no proxy failure: it failed once on 'use/proxy-failure > 0').
                    random: mulberry32(3),
                    rules: [
                        {
                            match: `${hostile.siteUrl}/category/**`,
                            check: ({ abort }: any) => abort('the category pages are off limits'),
                        },
                    ],
                });
                const failed: string[] = [];
                const crawler = new adapter.Crawler(
                    adapter.withSessions(
                        {
                            maxConcurrency: 3,
                            maxRequestRetries: 10,
                            requestHandler: async () => {},
                            failedRequestHandler: async ({ request }: any, error: Error) => {
                                failed.push(`${new URL(request.url).pathname}: ${error.message}`);
                            },
                        },
                        manager,
                    ),
                    new Configuration({ persistStorage: false }),
                );
                await crawler.run(products(1, 6).map((u) => u.replace(pg.siteUrl, hostile.siteUrl)));
                const counters = manager.stats().totals.counters;
                if (process.env.SUITE_DEBUG) console.log('dead proxies crawl', counters);
                expect(failed).toEqual([]);
                expect(counters['use/ok']).toBe(6);
                // Dead proxies failed as proxies, the site's 429s cooled sessions down (the proxy served on).
                expect(counters['use/proxy-failure']).toBeGreaterThan(0);
                expect(counters['use/rate-limited']).toBeGreaterThan(0);
                const served = hostile.stats().requests.filter((r) => r.kind === 'page' && r.path.startsWith('/product/'));
                expect(new Set(served.map((r) => r.path)).size).toBe(6);
                // No page came through a dead proxy (the site never saw their addresses).
                const deadIps = new Set(hostile.proxies.filter((p) => p.dead).map((p) => p.ip));
                expect(hostile.stats().requests.some((r) => deadIps.has(r.ip))).toBe(false);

                // A check that aborts: the crawl stops, every request after it fails with the reason, none reaches the site.
                failed.length = 0;
                const stopped = new adapter.Crawler(
                    adapter.withSessions(
                        {
                            maxConcurrency: 1,
                            requestHandler: async () => {},
                            failedRequestHandler: async ({ request }: any, error: Error) => {
                                failed.push(`${new URL(request.url).pathname}: ${error.message}`);
                            },
                        },
                        manager,
                    ),
                    new Configuration({ persistStorage: false }),
                );
                hostile.reset();
                await stopped.run([`${hostile.siteUrl}/category/1`, ...products(11, 3).map((u) => u.replace(pg.siteUrl, hostile.siteUrl))]);
                const seen = hostile.stats().requests.filter((r) => r.path !== BEACON_PATH).map((r) => r.path);
                const afterAbort = seen.slice(seen.indexOf('/category/1') + 1);
                expect(seen).toContain('/category/1');
                expect(afterAbort).toEqual([]);
                expect(failed.length).toBe(4 - (seen.length - 1));
                expect(failed[0]).toMatch(/^\/category\/1: .*the category pages are off limits/);
                for (const f of failed) expect(f).toContain('the category pages are off limits');
            } finally {
                await hostile.close();
            }
        });

        it('sends loopback targets through the session proxy too', async () => {
            const local = await startProvingGround({ seed: 3, proxies: { count: 2 }, exposeDirect: true });
            try {
                const manager = await SessionManager.open({ proxyUrls: [...local.proxyUrls], pool: { size: 2 }, store: false, statsIntervalSecs: 0 });
                const crawler = new adapter.Crawler(
                    adapter.withSessions({ maxConcurrency: 2, requestHandler: async () => {} }, manager),
                    new Configuration({ persistStorage: false }),
                );
                await crawler.run([`${local.directUrl}/product/1`, `${local.directUrl}/product/2`]);
                const entries = local.stats().requests.filter((r) => r.path.startsWith('/product/'));
                expect(entries).toHaveLength(2);
                const proxyIps = new Set(local.proxies.map((p) => p.ip));
                for (const r of entries) expect(proxyIps.has(r.ip), `${r.path} came from ${r.ip}`).toBe(true);
            } finally {
                await local.close();
            }
        });

        it('gives each session one context: its pages share cookies and localStorage, two sessions never do', async () => {
            pg.reset();
            // What a rule's check finds in its session's jar: the cookies the page just got included.
            const jarAtCheck: { path: string; cookies: string }[] = [];
            const manager = await SessionManager.open({
                proxyUrls: goodProxies(),
                pool: { size: 2, maxConcurrentUses: 1 },
                store: false,
                statsIntervalSecs: 0,
                rules: [
                    {
                        match: `${pg.siteUrl}/**`,
                        check: ({ session, request }) => {
                            jarAtCheck.push({ path: new URL(request.url).pathname, cookies: session.getCookieString(request.url) });
                        },
                    },
                ],
            });
            const pages: StoragePage[] = [];
            const contexts = new Map<string, Set<object>>();
            const crawler = new adapter.Crawler(
                adapter.withSessions(
                    {
                        // Two pages at once from the start: the pool grows a second session only for a second page at
                        // once, and kept tabs make 8 pages end before Crawlee's autoscaling would have reached 2.
                        minConcurrency: 2,
                        maxConcurrency: 2,
                        requestHandler: async ({ page, request, session }: any) => {
                            pages.push(await visitWithStorage(page, request.url, session.id));
                            contexts.set(session.id, new Set([...(contexts.get(session.id) ?? []), adapter.contextOf(page)]));
                        },
                    },
                    manager,
                ),
                new Configuration({ persistStorage: false }),
            );
            await crawler.run(products(1, 8));
            const log = contentRequests(pg).filter((r) => r.kind === 'page');
            expect(log).toHaveLength(8);
            // Two sessions, two site sessions: each cookie kept by its own session, on its own IP and user agent.
            const sids = new Set(log.map((r) => r.sid));
            expect(sids.size).toBe(2);
            for (const sid of sids) {
                const entries = log.filter((r) => r.sid === sid);
                expect(new Set(entries.map((e) => e.ip)).size).toBe(1);
                expect(new Set(entries.map((e) => e.userAgent)).size).toBe(1);
            }
            // The site saw one cookie per session: what its first page got, its later pages sent.
            expect(sidsBySession(pages, log)).toEqual(new Map([...contexts.keys()].map((id) => [id, 1])));
            // Each check, a session's first page's too, found the site's cookie for that page in the session's jar.
            expect(jarAtCheck).toHaveLength(8);
            for (const { path, cookies } of jarAtCheck) {
                const sid = log.find((r) => r.path === path)?.sid;
                expect(sid, path).toBeTruthy();
                expect(cookies, path).toContain(`${SESSION_COOKIE}=${sid}`);
            }
            // One context per session, for all of its pages, in the browser.
            expect(contexts.size).toBe(2);
            for (const set of contexts.values()) expect(set.size).toBe(1);
            expectStorageKeptPerSession(pages, 2);
        });

        it("keeps a session's tab for its next pages: the site sees its sessionStorage survive, as in a visitor's tab", async () => {
            pg.reset();
            const manager = await SessionManager.open({
                proxyUrls: goodProxies(),
                pool: { size: 2, maxConcurrentUses: 1 },
                store: false,
                statsIntervalSecs: 0,
            });
            let maxTabs = 0;
            const crawler = new adapter.Crawler(
                adapter.withSessions(
                    {
                        // Two pages at once from the start (two sessions), as in the test above.
                        minConcurrency: 2,
                        maxConcurrency: 2,
                        requestHandler: async ({ page }: any) => {
                            await reportTabStorage(page);
                            maxTabs = Math.max(maxTabs, await adapter.countTabs(page));
                        },
                    },
                    manager,
                ),
                new Configuration({ persistStorage: false }),
            );
            await crawler.run(products(1, 8));
            const log = contentRequests(pg);
            expect(log.filter((r) => r.kind === 'page' && r.path.startsWith('/product/'))).toHaveLength(8);
            const reports = tabReportsBySid(log);
            if (process.env.SUITE_DEBUG) console.log(JSON.stringify([...reports]), log.map((r) => `${r.sid} ${r.path}`).join('\n'));
            // Two sessions (two site sessions), every page reported.
            expect(reports.size).toBe(2);
            expect([...reports.values()].flat()).toHaveLength(8);
            for (const [sid, list] of reports) {
                // The session's first page found an empty tab and left its mark; every later page of it found that mark.
                expect(list[0]!.found, `site session ${sid}`).toBe('none');
                for (const later of list.slice(1)) expect(later.found, `site session ${sid}`).toBe(list[0]!.mark);
            }
            // (How the 8 pages split between the two sessions is up to the crawl; 6 of them are later pages.)
            expect([...reports.values()].some((list) => list.length > 1)).toBe(true);
            // A tab per session, no more (the current pages' tabs are the kept ones).
            expect(maxTabs).toBeLessThanOrEqual(2);
            // The crawl's end closed the kept tabs with their contexts and the browser.
            expect(await waitFor(() => liveBrowserProcesses() === 0, 20_000)).toBe(true);
        });

        it("keeps what one request attached to its page out of the next one's, and Crawlee's page accounting right", async () => {
            pg.reset();
            const manager = await SessionManager.open({ proxyUrls: goodProxies(), pool: { size: 2, maxConcurrentUses: 1 }, store: false, statsIntervalSecs: 0 });
            /** Product documents each request's listener saw, by the request's path. */
            const responsesSeen = new Map<string, string[]>();
            const closes = new Map<string, number>();
            let maxActivePages = 0;
            const crawler = new adapter.Crawler(
                adapter.withSessions(
                    {
                        minConcurrency: 2,
                        maxConcurrency: 2,
                        // Crawlee retires its browser (here a view of the shared one) every 3 pages: retired views close
                        // once Crawlee counted their pages closed.
                        browserPoolOptions: { retireBrowserAfterPageCount: 3 },
                        preNavigationHooks: [
                            async ({ page, request }: any) => {
                                const own = new URL(request.url).pathname;
                                responsesSeen.set(own, []);
                                page.on('response', (response: any) => {
                                    const path = new URL(response.url()).pathname;
                                    if (path.startsWith('/product/')) responsesSeen.get(own)!.push(path);
                                });
                                page.once('close', () => closes.set(own, (closes.get(own) ?? 0) + 1));
                            },
                        ],
                        requestHandler: async ({ page, browserController }: any) => {
                            maxActivePages = Math.max(maxActivePages, browserController.activePages);
                            await reportTabStorage(page);
                        },
                    },
                    manager,
                ),
                new Configuration({ persistStorage: false }),
            );
            await crawler.run(products(1, 8));
            const log = contentRequests(pg);
            expect(log.filter((r) => r.kind === 'page' && r.path.startsWith('/product/'))).toHaveLength(8);
            // Each request's listener saw its own document only, and its close once.
            expect(responsesSeen.size).toBe(8);
            for (const [own, seen] of responsesSeen) expect(seen, own).toEqual([own]);
            expect([...closes.values()]).toEqual(Array(8).fill(1));
            // Crawlee counted every page closed: at most one per concurrent request was open in any of its browsers.
            expect(maxActivePages).toBeGreaterThan(0);
            expect(maxActivePages).toBeLessThanOrEqual(2);
            // Tabs were kept across Crawlee's browser retirements: later pages found their session's mark.
            const later = [...tabReportsBySid(log).values()].flatMap((list) => list.slice(1));
            expect(later.length).toBe(6);
            expect(later.every((r) => r.found !== 'none')).toBe(true);
            expect(await waitFor(() => liveBrowserProcesses() === 0, 20_000)).toBe(true);
        });

        it('closes a tab instead of keeping it when its page changed it for good (exposeFunction)', async () => {
            pg.reset();
            const manager = await SessionManager.open({ proxyUrls: goodProxies().slice(0, 1), pool: { size: 1 }, store: false, statsIntervalSecs: 0 });
            let handled = 0;
            const crawler = new adapter.Crawler(
                adapter.withSessions(
                    {
                        maxConcurrency: 1,
                        requestHandler: async ({ page }: any) => {
                            await reportTabStorage(page);
                            // The second page exposes a function to the tab's every later document: not a tab to hand on.
                            if (handled++ === 1) await page.exposeFunction('spExposed', () => 1);
                        },
                    },
                    manager,
                ),
                new Configuration({ persistStorage: false }),
            );
            await crawler.run(products(11, 4));
            const reports = [...tabReportsBySid(contentRequests(pg)).values()];
            // One session: its first tab served pages 1 and 2, a new tab (an empty sessionStorage) pages 3 and 4.
            expect(reports).toHaveLength(1);
            const [p1, p2, p3, p4] = reports[0]!;
            expect([p1!.found, p2!.found, p3!.found, p4!.found]).toEqual(['none', p1!.mark, 'none', p3!.mark]);
            expect(p3!.mark).not.toBe(p1!.mark);
        });

        it('closes the tab a session kept when the session is retired, and a retired session keeps none', async () => {
            pg.reset();
            const manager = await SessionManager.open({
                proxyUrls: goodProxies(),
                // Round-robin fills the pool before reusing a session: pages go to A, B, then a new one...
                pool: { size: 3, maxConcurrentUses: 1, policy: 'round-robin' },
                store: false,
                statsIntervalSecs: 0,
            });
            const seen: { session: string; tabs: number; closedKept: boolean }[] = [];
            let first: { retire(): void; id: string } | undefined;
            const crawler = new adapter.Crawler(
                adapter.withSessions(
                    {
                        maxConcurrency: 1,
                        requestHandler: async ({ page, session }: any) => {
                            await reportTabStorage(page);
                            const tabs = await adapter.countTabs(page);
                            let closedKept = false;
                            if (!first) {
                                // The session itself: its attempt's handle ignores retire() once the attempt ended.
                                first = session.real;
                            } else if (first.id !== session.id && seen.length === 1) {
                                // The first session's tab is kept (2 tabs now): retiring the session closes it.
                                first.retire();
                                closedKept = await waitForAsync(async () => (await adapter.countTabs(page)) === 1, 10_000);
                            }
                            seen.push({ session: session.id, tabs, closedKept });
                        },
                    },
                    manager,
                ),
                new Configuration({ persistStorage: false }),
            );
            await crawler.run(products(55, 5));
            if (process.env.SUITE_DEBUG) console.log(JSON.stringify(seen));
            expect(seen).toHaveLength(5);
            expect(seen[0]!.tabs).toBe(1);
            // The second page (another session) saw the first session's kept tab, which closed when it was retired.
            expect(seen[1]!.session).not.toBe(seen[0]!.session);
            expect(seen[1]!.tabs).toBe(2);
            expect(seen[1]!.closedKept).toBe(true);
            expect(seen.slice(1).some((s) => s.session === seen[0]!.session)).toBe(false);
            // At the site: the retired session's site session reported once and never came back.
            const log = contentRequests(pg);
            const reports = tabReportsBySid(log);
            expect([...reports.values()].flat()).toHaveLength(5);
            const firstSid = log.find((r) => r.path.startsWith(TAB_REPORT))!.sid!;
            expect(reports.get(firstSid)).toHaveLength(1);
            expect(await waitFor(() => liveBrowserProcesses() === 0, 20_000)).toBe(true);
        });

        it('keeps at most maxIdleContexts idle contexts, and recreates a closed one with its cookies and storage', { timeout: 300_000 }, async () => {
            pg.reset();
            const manager = await SessionManager.open({
                proxyUrls: goodProxies(),
                // Round-robin fills the pool up to 6 sessions before reusing one (the default grows only on demand, and
                // one page at a time never needs a second session): pages 7-12 go back to sessions whose context went.
                pool: { size: 6, maxConcurrentUses: 1, policy: 'round-robin' },
                store: false,
                statsIntervalSecs: 0,
            });
            const pages: StoragePage[] = [];
            const contexts = new Map<string, Set<object>>();
            const bounded: boolean[] = [];
            // Why a crawl used more than 6 sessions, if it does (seen once with Puppeteer under load, not reproduced):
            // which sessions were retired, for what, and which attempts failed.
            const retired: string[] = [];
            const errors: string[] = [];
            manager.events.on('sessionRetired', (s: { id: string; retiredReason?: string }) => retired.push(`${s.id}: ${s.retiredReason}`));
            const crawler = new adapter.Crawler(
                adapter.withSessions(
                    {
                        maxConcurrency: 1,
                        errorHandler: async ({ request }: any, error: Error) => void errors.push(`${request.url}: ${error.message.slice(0, 200)}`),
                        requestHandler: async ({ page, request, session }: any) => {
                            // This page's context plus at most 2 idle ones (a context being closed may take a moment).
                            let open = 0;
                            bounded.push(await waitFor(() => (open = adapter.countContextsNow(page)) <= 3, 10_000));
                            if (process.env.SUITE_DEBUG) console.log('contexts open', open);
                            pages.push(await visitWithStorage(page, request.url, session.id));
                            contexts.set(session.id, new Set([...(contexts.get(session.id) ?? []), adapter.contextOf(page)]));
                        },
                    },
                    manager,
                    { maxIdleContexts: 2 },
                ),
                new Configuration({ persistStorage: false }),
            );
            await crawler.run(products(30, 12));
            expect(bounded).toHaveLength(12);
            expect(bounded.every(Boolean)).toBe(true);
            const log = contentRequests(pg).filter((r) => r.kind === 'page');
            expect(log).toHaveLength(12);
            expect(contexts.size, `sessions retired: ${retired.join('; ') || 'none'}; failed attempts: ${errors.join('; ') || 'none'}`).toBe(6);
            // Sessions whose context was closed and recreated: their later pages still had their storage and cookies.
            const recreated = [...contexts].filter(([, set]) => set.size > 1).map(([id]) => id);
            expect(recreated.length).toBeGreaterThan(0);
            expectStorageKeptPerSession(pages, 6);
            for (const id of recreated) expect(pages.filter((p) => p.session === id && p.read !== null).length).toBeGreaterThan(0);
            expect(sidsBySession(pages, log)).toEqual(new Map([...contexts.keys()].map((id) => [id, 1])));
            expect(await waitFor(() => liveBrowserProcesses() === 0, 20_000)).toBe(true);
        });

        it('closes the context of a retired session', async () => {
            pg.reset();
            const manager = await SessionManager.open({
                proxyUrls: goodProxies(),
                // Each session is retired after its second page.
                pool: { size: 1, maxUses: 2 },
                store: false,
                statsIntervalSecs: 0,
            });
            const sessions: string[] = [];
            const alone: boolean[] = [];
            const crawler = new adapter.Crawler(
                adapter.withSessions(
                    {
                        maxConcurrency: 1,
                        requestHandler: async ({ page, session }: any) => {
                            sessions.push(session.id);
                            // The default bound would keep 20 idle contexts: a retired session's must go at once.
                            alone.push(await waitFor(() => adapter.countContextsNow(page) === 1, 10_000));
                        },
                    },
                    manager,
                ),
                new Configuration({ persistStorage: false }),
            );
            await crawler.run(products(50, 6));
            expect(manager.stats().totals.counters['session/retired']).toBeGreaterThanOrEqual(2);
            expect(new Set(sessions).size).toBe(3);
            expect(alone).toEqual([true, true, true, true, true, true]);
            expect(await waitFor(() => liveBrowserProcesses() === 0, 20_000)).toBe(true);
        });

        it('keeps a session\'s fingerprint across a restart with the same store', async () => {
            pg.reset();
            const storeConfig = new Configuration({ persistStorage: false });
            const options: SessionManagerOptions = { proxyUrls: goodProxies(), pool: { size: 2 }, statsIntervalSecs: 0, config: storeConfig };
            const seen: { run: number; session: string; fingerprint: string }[] = [];
            for (const run of [1, 2]) {
                const manager = await SessionManager.open(options);
                const crawler = new adapter.Crawler(
                    adapter.withSessions(
                        {
                            maxConcurrency: 2,
                            requestHandler: async ({ page, session }: any) => {
                                seen.push({ run, session: session.id, fingerprint: await fingerprintOf(page) });
                            },
                        },
                        manager,
                    ),
                    new Configuration({ persistStorage: false }),
                );
                await crawler.run(products(run * 10, 4));
                await manager.close();
            }
            const restored = new Set(seen.filter((s) => s.run === 2).map((s) => s.session).filter((id) => seen.some((s) => s.run === 1 && s.session === id)));
            expect(restored.size).toBeGreaterThan(0);
            for (const id of restored) {
                const prints = new Set(seen.filter((s) => s.session === id).map((s) => s.fingerprint));
                expect(prints.size, `session ${id}: ${[...prints].join(' / ')}`).toBe(1);
            }
            // The site saw one user agent per session cookie over both runs.
            const log = contentRequests(pg).filter((r) => r.kind === 'page');
            for (const sid of new Set(log.map((r) => r.sid))) expect(new Set(log.filter((r) => r.sid === sid).map((r) => r.userAgent)).size).toBe(1);
            expect(pg.stats().totals.uaMismatches).toBe(0);
        });

        it('loads pages without proxies, and with a null (direct) entry among proxies', { timeout: 300_000 }, async () => {
            const local = await startProvingGround({ seed: 13, proxies: { count: 2 }, exposeDirect: true });
            try {
                const proxyOfPage = new Map<string, string | undefined>();
                const failed: string[] = [];
                const run = async (sessions: SessionManagerOptions, paths: string[]) => {
                    const crawler = new adapter.Crawler(
                        adapter.withSessions(
                            {
                                maxConcurrency: 2,
                                maxRequestRetries: 2,
                                requestHandler: async ({ request, session }: any) => {
                                    proxyOfPage.set(new URL(request.url).pathname, session.identity.proxy?.url);
                                },
                                failedRequestHandler: async ({ request }: any, error: Error) => void failed.push(`${request.url}: ${error.message}`),
                            },
                            { store: false, statsIntervalSecs: 0, ...sessions },
                        ),
                        new Configuration({ persistStorage: false }),
                    );
                    await crawler.run(paths.map((p) => `${local.directUrl}${p}`));
                };
                await run({ pool: { size: 2 } }, ['/product/1', '/product/2', '/product/3']);
                expect(failed).toEqual([]);
                const direct = local.stats().requests.filter((r) => r.path.startsWith('/product/') && r.kind === 'page');
                expect(direct.map((r) => r.path).sort()).toEqual(['/product/1', '/product/2', '/product/3']);
                const proxyIps = new Set(local.proxies.map((p) => p.ip));
                for (const r of direct) expect(proxyIps.has(r.ip), `${r.path} came from ${r.ip}`).toBe(false);

                local.reset();
                // One direct session and one through a proxy: a pool of 2, proxies (the null entry included) in turn.
                const proxy = local.proxies[0]!;
                await run(
                    { proxyUrls: [null, proxy.url], policy: 'round-robin', pool: { size: 2, maxConcurrentUses: 1 } },
                    ['/product/4', '/product/5', '/product/6', '/product/7', '/product/8', '/product/9'],
                );
                expect(failed).toEqual([]);
                const mixed = local.stats().requests.filter((r) => r.path.startsWith('/product/') && r.kind === 'page');
                expect(mixed).toHaveLength(6);
                // Each page left the way its session goes: the direct one's from the direct address, the other's from the proxy.
                const directIp = direct[0]!.ip;
                for (const r of mixed) expect(r.ip, r.path).toBe(proxyOfPage.get(r.path) === proxy.url ? proxy.ip : directIp);
                const viaProxy = mixed.filter((r) => r.ip === proxy.ip).length;
                expect(viaProxy).toBeGreaterThan(0);
                expect(viaProxy).toBeLessThan(6);
                expect(await waitFor(() => liveBrowserProcesses() === 0, 20_000)).toBe(true);
            } finally {
                await local.close();
            }
        });

        it("works with Crawlee's implicit router (no requestHandler): each page reaches the router with its session", { timeout: 300_000 }, async () => {
            const local = await startProvingGround({ seed: 14, proxies: { count: 1 } });
            try {
                const handled: string[] = [];
                const crawler = new adapter.Crawler(
                    adapter.withSessions({ maxConcurrency: 1, maxRequestRetries: 1 }, { store: false, statsIntervalSecs: 0, proxyUrls: [...local.proxyUrls] }),
                    new Configuration({ persistStorage: false }),
                );
                (crawler as any).router.addDefaultHandler(async ({ request, session }: any) => {
                    handled.push(`${new URL(request.url).pathname} ${session?.identity?.proxy ? 'with proxy' : 'none'}`);
                });
                await crawler.run([`${local.siteUrl}/product/1`, `${local.siteUrl}/product/2`]);
                expect(handled.sort()).toEqual(['/product/1 with proxy', '/product/2 with proxy']);
                const pages = local.stats().requests.filter((r) => r.path.startsWith('/product/') && r.kind === 'page');
                expect(pages.map((r) => r.ip)).toEqual([local.proxies[0]!.ip, local.proxies[0]!.ip]);
            } finally {
                await local.close();
            }
        });

        it('runs a location init in the browser and shows location prices on later pages', async () => {
            pg.reset();
            const manager = await SessionManager.open({
                // Every proxy, the blocked ones too: an init page that gets a block page fails as the proxy's fault.
                proxyUrls: [...pg.proxyUrls],
                pool: { size: 2 },
                store: false,
                statsIntervalSecs: 0,
                rules: [
                    {
                        match: `${pg.siteUrl}/product/**`,
                        pool: 'shop@DE',
                        init: async ({ newPage }: any) => {
                            const page = await newPage();
                            await page.goto(`${pg.siteUrl}/location`);
                            await adapter.submitLocation(page, 'DE');
                            const current = await page.$eval('#current-location', (el: Element) => el.textContent);
                            if (current !== 'DE') throw new Error(`location is ${current}`);
                        },
                    },
                ],
            });
            const prices: string[] = [];
            const crawler = new adapter.Crawler(
                adapter.withSessions(
                    {
                        maxConcurrency: 2,
                        requestHandler: async ({ page }: any) => {
                            prices.push(await page.$eval('.price', (el: Element) => el.getAttribute('data-location')));
                        },
                    },
                    manager,
                ),
                new Configuration({ persistStorage: false }),
            );
            await crawler.run(products(20, 6));
            expect(prices).toHaveLength(6);
            expect(new Set(prices)).toEqual(new Set(['DE']));
            const log = contentRequests(pg);
            // The location was chosen in the browser (GET form, POST with the CSRF token from it), once per session.
            const posts = log.filter((r) => r.method === 'POST' && r.path.startsWith('/location'));
            expect(posts.length).toBe(manager.stats().totals.counters['init/passed']);
            expect(posts.every((p) => p.status < 400)).toBe(true);
            const productPages = log.filter((r) => r.path.startsWith('/product/') && r.kind === 'page');
            expect(productPages).toHaveLength(6);
            expect(productPages.every((r) => r.location === 'DE')).toBe(true);
            // Init pages were driven with the session's identity: the same IP and user agent as its later pages.
            for (const post of posts) {
                const later = productPages.filter((r) => r.sid === post.sid);
                for (const r of later) {
                    expect(r.ip).toBe(post.ip);
                    expect(r.userAgent).toBe(post.userAgent);
                }
            }
            // Init pages that met a block were classified: the inits failed fast and taught the manager about the proxy.
            const counters = manager.stats().totals.counters;
            const blockedInits = log.filter((r) => r.path === '/location' && BLOCKED_KINDS.has(r.kind)).length;
            expect(counters['init/failed']).toBe(blockedInits);
            expect(pg.stats().totals.uaMismatches).toBe(0);
            expect(await waitFor(() => liveBrowserProcesses() === 0, 20_000)).toBe(true);
        });
    });
}
