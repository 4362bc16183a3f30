/**
 * Reads the shared corpus of real responses (`<repo>/../shared/blockpages`, see its README) into classifier inputs.
 * The corpus is data from elsewhere: it is read at test time and never copied into the project.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { ClassifierOptions, Outcome, ResponseSnapshot } from '../src/index.js';

export type Expected = Outcome['type'];

interface Extract {
    type: 'strip-backticks' | 'whatwaf' | 'nock' | 'markdown-block' | 'curl-v' | 'empty';
    index?: number;
    afterLine?: number;
    beforeMarker?: string;
}

interface ManifestItem {
    id: string;
    file?: string;
    kind: string;
    vendor: string;
    expected: Expected;
    acceptable?: Expected[];
    status?: number;
    headers?: Record<string, string>;
    url?: string;
    body?: string;
    extract?: Extract;
    error?: { message: string; name?: string; code?: string };
    usingProxy?: boolean;
    proxyUrl?: string;
}

/** One corpus entry as the classifier sees it. */
export interface CorpusCase {
    id: string;
    kind: string;
    expected: Expected;
    /** Outcomes that count as right: `expected` and the manifest's `acceptable`. */
    accepted: readonly Expected[];
    snapshot: ResponseSnapshot;
    options: ClassifierOptions;
}

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * `<repo>/../shared/blockpages`, where CI puts it. In a git worktree (`.git` is a file pointing into the main
 * checkout's `.git/worktrees/`), the main checkout's sibling is tried too. `SESSIONPACK_BLOCKPAGES` overrides both.
 */
export function corpusDir(): string {
    const candidates = [process.env.SESSIONPACK_BLOCKPAGES, join(REPO_ROOT, '../shared/blockpages')];
    const dotGit = join(REPO_ROOT, '.git');
    if (existsSync(dotGit) && !existsSync(join(dotGit, 'HEAD'))) {
        const gitdir = /^gitdir:\s*(.+)$/m.exec(readFileSync(dotGit, 'utf8'))?.[1]?.trim();
        const main = gitdir?.split(/[\\/]\.git[\\/]worktrees[\\/]/)[0];
        if (main && main !== gitdir) candidates.push(join(main, '../shared/blockpages'));
    }
    const found = candidates.find((c): c is string => Boolean(c) && existsSync(join(c!, 'manifest.json')));
    if (!found) {
        throw new Error(`The block page corpus is missing: looked for manifest.json in ${candidates.filter(Boolean).join(', ')}. ` +
            'Clone the repository next to shared/ (CI does), or set SESSIONPACK_BLOCKPAGES.');
    }
    return found;
}

function fencedBlocks(text: string): string[] {
    return [...text.matchAll(/^```[^\n]*\n([\s\S]*?)^```/gm)].map((m) => m[1]!);
}

function parseHeaderLines(lines: string[]): Record<string, string> {
    const headers: Record<string, string> = {};
    for (const line of lines) {
        const m = /^([A-Za-z0-9-]+):\s?(.*)$/.exec(line);
        if (m) headers[m[1]!.toLowerCase()] = m[2]!.trim();
    }
    return headers;
}

interface Extracted {
    status?: number;
    headers?: Record<string, string>;
    body: string;
}

function extract(text: string, how: Extract | undefined): Extracted {
    switch (how?.type) {
        case undefined:
            return { body: text };
        case 'empty':
            return { body: '' };
        case 'strip-backticks':
            return { body: text.replace(/^\s*```[a-z]*/, '').replace(/```\s*$/, '') };
        case 'whatwaf': {
            // `<!--` request line, `Status code: N`, response headers `-->`, then the body.
            // Older fingerprints write `<!---`/`--->` and the headers as one Python dict (`HTTP headers: {'A': 'b'}`).
            const m = /^\s*<!---?\s*\n([\s\S]*?)\n---?>\n?/.exec(text);
            if (!m) throw new Error('whatwaf fixture without its fingerprint comment');
            const lines = m[1]!.split('\n');
            const status = /^Status code:\s*(\d{3})/m.exec(m[1]!)?.[1];
            const dict = /^HTTP headers: \{(.*)\}$/m.exec(m[1]!)?.[1];
            const headers = dict
                ? Object.fromEntries([...dict.matchAll(/'([^']+)': '([^']*)'/g)].map((h) => [h[1]!.toLowerCase(), h[2]!]))
                : parseHeaderLines(lines.slice(1).filter((l) => !/^Status code:/.test(l)));
            return { status: status ? Number(status) : undefined, headers, body: text.slice(m[0].length) };
        }
        case 'nock': {
            const rec = (JSON.parse(text) as { status: string | number; response: unknown; rawHeaders?: string[] | Record<string, string> }[])[how.index ?? 0]!;
            const headers: Record<string, string> = {};
            if (Array.isArray(rec.rawHeaders)) {
                for (let i = 0; i + 1 < rec.rawHeaders.length; i += 2) headers[rec.rawHeaders[i]!.toLowerCase()] = rec.rawHeaders[i + 1]!;
            } else if (rec.rawHeaders) {
                for (const [k, v] of Object.entries(rec.rawHeaders)) headers[k.toLowerCase()] = v;
            }
            const body = typeof rec.response === 'string' ? rec.response : JSON.stringify(rec.response);
            return { status: Number(rec.status), headers, body };
        }
        case 'markdown-block': {
            let block = fencedBlocks(text)[how.index ?? 0] ?? '';
            if (how.afterLine) block = block.split('\n').slice(how.afterLine).join('\n');
            if (how.beforeMarker && block.includes(how.beforeMarker)) block = block.slice(0, block.indexOf(how.beforeMarker));
            return { body: block };
        }
        case 'curl-v': {
            // `< HTTP/1.1 403 Forbidden`, `< Header: value` lines, a lone `<`, then the body.
            const lines = (fencedBlocks(text)[how.index ?? 0] ?? '').split('\n');
            const start = lines.findIndex((l) => /^< HTTP\/[\d.]+ \d{3}/.test(l));
            const end = lines.findIndex((l, i) => i > start && /^<\s*$/.test(l));
            const status = Number(/^< HTTP\/[\d.]+ (\d{3})/.exec(lines[start] ?? '')?.[1]);
            const headers = parseHeaderLines(lines.slice(start + 1, end).map((l) => l.replace(/^< /, '')));
            return { status: Number.isNaN(status) ? undefined : status, headers, body: lines.slice(end + 1).join('\n') };
        }
        default:
            throw new Error(`unknown extract type ${JSON.stringify(how)}`);
    }
}

/** Every manifest entry, with its response (status, headers, body, URL) or its error. */
export function loadCorpus(dir = corpusDir()): CorpusCase[] {
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { count: number; items: ManifestItem[] };
    const cases = manifest.items.map((item): CorpusCase => {
        const accepted = [item.expected, ...(item.acceptable ?? [])];
        const options: ClassifierOptions = { usingProxy: item.usingProxy, proxyUrl: item.proxyUrl, now: 0 };
        const base = { id: item.id, kind: item.kind, expected: item.expected, accepted, options };
        if (item.error) {
            const error = Object.assign(new Error(item.error.message), item.error.name ? { name: item.error.name } : {}, item.error.code ? { code: item.error.code } : {});
            return { ...base, snapshot: { error } };
        }
        const got: Extracted = item.file ? extract(readFileSync(join(dir, item.file), 'utf8'), item.extract) : { body: item.body ?? '' };
        const headers = { ...got.headers, ...Object.fromEntries(Object.entries(item.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])) };
        const statusCode = item.status ?? got.status;
        if (statusCode === undefined) throw new Error(`corpus item ${item.id} has no status`);
        return { ...base, snapshot: { statusCode, headers, body: got.body, ...(item.url ? { url: item.url } : {}) } };
    });
    if (cases.length !== manifest.count) throw new Error(`manifest says ${manifest.count} items, read ${cases.length}`);
    return cases;
}

