/**
 * Type tests: compiles every package's `test/types/*.ts` fixtures (never run) with the workspace's compiler options,
 * workspace packages from their sources, and expects no diagnostics. A fixture holds what must compile (README snippets
 * included, `expectTypeOf` for exact types) and `@ts-expect-error` lines for what must not: an expected error that does
 * not happen is itself a diagnostic.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../', import.meta.url));
const fixtures = readdirSync(`${root}packages`).flatMap((pkg) => {
    const dir = `${root}packages/${pkg}/test/types/`;
    return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => `${dir}${f}`) : [];
});

describe('types', () => {
    it('handlers, hooks and rules are typed per adapter; owned options and wrong hook states do not compile', () => {
        const config = ts.getParsedCommandLineOfConfigFile(`${root}packages/cheerio/tsconfig.json`, {}, {
            ...ts.sys,
            onUnRecoverableConfigFileDiagnostic: (d) => {
                throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
            },
        })!;
        const program = ts.createProgram(fixtures, { ...config.options, rootDir: root, noEmit: true, customConditions: ['@sessionpack/source'] });
        const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => {
            const where = d.file ? `${d.file.fileName.slice(root.length)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}` : '';
            return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
        });
        expect(fixtures.map((f) => f.slice(root.length)).sort()).toEqual([
            'packages/cheerio/test/types/cheerio-fixture.ts',
            'packages/playwright/test/types/playwright-fixture.ts',
            'packages/puppeteer/test/types/puppeteer-fixture.ts',
        ]);
        expect(diagnostics).toEqual([]);
        // The negative cases are there in every fixture.
        for (const f of fixtures) expect(readFileSync(f, 'utf8').match(/@ts-expect-error/g)?.length ?? 0).toBeGreaterThanOrEqual(3);
    }, 240_000);
});
