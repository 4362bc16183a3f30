import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { ProvingGround } from './proving-ground.js';
import type { ProvingGroundOptions } from './options.js';
import { mergeOptions, scenarios } from './scenarios.js';
import type { Counters } from './stats.js';

/** What the CLI was asked to do. */
export type CliCommand =
    | { kind: 'help' }
    | { kind: 'list-scenarios' }
    | { kind: 'serve'; options: ProvingGroundOptions; showCredentials: boolean; json: boolean; statsIntervalMs: number };

export const USAGE = `Usage: sessionpack-proving-ground [flags]

Starts a local hostile shop and a proxy farm on loopback, prints their URLs and serves until Ctrl-C.

Flags:
  --scenario NAME        start from a preset (see --list-scenarios)
  --scenario-file FILE   JSON file with options (may itself name "scenario"); merged over --scenario
  --seed N               seed of everything random (default 1)
  --proxies N            number of proxies
  --port N               site port (default: a free port)
  --proxy-port N         port of the first proxy, the others follow (default: free ports)
  --host NAME            hostname of the site, must end in .test (default shop.test)
  --direct               also expose the site on http://127.0.0.1:PORT
  --auth USER:PASS       require these proxy credentials
  --show-credentials     print proxy passwords instead of ***
  --json                 print the URLs as one JSON object
  --stats-interval S     print a stats line every S seconds when traffic changed (0 = never, default 10)
  --list-scenarios       list the presets and exit
  -h, --help             show this help`;

/** Thrown for bad flags; the CLI prints the message and the usage. */
export class CliUsageError extends Error {
    override name = 'CliUsageError';
}

function integer(flag: string, value: string | undefined): number | undefined {
    if (value === undefined) return undefined;
    if (!/^-?\d+$/.test(value)) throw new CliUsageError(`--${flag} expects an integer, got ${JSON.stringify(value)}`);
    return Number(value);
}

/** Parses the CLI flags into options (flags win over --scenario-file, which wins over --scenario). */
export function parseCliArgs(argv: string[], readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')): CliCommand {
    let parsed;
    try {
        parsed = parseArgs({
            args: argv,
            strict: true,
            allowPositionals: false,
            options: {
                scenario: { type: 'string' },
                'scenario-file': { type: 'string' },
                seed: { type: 'string' },
                proxies: { type: 'string' },
                port: { type: 'string' },
                'proxy-port': { type: 'string' },
                host: { type: 'string' },
                direct: { type: 'boolean' },
                auth: { type: 'string' },
                'show-credentials': { type: 'boolean' },
                json: { type: 'boolean' },
                'stats-interval': { type: 'string' },
                'list-scenarios': { type: 'boolean' },
                help: { type: 'boolean', short: 'h' },
            },
        });
    } catch (error) {
        throw new CliUsageError((error as Error).message);
    }
    const v = parsed.values;
    if (v.help) return { kind: 'help' };
    if (v['list-scenarios']) return { kind: 'list-scenarios' };

    let options: ProvingGroundOptions = {};
    if (v.scenario) options.scenario = v.scenario;
    if (v['scenario-file']) {
        let fromFile: unknown;
        try {
            fromFile = JSON.parse(readFile(v['scenario-file']));
        } catch (error) {
            throw new CliUsageError(`--scenario-file ${v['scenario-file']}: ${(error as Error).message}`);
        }
        if (typeof fromFile !== 'object' || fromFile === null || Array.isArray(fromFile)) {
            throw new CliUsageError(`--scenario-file ${v['scenario-file']}: expected a JSON object of options`);
        }
        if ((fromFile as ProvingGroundOptions).scenario !== undefined && v.scenario) {
            throw new CliUsageError(`--scenario-file ${v['scenario-file']} names a scenario too; give it either in the file or with --scenario`);
        }
        options = mergeOptions(options, fromFile);
    }
    const flags: ProvingGroundOptions = {};
    const seed = integer('seed', v.seed);
    if (seed !== undefined) flags.seed = seed;
    const count = integer('proxies', v.proxies);
    const basePort = integer('proxy-port', v['proxy-port']);
    if (count !== undefined || basePort !== undefined || v.auth !== undefined) {
        flags.proxies = {};
        if (count !== undefined) flags.proxies.count = count;
        if (basePort !== undefined) flags.proxies.basePort = basePort;
        if (v.auth !== undefined) {
            const colon = v.auth.indexOf(':');
            if (colon <= 0) throw new CliUsageError('--auth expects USER:PASS');
            flags.proxies.auth = { username: v.auth.slice(0, colon), password: v.auth.slice(colon + 1) };
        }
    }
    const port = integer('port', v.port);
    if (port !== undefined || v.host !== undefined) {
        flags.site = {};
        if (port !== undefined) flags.site.port = port;
        if (v.host !== undefined) flags.site.host = v.host;
    }
    if (v.direct) flags.exposeDirect = true;
    const interval = integer('stats-interval', v['stats-interval']) ?? 10;
    return {
        kind: 'serve',
        options: mergeOptions(options, flags),
        showCredentials: v['show-credentials'] ?? false,
        json: v.json ?? false,
        statsIntervalMs: Math.max(0, interval) * 1000,
    };
}

