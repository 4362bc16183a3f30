/**
 * The example actors as a user gets them: each one's `.actor/actor.json` and input schema pass the checks the Apify
 * CLI and platform run (`@apify/json_schemas`' actor schema, `@apify/input_schema`'s validateInputSchema), each
 * depends on published-style versions and has a tsconfig of its own; the Cheerio actor, copied out of the repository
 * and installed with npm against the packed packages, crawls the embedded proving ground and leaves its dataset and
 * crawl report; the two browser actors compile with their own tsconfig.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';

import { validateInputSchema } from '@apify/input_schema';
import { Ajv } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '..');
const ACTORS = ['cheerio', 'playwright', 'puppeteer'] as const;
const dir = (name: string) => join(root, 'examples', `${name}-actor`);
const json = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
// The actor.json schema Apify publishes, with the schemas it refers to (the package exports no subpath for them).
const schemaDir = join(dirname(createRequire(import.meta.url).resolve('@apify/json_schemas/package.json')), 'schemas');
const actorSchemaAjv = new Ajv({ strict: false, allErrors: true });
for (const f of readdirSync(schemaDir)) if (f.endsWith('.schema.json') && f !== 'actor.schema.json') actorSchemaAjv.addSchema(json(join(schemaDir, f)));
const actorSchema = json(join(schemaDir, 'actor.schema.json'));
const scratch = mkdtempSync(join(tmpdir(), 'sessionpack-actors-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The Apify CLI's `validate-schema` check of an input schema (it throws with the reason; it needs draft 2019-09). */
function checkInputSchema(schema: Record<string, unknown>): void {
    validateInputSchema(new Ajv2019({ strict: false }), schema);
}

describe('example actors: what the Apify platform checks', () => {
    const validActor = actorSchemaAjv.compile(actorSchema);

    it.each(ACTORS)('%s: actor.json and its input schema pass the Apify checks; files it names exist', (name) => {
        const actor = json(join(dir(name), '.actor', 'actor.json'));
        expect(validActor(actor), JSON.stringify(validActor.errors)).toBe(true);
        for (const key of ['input', 'dockerfile', 'readme'] as const) {
            expect(existsSync(join(dir(name), '.actor', actor[key])), `${key}: ${actor[key]}`).toBe(true);
        }
        expect(() => checkInputSchema(json(join(dir(name), '.actor', actor.input)))).not.toThrow();
    });

    it('the input schema check rejects what the platform would (so the check above means something)', () => {
        const schema = json(join(dir('cheerio'), '.actor', 'input_schema.json'));
        expect(() => checkInputSchema({ ...schema, properties: { ...schema.properties, poolSize: { ...schema.properties.poolSize, editor: 'slider-of-doom' } } })).toThrow(/poolSize/);
        expect(() => checkInputSchema({ ...schema, properties: { ...schema.properties, scenario: { ...schema.properties.scenario, type: 'colour' } } })).toThrow(/scenario/);
        const actor = json(join(dir('cheerio'), '.actor', 'actor.json'));
        expect(validActor({ ...actor, version: 'one' })).toBe(false);
    });

    it.each(ACTORS)('%s: published-style dependencies, its own tsconfig, an Apify image, a README for local runs and the platform', (name) => {
        const manifest = json(join(dir(name), 'package.json'));
        const specs = Object.values({ ...manifest.dependencies, ...manifest.devDependencies }) as string[];
        expect(specs.filter((s) => s.startsWith('workspace:') || s.startsWith('file:') || s.startsWith('link:'))).toEqual([]);
        expect(manifest.dependencies['@sessionpack/actor-kit']).toBe('^0.1.0');
        expect(json(join(dir(name), 'tsconfig.json')).extends).toBeUndefined();
        const docker = readFileSync(join(dir(name), 'Dockerfile'), 'utf8');
        expect(docker.match(/^FROM apify\/actor-node[a-z-]*:20/gm)?.length).toBe(2);
        const readme = readFileSync(join(dir(name), 'README.md'), 'utf8');
        expect(readme).toMatch(/npm install/);
        expect(readme).toMatch(/npm start/);
        expect(readme).toMatch(/apify push/);
    });
});