/** Entries whose class only their status line and headers carry: without them, `ok` is right too. */
const VERDICT_IN_HEADERS: Record<string, string> = {
    'ratelimit-503-retry-after-opensubtitles': 'a one-line maintenance notice; only the 503 with Retry-After: 300 makes it a rate limit',
};

/**
 * The same corpus reduced to its HTML, served as a plain 200 with no headers and no URL: only markers can tell a
 * block then. Entries without an HTML body (errors, empty bodies, plain-text proxy answers, JSON) are left out.
 * A target error's page served as a 200 may be `ok` (nothing in its HTML has to say "5xx"), and so may the entries of
 * `VERDICT_IN_HEADERS`.
 */
export function htmlOnly(cases: readonly CorpusCase[]): CorpusCase[] {
    return cases
        .filter((c) => c.snapshot.body && /<(!doctype|html|head|body|title|div|p|h1|pre)\b/i.test(c.snapshot.body))
        .map((c) => ({
            ...c,
            accepted: c.expected === 'target-error' || VERDICT_IN_HEADERS[c.id] ? [...c.accepted, 'ok'] : c.accepted,
            snapshot: { statusCode: 200, body: c.snapshot.body },
            options: { now: 0 },
        }));
}

/** Recall and precision of one outcome class. */
export interface ClassScore {
    type: Expected;
    /** Entries expected to be this class. */
    total: number;
    /** Of those, how many got an accepted outcome. */
    found: number;
    /** Entries the classifier put in this class. */
    predicted: number;
    /** Of those, how many accept this class. */
    right: number;
    recall: number;
    precision: number;
}

export interface Scored {
    c: CorpusCase;
    got: Outcome;
    ok: boolean;
}

export function score(results: readonly Scored[]): ClassScore[] {
    const types: Expected[] = ['blocked', 'rate-limited', 'proxy-failure', 'target-error', 'ok'];
    return types.map((type) => {
        const expected = results.filter((r) => r.c.expected === type);
        const predicted = results.filter((r) => r.got.type === type);
        const found = expected.filter((r) => r.ok).length;
        const right = predicted.filter((r) => r.c.accepted.includes(type)).length;
        return {
            type,
            total: expected.length,
            found,
            predicted: predicted.length,
            right,
            recall: expected.length ? found / expected.length : 1,
            precision: predicted.length ? right / predicted.length : 1,
        };
    });
}
