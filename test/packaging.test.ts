/**
 * Proves how the published packages install for a user: the packed tarballs of every public
 * workspace package go into a scratch npm project next to the `crawlee` meta package, and that
 * project must end up with exactly one copy of `@crawlee/core` (ours are peer dependencies), with
 * our Session class being the one crawlee's crawlers check against.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const publicPackages = readdirSync(join(root, 'packages'))
    .map((dir) => ({ dir: join(root, 'packages', dir), manifest: JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')) }))
    .filter(({ manifest }) => !manifest.private);

let scratch: string;

function findAll(dir: string, name: string, found: string[] = []): string[] {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (!entry.isDirectory()) continue;
        const path = join(dir, entry.name);
        if (path.endsWith(name)) found.push(path);
        else findAll(path, name, found);
    }
    return found;
}

describe('packed packages next to crawlee', () => {
    beforeAll(() => {
        scratch = mkdtempSync(join(tmpdir(), 'sessionpack-pack-'));
        const tarballs: Record<string, string> = {};
        for (const { dir, manifest } of publicPackages) {
            execFileSync('pnpm', ['pack', '--pack-destination', scratch], { cwd: dir, stdio: 'pipe' });
            const file = readdirSync(scratch).find((f) => f.startsWith(manifest.name.replace('@', '').replace('/', '-')) && f.endsWith('.tgz'));
            tarballs[manifest.name] = `file:${join(scratch, file!)}`;
        }
        writeFileSync(
            join(scratch, 'package.json'),
            JSON.stringify({
                name: 'scratch',
                private: true,
                type: 'module',
                dependencies: { crawlee: '3.18.1', ...tarballs },
                // linkedom 0.18.15 needs a package this registry lacks (ENVIRONMENT.md); our own packages are not published.
                overrides: { linkedom: '0.18.14', ...tarballs },
            }),
        );
        // npm installs peer dependencies (puppeteer among them); its postinstall must not download a browser here.
        execFileSync('npm', ['install', '--no-fund', '--no-audit', '--loglevel=error'], {
            cwd: scratch,
            stdio: 'pipe',
            env: { ...process.env, PUPPETEER_SKIP_DOWNLOAD: 'true' },
        });
    }, 240_000);

    afterAll(() => rmSync(scratch, { recursive: true, force: true }));

    it('installs exactly one @crawlee/core', () => {
        const copies = findAll(join(scratch, 'node_modules'), join('@crawlee', 'core'));
        expect(copies).toEqual([join(scratch, 'node_modules', '@crawlee', 'core')]);
    });

    it("a crawler from 'crawlee' runs with our hooks, and its sessions are crawlee's own Session class", () => {
        // A user's script: CheerioCrawler from the meta package, withSessions from ours, a local page, no proxy.
        const script = `
            import http from 'node:http';
            import { CheerioCrawler, Configuration, Session } from 'crawlee';
            import { withSessions } from '@sessionpack/cheerio';
            import { SessionManager } from '@sessionpack/core';
            const server = http.createServer((req, res) => { res.setHeader('content-type', 'text/html'); res.end('<title>ok</title>'); });
            await new Promise((r) => server.listen(0, '127.0.0.1', r));
            const base = 'http://127.0.0.1:' + server.address().port;
            const config = new Configuration({ persistStorage: false });
            const manager = await SessionManager.open({ store: false, statsIntervalSecs: 0, config });
            const seen = [];
            const crawler = new CheerioCrawler(withSessions({
                requestHandler: async ({ session, $ }) => { seen.push({ isCrawleeSession: session instanceof Session, title: $('title').text() }); },
            }, manager), config);
            await crawler.run([base + '/a', base + '/b']);
            await manager.close();
            server.close();
            console.log('RESULT ' + JSON.stringify(seen));
        `;
        const out = execFileSync('node', ['--input-type=module', '-e', script], { cwd: scratch, encoding: 'utf8' });
        const line = out.split('\n').find((l) => l.startsWith('RESULT '))!;
        const seen = JSON.parse(line.slice('RESULT '.length));
        expect(seen).toEqual([
            { isCrawleeSession: true, title: 'ok' },
            { isCrawleeSession: true, title: 'ok' },
        ]);
    });
});
