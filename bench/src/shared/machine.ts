/** What a run was measured on: printed at the top of every run and recorded in BENCHMARKS.md. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';

export interface MachineInfo {
    date: string;
    node: string;
    nproc: number;
    cpuModel: string;
    memoryGiB: number;
    free: string;
    commit: string;
    /** 1, 5 and 15 minute load averages when the run started (other work on the machine skews timings). */
    load: number[];
}

function tryRun(command: string, args: string[]): string {
    try {
        return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trimEnd();
    } catch {
        return 'unknown';
    }
}

export function machineInfo(): MachineInfo {
    let cpuModel = cpus()[0]?.model ?? 'unknown';
    try {
        const line = readFileSync('/proc/cpuinfo', 'utf8')
            .split('\n')
            .find((l) => l.startsWith('model name'));
        if (line) cpuModel = line.split(':')[1]!.trim();
    } catch {
        // not Linux: keep os.cpus()
    }
    return {
        date: new Date().toISOString(),
        node: process.version,
        nproc: Number(tryRun('nproc', [])) || cpus().length,
        cpuModel,
        memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
        free: tryRun('free', ['-h']),
        commit: tryRun('git', ['rev-parse', '--short', 'HEAD']),
        load: loadavg().map((l) => Math.round(l * 100) / 100),
    };
}

export function renderMachine(m: MachineInfo): string {
    return [
        `- date: ${m.date}`,
        `- commit: ${m.commit}`,
        `- node: ${m.node}`,
        `- nproc: ${m.nproc}`,
        `- CPU: ${m.cpuModel}`,
        `- load average at start (1, 5, 15 min): ${m.load.join(', ')}`,
        `- memory (free -h):`,
        '```',
        m.free,
        '```',
    ].join('\n');
}

/** The load averages now, as text. */
export function loadNow(): string {
    return loadavg()
        .map((l) => l.toFixed(2))
        .join(', ');
}
