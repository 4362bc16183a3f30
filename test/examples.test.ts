/**
 * The example actor and the demo, run as a user runs them (built JavaScript, own process, own storage),
 * judged by what they wrote: the actor's dataset and the demo's table.
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
    it('the Cheerio example actor crawls the embedded proving ground and stores location prices', async () => {
        const storage = join(scratch, 'cheerio-actor');
        mkdirSync(join(storage, 'key_value_stores', 'default'), { recursive: true });
        writeFileSync(join(storage, 'key_value_stores', 'default', 'INPUT.json'), JSON.stringify({ maxRequestsPerCrawl: 40, poolSize: 6 }));
        await run('node', [join(root, 'examples/cheerio-actor/dist/main.js')], {
            cwd: scratch,
            env: { ...process.env, CRAWLEE_STORAGE_DIR: storage, APIFY_LOCAL_STORAGE_DIR: storage, CRAWLEE_PURGE_ON_START: '0' },
            timeout: 120_000,
        });
        const dir = join(storage, 'datasets', 'default');
        const items = readdirSync(dir).map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')));
        expect(items.length).toBeGreaterThan(10);
        for (const item of items) {
            expect(item.url).toMatch(/^http:\/\/shop\.test:\d+\/product\/\d+$/);
            expect(item.price).toMatch(/^\d+\.\d\d$/);
            expect(item.location).toBe('DE'); // the init picked DE through the CSRF-protected form
        }
    });

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
    });
});
