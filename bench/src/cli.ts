/**
 * `pnpm bench [part...] [--smoke] [--seed N] [--out FILE]`: runs the benchmark parts (all of them by default) and prints
 * their tables as Markdown (progress goes to stderr). Parts: selection, e2e, overhead, browser-overhead, core, report, redis
 * (all but browser-overhead by default).
 */
import { writeFileSync } from 'node:fs';

import { loadNow, machineInfo, renderMachine } from './shared/machine.js';
import { renderPart, type PartResult } from './shared/table.js';

const PARTS = ['selection', 'e2e', 'overhead', 'browser-overhead', 'core', 'report', 'redis'] as const;
type Part = (typeof PARTS)[number];
/**
 * What `pnpm bench` without a part runs: everything but browser-overhead (four browser crawls of 100 pages, ~6 min on
 * 2 cores, would take the whole run past 10 minutes); run it by name.
 */
const DEFAULT_PARTS: readonly Part[] = PARTS.filter((p) => p !== 'browser-overhead');

interface Args {
    parts: Part[];
    smoke: boolean;
    seed: number;
    out?: string;
}

const USAGE = `usage: pnpm bench [${PARTS.join('|')}]... [--smoke] [--seed N] [--out FILE]
  (no part: all of them but browser-overhead)  --smoke: tiny sizes (what CI runs)  --seed: base seed (default 1)  --out: also write the Markdown there`;

function parseArgs(argv: string[]): Args {
    const args: Args = { parts: [], smoke: process.env.BENCH_SMOKE === '1', seed: Number(process.env.BENCH_SEED ?? 1) };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i]!;
        if (a === '--') continue;
        if (a === '--smoke') args.smoke = true;
        else if (a === '--seed') args.seed = Number(argv[++i]);
        else if (a.startsWith('--seed=')) args.seed = Number(a.slice(7));
        else if (a === '--out') args.out = argv[++i];
        else if (a.startsWith('--out=')) args.out = a.slice(6);
        else if (a === '--help' || a === '-h') {
            console.log(USAGE);
            process.exit(0);
        } else if ((PARTS as readonly string[]).includes(a)) args.parts.push(a as Part);
        else {
            console.error(`Unknown argument "${a}".\n${USAGE}`);
            process.exit(2);
        }
    }
    if (!Number.isInteger(args.seed) || args.seed < 0) {
        console.error(`--seed must be a non-negative integer.\n${USAGE}`);
        process.exit(2);
    }
    if (args.parts.length === 0) args.parts = [...DEFAULT_PARTS];
    return args;
}

async function runPart(part: Part, args: Args): Promise<PartResult> {
    const common = { smoke: args.smoke, seed: args.seed };
    switch (part) {
        case 'selection':
            return (await import('./selection/index.js')).runSelection(common);
        case 'e2e':
            return (await import('./e2e/index.js')).runE2e(common);
        case 'overhead':
            return (await import('./overhead/index.js')).runOverhead(common);
        case 'browser-overhead':
            return (await import('./browser-overhead/index.js')).runBrowserOverhead(common);
        case 'core':
            return (await import('./core/index.js')).runCore(common);
        case 'report':
            return (await import('./report/index.js')).runReportBench(common);
        case 'redis':
            return (await import('./redis/index.js')).runRedis(common);
    }
}

const args = parseArgs(process.argv.slice(2));
const started = Date.now();
const machine = machineInfo();
const command = `pnpm bench${args.parts.join(' ') === DEFAULT_PARTS.join(' ') ? '' : ` ${args.parts.join(' ')}`}${args.smoke ? ' --smoke' : ''}${args.seed !== 1 ? ` --seed ${args.seed}` : ''}`;
const header = [`## Run: \`${command}\``, '', renderMachine(machine), ''].join('\n');
console.log(header);
const sections: string[] = [header];
for (const part of args.parts) {
    process.stderr.write(`bench: ${part}...\n`);
    const result = await runPart(part, args);
    const text = renderPart(result);
    console.log(text);
    sections.push(text);
}
const total = `Total wall time: ${((Date.now() - started) / 1000).toFixed(1)} s. Load average at the end (1, 5, 15 min): ${loadNow()}.`;
console.log(total);
sections.push(total, '');
if (args.out) writeFileSync(args.out, sections.join('\n'));
// Crawlee and browser pools may leave unref'd handles behind; the run is over.
process.exit(0);
