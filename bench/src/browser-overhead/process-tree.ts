/**
 * Resident memory of a process tree, sampled from outside: the parent measures each crawl's child process and its
 * descendants (Chromium, its renderers and GPU process), and nothing else (not the proving ground, not the parent).
 */
import { execFile } from 'node:child_process';

/**
 * Resident memory (KiB) of `root` and all its descendants. Asynchronous: a synchronous `ps` every 200 ms blocked the
 * event loop for about a third of the run. The `ps` child itself is left out (it descends from the sampling process,
 * not from `root`, but between its fork and its exec it is a copy of the sampler).
 */
export function treeRssKiB(root: number): Promise<TreeMemory> {
    return new Promise((resolve, reject) => {
        const ps = execFile('ps', ['-eo', 'pid=,ppid=,rss='], { encoding: 'utf8' }, (error, stdout) => {
            if (error) reject(error);
            else resolve(sumTree(stdout, root, ps.pid));
        });
    });
}

/** Resident memory of a process tree and how many processes it had. */
export interface TreeMemory {
    kib: number;
    processes: number;
}

/** Sums the RSS column of `ps -eo pid=,ppid=,rss=` output over `root`'s tree, without `exclude`. */
export function sumTree(psOutput: string, root: number, exclude: number | undefined): TreeMemory {
    const rows = psOutput
        .split('\n')
        .map((line) => line.trim().split(/\s+/).map(Number))
        .filter((r) => r.length === 3 && r.every(Number.isFinite) && r[0] !== exclude);
    const children = new Map<number, number[][]>();
    for (const r of rows) children.set(r[1]!, [...(children.get(r[1]!) ?? []), r]);
    let total = rows.find((r) => r[0] === root)?.[2] ?? 0;
    let processes = 1;
    const stack = [root];
    while (stack.length) {
        for (const child of children.get(stack.pop()!) ?? []) {
            total += child[2]!;
            processes++;
            stack.push(child[0]!);
        }
    }
    return { kib: total, processes };
}

/** Samples `root`'s tree every `intervalMs` until stopped; `stop()` resolves to the peak memory seen (and the most processes). */
export function samplePeak(root: number, intervalMs = 200): { stop(): Promise<TreeMemory> } {
    const peak: TreeMemory = { kib: 0, processes: 0 };
    let pending: Promise<void> = Promise.resolve();
    let sampling = false;
    const sample = (): void => {
        if (sampling) return;
        sampling = true;
        pending = treeRssKiB(root)
            .then((now) => {
                peak.kib = Math.max(peak.kib, now.kib);
                peak.processes = Math.max(peak.processes, now.processes);
            })
            .catch(() => {})
            .finally(() => void (sampling = false));
    };
    sample();
    const timer = setInterval(sample, intervalMs);
    return {
        async stop() {
            clearInterval(timer);
            await pending;
            return peak;
        },
    };
}
