/**
 * No import circle in any package: every relative import and re-export of every package's `src` (type-only ones
 * included, they tie modules together just as much) forms a graph that must have no cycle.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

function sources(dir: string): string[] {
    const out: string[] = [];
    for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) out.push(...sources(path));
        else if (/\.tsx?$/.test(name) && !name.endsWith('.d.ts')) out.push(path);
    }
    return out;
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'";]*?from\s*['"](\.{1,2}\/[^'"]+)['"]/g;

/** Relative imports of one file, resolved to source files. */
function importsOf(file: string): string[] {
    const text = readFileSync(file, 'utf8');
    const out: string[] = [];
    for (const m of text.matchAll(IMPORT)) {
        const target = resolve(dirname(file), m[1]!).replace(/\.js$/, '.ts');
        out.push(target.endsWith('.ts') ? target : `${target}.ts`);
    }
    return out;
}

/** Every cycle's members (strongly connected components of more than one file, or a file importing itself). */
export function importCircles(files: readonly string[]): string[][] {
    const graph = new Map(files.map((f) => [f, importsOf(f).filter((t) => files.includes(t))]));
    let index = 0;
    const idx = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const on = new Set<string>();
    const out: string[][] = [];
    const visit = (v: string) => {
        idx.set(v, index);
        low.set(v, index++);
        stack.push(v);
        on.add(v);
        for (const w of graph.get(v) ?? []) {
            if (!idx.has(w)) {
                visit(w);
                low.set(v, Math.min(low.get(v)!, low.get(w)!));
            } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
        }
        if (low.get(v) === idx.get(v)) {
            const scc: string[] = [];
            let w: string;
            do {
                w = stack.pop()!;
                on.delete(w);
                scc.push(w);
            } while (w !== v);
            if (scc.length > 1 || graph.get(v)!.includes(v)) out.push(scc.map((f) => relative(root, f)).sort());
        }
    };
    for (const f of files) if (!idx.has(f)) visit(f);
    return out;
}

describe('import circles', () => {
    const packages = readdirSync(join(root, 'packages')).filter((p) => statSync(join(root, 'packages', p, 'src'), { throwIfNoEntry: false })?.isDirectory());

    it('the check finds a circle when there is one', () => {
        // Two real files that import each other would be the bug itself; a synthetic graph proves the detector works.
        const dir = join(root, 'packages/core/test/fixtures/circle');
        expect(importCircles(sources(dir))).toEqual([['packages/core/test/fixtures/circle/a.ts', 'packages/core/test/fixtures/circle/b.ts']]);
    });

    it.each(packages)('none in packages/%s/src', (name) => {
        expect(packages.length).toBeGreaterThan(3);
        expect(importCircles(sources(join(root, 'packages', name, 'src')))).toEqual([]);
    });
});
