/**
 * The Chromium command line sessionpack's Playwright browser really gets (read from /proc, not from our options):
 * Chromium takes only the last `--disable-features` / `--enable-features`, and Playwright puts its own lists first, so
 * ours must be merged into Playwright's, Playwright's own left out, and none of Playwright's features lost. Also the
 * guard for a Playwright upgrade: its lists are read from the installed playwright-core at runtime.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

import { Configuration, log, LogLevel } from '@crawlee/core';
import { PlaywrightCrawler } from '@crawlee/playwright';
import { type ProvingGround, startProvingGround } from '@sessionpack/proving-ground';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { withSessions } from '../src/index.js';
import { playwrightFeatureSwitches } from '../src/playwright-defaults.js';

/** The command lines (argv) of the Chromium main processes among this process's descendants. */
function browserCommandLines(): string[][] {
    const rows = execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' })
        .split('\n')
        .map((line) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), args: m[3]! }));
    const lines: string[][] = [];
    const stack = [process.pid];
    while (stack.length) {
        const parent = stack.pop()!;
        for (const child of rows.filter((r) => r.ppid === parent)) {
            stack.push(child.pid);
            if (!/chrom/i.test(child.args.split(' ')[0]!) || child.args.includes('--type=')) continue;
            try {
                lines.push(readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0').filter(Boolean));
            } catch {
                // exited meanwhile
            }
        }
    }
    return lines.filter((argv) => argv.some((a) => a.startsWith('--remote-debugging-pipe')));
}

const features = (argv: readonly string[], flag: string) =>
    argv.filter((a) => a.startsWith(`${flag}=`)).map((a) => a.slice(flag.length + 1).split(','));

describe('the Playwright browser command line', () => {
    let pg: ProvingGround;
    /** The browser UI targets (WebUI pages of the browser itself) the last crawl's browser had. */
    let browserUi: string[] = [];

    beforeAll(async () => {
        log.setLevel(LogLevel.OFF);
        pg = await startProvingGround({ seed: 5, proxies: { count: 1 } });
    });

    afterAll(async () => {
        await pg?.close();
    });

    /** Crawls a page and returns the browser's command line (and sets {@link browserUi}). */
    async function crawlAndReadCommandLine(launchOptions: { args?: string[] }, browserOptions: { maxKeptTabs?: number } = {}): Promise<string[]> {
        let seen: string[][] = [];
        const crawler = new PlaywrightCrawler(
            withSessions(
                {
                    maxConcurrency: 1,
                    launchContext: { launchOptions },
                    requestHandler: async ({ page }) => {
                        seen = browserCommandLines();
                        const cdp = await page.context().browser()!.newBrowserCDPSession();
                        const { targetInfos } = (await cdp.send('Target.getTargets', { filter: [{}] } as never)) as { targetInfos: { type: string; url: string }[] };
                        browserUi = targetInfos.filter((t) => t.type === 'browser_ui').map((t) => t.url);
                        await cdp.detach();
                    },
                },
                { proxyUrls: [...pg.proxyUrls], store: false, statsIntervalSecs: 0 },
                browserOptions,
            ),
            new Configuration({ persistStorage: false }),
        );
        await crawler.run([`${pg.siteUrl}/product/1`]);
        // The page was really crawled (the site saw it), so the handler read the command line of a running browser.
        expect(pg.stats().requests.filter((r) => r.path === '/product/1').length).toBeGreaterThan(0);
        expect(seen).toHaveLength(1);
        return seen[0]!;
    }

    it("merges the spare-renderer switch into Playwright's own --disable-features, keeping all of Playwright's", async () => {
        const playwright = playwrightFeatureSwitches();
        expect(playwright, "Playwright's feature switches could not be read from playwright-core").toBeDefined();
        const playwrightDisabled = features(playwright!, '--disable-features')[0]!;
        // Read from the installed playwright-core, not an empty list (1.65.1 has these).
        expect(playwrightDisabled).toEqual(expect.arrayContaining(['PaintHolding', 'ThirdPartyStoragePartitioning', 'HttpsUpgrades']));

        const argv = await crawlAndReadCommandLine({});
        const disabled = features(argv, '--disable-features');
        expect(disabled, 'one --disable-features switch (Chromium takes the last only)').toHaveLength(1);
        expect(disabled[0]).toEqual([...playwrightDisabled, 'SpareRendererForSitePerProcess', 'WebUIOmniboxPopup', 'WebUIOmniboxAimPopup']);
        // And Chromium honoured it: no omnibox popup WebUI (a renderer of its own per context) in the browser.
        expect(browserUi.filter((url) => url.includes('omnibox'))).toEqual([]);
        // Playwright's --enable-features untouched.
        expect(features(argv, '--enable-features')).toEqual(features(playwright!, '--enable-features'));
    });

    it("merges a user's feature switches into Playwright's, and keeps the spare renderer when the user enables it", async () => {
        const playwright = playwrightFeatureSwitches()!;
        const argv = await crawlAndReadCommandLine({ args: ['--disable-features=Translate', '--enable-features=SpareRendererForSitePerProcess'] });
        expect(features(argv, '--disable-features')).toEqual([[...features(playwright, '--disable-features')[0]!, 'Translate', 'WebUIOmniboxPopup', 'WebUIOmniboxAimPopup']]);
        expect(features(argv, '--enable-features')).toEqual([[...features(playwright, '--enable-features')[0]!, 'SpareRendererForSitePerProcess']]);
    });

    it('keeps the spare renderer with maxKeptTabs 0 (every page opens a tab, which the spare speeds up)', async () => {
        const playwright = playwrightFeatureSwitches()!;
        const argv = await crawlAndReadCommandLine({}, { maxKeptTabs: 0 });
        expect(features(argv, '--disable-features')).toEqual([[...features(playwright, '--disable-features')[0]!, 'WebUIOmniboxPopup', 'WebUIOmniboxAimPopup']]);
    });

    it("has the omnibox popup WebUI when the user enables it (what Chromium runs by default: the check above can fail)", async () => {
        await crawlAndReadCommandLine({ args: ['--enable-features=WebUIOmniboxPopup'] });
        expect(browserUi.filter((url) => url.includes('omnibox-popup'))).not.toEqual([]);
    });
});
