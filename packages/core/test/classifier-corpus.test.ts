import { describe, expect, it } from 'vitest';

import { classify } from '../src/index.js';
import { type CorpusCase, htmlOnly, loadCorpus, type Scored, score } from './classifier-corpus.js';

// 169 real responses from ../shared/blockpages (read at test time; a missing corpus fails the suite, it never skips).
const corpus = loadCorpus();

function run(cases: readonly CorpusCase[]): Scored[] {
    return cases.map((c) => {
        const got = classify(c.snapshot, c.options);
        return { c, got, ok: c.accepted.includes(got.type) };
    });
}

function report(label: string, results: Scored[]) {
    const rows = score(results).map((s) => ({
        class: s.type,
        total: s.total,
        recall: `${s.found}/${s.total} = ${s.recall.toFixed(3)}`,
        precision: `${s.right}/${s.predicted} = ${s.precision.toFixed(3)}`,
    }));
    const wrong = results.filter((r) => !r.ok).map((r) => `  ${r.c.id}: expected ${r.c.accepted.join('|')}, got ${r.got.type} (${r.got.reason ?? ''})`);
    console.log(`${label} (${results.length} entries)\n${rows.map((r) => `  ${r.class.padEnd(14)} ${r.recall.padEnd(20)} precision ${r.precision}`).join('\n')}` +
        (wrong.length ? `\nwrong:\n${wrong.join('\n')}` : ''));
}

describe.each([
    ['whole corpus', corpus],
    ['HTML alone, as a plain 200 with no headers', htmlOnly(corpus)],
])('classifier on the real-page corpus: %s', (label, cases) => {
    const results = run(cases);
    const scores = score(results);
    const of = (type: string) => scores.find((s) => s.type === type)!;

    it('reads a corpus that holds every class (prints recall and precision per class)', () => {
        report(label, results);
        expect(cases.length).toBeGreaterThan(label === 'whole corpus' ? 160 : 110);
        expect(of('blocked').total).toBeGreaterThan(60);
        expect(of('ok').total).toBeGreaterThan(40);
    });

    it('catches at least 97 % of the blocks', () => {
        expect(of('blocked').recall).toBeGreaterThanOrEqual(0.97);
    });

    it('flags at most 2 % of what it calls blocked wrongly', () => {
        expect(of('blocked').precision).toBeGreaterThanOrEqual(0.98);
    });

    it('puts every rate limit and proxy failure in its class', () => {
        const misses = results.filter((r) => (r.c.expected === 'rate-limited' || r.c.expected === 'proxy-failure') && !r.ok);
        expect(misses.map((r) => `${r.c.id} → ${r.got.type}`)).toEqual([]);
    });
});
