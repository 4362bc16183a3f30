import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CliUsageError, formatBanner, parseCliArgs, redactProxyUrl } from '../src/cli-args.js';
import { startProvingGround } from '../src/index.js';
import { request } from './helpers/client.js';

describe('CLI flags', () => {
    it('turns flags into options; flags win over the scenario file, which wins over the scenario', () => {
        const file = JSON.stringify({ seed: 3, proxies: { count: 7, subnetSize: 2 }, site: { usageCap: 9 } });
        const command = parseCliArgs(
            ['--scenario', 'sessions', '--scenario-file', 'x.json', '--seed', '4', '--proxies', '5', '--port', '8123', '--direct', '--auth', 'u:p:w'],
            () => file,
        );
        expect(command).toEqual({
            kind: 'serve',
            showCredentials: false,
            json: false,
            statsIntervalMs: 10_000,
            options: {
                scenario: 'sessions',
                seed: 4,
                exposeDirect: true,
                proxies: { count: 5, subnetSize: 2, auth: { username: 'u', password: 'p:w' } },
                site: { usageCap: 9, port: 8123 },
            },
        });
        expect(parseCliArgs(['--scenario-file', 'f.json'], () => '{"scenario":"realistic","seed":2}')).toMatchObject({ options: { scenario: 'realistic', seed: 2 } });
        expect(parseCliArgs(['--help'])).toEqual({ kind: 'help' });
        expect(parseCliArgs(['--list-scenarios'])).toEqual({ kind: 'list-scenarios' });
    });

    it('rejects bad flags with a usage error', () => {
        expect(() => parseCliArgs(['--seed', 'abc'])).toThrow(CliUsageError);
        expect(() => parseCliArgs(['--nope'])).toThrow(CliUsageError);
        expect(() => parseCliArgs(['--auth', 'nopass'])).toThrow(/USER:PASS/);
        expect(() => parseCliArgs(['--scenario-file', 'f.json'], () => '[1]')).toThrow(/JSON object/);
        expect(() => parseCliArgs(['--scenario', 'benign', '--scenario-file', 'f.json'], () => '{"scenario":"realistic"}')).toThrow(/either/);
    });

    it('redacts proxy passwords unless asked to show them', async () => {
        expect(redactProxyUrl('http://bob:secret@127.0.0.1:8000', false)).toBe('http://bob:***@127.0.0.1:8000');
        expect(redactProxyUrl('http://bob:secret@127.0.0.1:8000', true)).toBe('http://bob:secret@127.0.0.1:8000');
        expect(redactProxyUrl('http://127.0.0.1:8000', false)).toBe('http://127.0.0.1:8000');
        const pg = await startProvingGround({ proxies: { count: 3, auth: { username: 'bob', password: 'secret' } } });
        try {
            const banner = formatBanner(pg, 'custom options', false);
            expect(banner).toContain(pg.siteUrl);
            expect(banner).not.toContain('secret');
            expect(banner.match(/bob:\*\*\*@127\.0\.0\.1/g)).toHaveLength(4); // 3 proxies + the curl example
            expect(formatBanner(pg, 'custom options', true)).toContain('bob:secret@');
        } finally {
            await pg.close();
        }
    });
});

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

describe('CLI binary', () => {
    it('serves until SIGINT, then closes', async () => {
        // The binary is the build output (scripts/test.sh builds every package first): missing means failing, not skipping.
        expect(existsSync(cli), `${cli} is missing: run \`pnpm build\``).toBe(true);
        const child = spawn(process.execPath, [cli, '--proxies', '2', '--json', '--stats-interval', '0', '--auth', 'a:b'], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.setEncoding('utf8');
        const firstLine = await new Promise<string>((resolve, reject) => {
            child.stdout.on('data', (chunk: string) => {
                out += chunk;
                if (out.includes('\n')) resolve(out.split('\n')[0]!);
            });
            child.once('exit', (code) => reject(new Error(`CLI exited early with ${code}`)));
        });
        const info = JSON.parse(firstLine) as { siteUrl: string; proxies: { url: string }[] };
        expect(info.proxies).toHaveLength(2);
        expect(info.proxies[0]!.url).toMatch(/^http:\/\/a:\*\*\*@127\.0\.0\.1:\d+$/);
        const res = await request(`${info.siteUrl}/`, info.proxies[0]!.url.replace('***', 'b'));
        expect(res.status).toBe(200);
        const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
        child.kill('SIGINT');
        expect(await exited).toBe(0);
        expect(out).toMatch(/SIGINT: closing\. Totals: requests 1, pages 1/);
    });
});
