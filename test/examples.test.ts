/**
 * The demo, run as a user runs it (built JavaScript, own process), judged by what it printed and the report it wrote.
 * The example actors themselves are run outside the repository in actors.test.ts.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '..');
const scratch = mkdtempSync(join(tmpdir(), 'sessionpack-examples-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('examples', () => {
    it('the demo prints the side-by-side table, sessionpack fetching every page', async () => {
        const { stdout } = await run('node', [join(root, 'examples/cheerio-actor/dist/demo.js')], {
            cwd: scratch,
            env: { ...process.env, DEMO_PAGES: '60' },
            timeout: 180_000,
        });
        const line = (label: string) => stdout.split('\n').find((l) => l.startsWith(label))!.trim().split(/\s{2,}/).slice(1).map(Number);
        const [oursPages, stockPages] = line('pages done');
        const [oursBlocked, stockBlocked] = line('blocked');
        expect(oursPages).toBe(60);
        expect(stockPages).toBeLessThan(60);
        expect(oursBlocked).toBeLessThan(stockBlocked!);
        expect(stdout).toMatch(/sessions retired/);
        expect(stdout).toMatch(/proxies in backoff/);
        // The demo ends with where the crawl report of its sessionpack run is; that file is the report.
        const report = /Crawl report of the sessionpack run \(open it in a browser\): (.+)$/m.exec(stdout)?.[1];
        expect(report).toBe(join(scratch, 'storage', 'sessionpack-demo-report.html'));
        const html = readFileSync(report!, 'utf8');
        expect(html).toContain('<section class="pool" data-pool="shop.test">');
        expect(html.match(/data-counter="use\/ok">(\d+)</)?.[1]).toBe(String(oursPages));
    });
});