describe('example actors outside the repository', () => {
    it('the Cheerio actor installs with npm against the packed packages and crawls the embedded proving ground', async () => {
        const packs = join(scratch, 'packs');
        mkdirSync(packs);
        const tarballs: Record<string, string> = {};
        for (const pkg of ['core', 'report', 'cheerio', 'proving-ground', 'actor-kit']) {
            const { stdout } = await run('pnpm', ['pack', '--pack-destination', packs], { cwd: join(root, 'packages', pkg) });
            const file = stdout.trim().split('\n').at(-1)!.trim();
            tarballs[json(join(root, 'packages', pkg, 'package.json')).name] = `file:${resolve(packs, file)}`;
        }
        const app = join(scratch, 'cheerio-actor');
        for (const entry of ['src', '.actor', 'package.json', 'tsconfig.json', 'Dockerfile', 'README.md']) cpSync(join(dir('cheerio'), entry), join(app, entry), { recursive: true });
        const manifest = json(join(app, 'package.json'));
        for (const name of Object.keys(manifest.dependencies)) if (tarballs[name]) manifest.dependencies[name] = tarballs[name];
        manifest.overrides = tarballs; // our packages depend on each other by ^0.1.0, which no registry has
        writeFileSync(join(app, 'package.json'), JSON.stringify(manifest, null, 2));

        await run('npm', ['install', '--no-fund', '--no-audit', '--loglevel=error'], { cwd: app, timeout: 240_000 });
        // Installed from the tarballs, not linked back into the repository.
        expect(realpathSync(join(app, 'node_modules', '@sessionpack', 'core'))).toBe(join(app, 'node_modules', '@sessionpack', 'core'));
        await run('npm', ['run', 'build'], { cwd: app, timeout: 120_000 });

        const storage = join(app, 'storage');
        mkdirSync(join(storage, 'key_value_stores', 'default'), { recursive: true });
        writeFileSync(join(storage, 'key_value_stores', 'default', 'INPUT.json'), JSON.stringify({ maxRequestsPerCrawl: 40, poolSize: 6 }));
        await run('npm', ['start'], {
            cwd: app,
            env: { ...process.env, CRAWLEE_STORAGE_DIR: storage, APIFY_LOCAL_STORAGE_DIR: storage, CRAWLEE_PURGE_ON_START: '0' },
            timeout: 180_000,
        });
        const items = readdirSync(join(storage, 'datasets', 'default')).map((f) => json(join(storage, 'datasets', 'default', f)));
        expect(items.length).toBeGreaterThan(5);
        for (const item of items) {
            expect(item.url).toMatch(/^http:\/\/shop\.test:\d+\/product\/\d+$/);
            expect(item.price).toMatch(/^\d+\.\d\d$/);
            expect(item.location).toBe('DE'); // the init picked DE through the CSRF-protected form
        }
        const report = readFileSync(join(storage, 'key_value_stores', 'default', 'SESSIONPACK_REPORT.html'), 'utf8');
        expect(report).toContain('data-pool="shop.test"');
        expect(Number(report.match(/data-counter="use\/ok">(\d+)</)?.[1])).toBeGreaterThanOrEqual(items.length);
        // The README's `npx sessionpack-report` works in the actor's folder (the CLI arrives with @sessionpack/core).
        const { stdout } = await run('npx', ['--no-install', 'sessionpack-report', 'storage'], { cwd: app });
        expect(stdout).toContain(join(storage, 'sessionpack-report.html'));
        expect(readFileSync(join(storage, 'sessionpack-report.html'), 'utf8')).toContain('data-pool="shop.test"');
    }, 420_000);

    it.each(['playwright', 'puppeteer'])('the %s actor compiles with its own tsconfig', async (name) => {
        await run('node', [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(dir(name), 'tsconfig.json'), '--noEmit'], { cwd: dir(name), timeout: 120_000 });
    }, 150_000);
});