/** `http://user:pass@host` -> `http://user:***@host` unless credentials are to be shown. */
export function redactProxyUrl(url: string, showCredentials: boolean): string {
    if (showCredentials) return url;
    const parsed = new URL(url);
    if (!parsed.password) return url;
    parsed.password = '***';
    return parsed.href.replace(/\/$/, '');
}

/** The scenario list for --list-scenarios. */
export function formatScenarios(): string {
    const width = Math.max(...Object.keys(scenarios).map((n) => n.length));
    return Object.values(scenarios).map((s) => `${s.name.padEnd(width)}  ${s.description}`).join('\n');
}

/** What the CLI prints once everything listens. */
export function formatBanner(pg: ProvingGround, scenarioLabel: string, showCredentials: boolean): string {
    const dead = pg.proxies.filter((p) => p.dead).length;
    const banned = pg.proxies.filter((p) => p.banned).length;
    const lines = [
        `sessionpack proving ground: ${scenarioLabel}, seed ${pg.seed}`,
        `site:    ${pg.siteUrl}   (any *.test host works; it resolves only through the proxies)`,
    ];
    if (pg.directUrl) lines.push(`direct:  ${pg.directUrl}`);
    lines.push(`proxies: ${pg.proxies.length} (${banned} banned, ${dead} dead)`);
    const width = Math.max(...pg.proxies.map((p) => redactProxyUrl(p.url, showCredentials).length));
    for (const p of pg.proxies) {
        const state = [p.dead ? `dead: ${p.dead}` : '', p.banned ? 'banned' : '', p.challenged ? 'challenged' : ''].filter(Boolean).join(', ') || 'ok';
        lines.push(`  ${redactProxyUrl(p.url, showCredentials).padEnd(width)}  ${p.ip.padEnd(12)}  ${state}`);
    }
    const sample = pg.proxies.find((p) => !p.dead && !p.banned) ?? pg.proxies[0];
    if (sample) lines.push('', `try:     curl -x ${redactProxyUrl(sample.url, showCredentials)} ${pg.siteUrl}/`);
    lines.push('Ctrl-C to stop.');
    return lines.join('\n');
}

/** One line of totals for the periodic stats print. */
export function formatTotals(totals: Counters): string {
    return `requests ${totals.requests}, pages ${totals.pages}, landings ${totals.landings}, 403 ${totals.forbidden}, ` +
        `429 ${totals.rateLimited}, soft blocks ${totals.softBlocks}, challenges ${totals.challenges}, captchas ${totals.captchas}, ` +
        `ua mismatches ${totals.uaMismatches}, during penalty ${totals.duringPenalty}`;
}
