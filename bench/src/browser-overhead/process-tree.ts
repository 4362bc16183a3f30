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
        const ps = execFile('ps', ['-eo', 'pid=,ppid=,rss=,args='], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 }, (error, stdout) => {
            if (error) reject(error);
            else resolve(sumTree(stdout, root, ps.pid));
        });
    });
}

/** Resident memory of a process tree and how many processes it had. */
export interface TreeMemory {
    kib: number;
    processes: number;
    /** KiB by kind of process: `node` (the crawl's own), Chromium's `browser`, and its `--type=` (renderer, gpu-process...). */
    byKind: Record<string, number>;
    /** Processes by kind, as in {@link byKind}. */
    countByKind: Record<string, number>;
}

/** Sums the RSS column of `ps -eo pid=,ppid=,rss=,args=` output over `root`'s tree, without `exclude`. */
export function sumTree(psOutput: string, root: number, exclude: number | undefined): TreeMemory {
    const rows = psOutput
        .split('\n')
        .map((line) => /^\s*(\d+)\s+(\d+)\s+(\d+)\s?(.*)$/.exec(line))
        .filter((m): m is RegExpExecArray => m !== null && Number(m[1]) !== exclude)
        .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), rss: Number(m[3]), args: m[4] ?? '' }));
    const children = new Map<number, typeof rows>();
    for (const r of rows) children.set(r.ppid, [...(children.get(r.ppid) ?? []), r]);
    const own = rows.find((r) => r.pid === root);
    const byKind: Record<string, number> = { node: own?.rss ?? 0 };
    const countByKind: Record<string, number> = { node: 1 };
    let total = own?.rss ?? 0;
    let processes = 1;
    const stack = [root];
    while (stack.length) {
        for (const child of children.get(stack.pop()!) ?? []) {
            total += child.rss;
            processes++;
            const kind = /--type=([\w-]+)/.exec(child.args)?.[1] ?? (/chrom/i.test(child.args.split(' ')[0] ?? '') ? 'browser' : 'other');
            byKind[kind] = (byKind[kind] ?? 0) + child.rss;
            countByKind[kind] = (countByKind[kind] ?? 0) + 1;
            stack.push(child.pid);
        }
    }
    return { kib: total, processes, byKind, countByKind };
}

/**
 * Samples `root`'s tree every `intervalMs` until stopped; `stop()` resolves to the peak memory seen (with the processes
 * and kinds of that sample; `processes` is the most seen in any sample).
 */
export function samplePeak(root: number, intervalMs = 200): { stop(): Promise<TreeMemory> } {
    const peak: TreeMemory = { kib: 0, processes: 0, byKind: {}, countByKind: {} };
    let pending: Promise<void> = Promise.resolve();
    let sampling = false;
    const sample = (): void => {
        if (sampling) return;
        sampling = true;
        pending = treeRssKiB(root)
            .then((now) => {
                if (now.kib > peak.kib) {
                    peak.kib = now.kib;
                    peak.byKind = now.byKind;
                    peak.countByKind = now.countByKind;
                }
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
