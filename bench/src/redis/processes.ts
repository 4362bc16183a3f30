/**
 * Starts worker processes (worker.ts) and collects what they report. From the compiled bench: `node dist/redis/worker.js`;
 * from the sources (vitest): through tsx, on the TypeScript sources of every package.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import type { CrawlWorkerConfig } from './worker.js';

const fromSource = import.meta.url.endsWith('.ts');
const script = fileURLToPath(new URL(fromSource ? './worker.ts' : './worker.js', import.meta.url));
/** The bench package: where `tsx` resolves from. */
const benchDir = fileURLToPath(new URL('../..', import.meta.url));

export interface WorkerEvent {
    worker: string;
    type: 'ready' | 'page' | 'failed' | 'done';
    url?: string;
    sessionId?: string;
    error?: string;
    stats?: Record<string, number>;
}

export interface WorkerProcess {
    readonly name: string;
    readonly child: ChildProcess;
    readonly events: WorkerEvent[];
    /** Resolves with the exit code (or signal name). */
    readonly exited: Promise<number | string>;
    /** Resolves when an event matching `pred` has arrived (rejects if the worker exits first). */
    until(pred: (e: WorkerEvent) => boolean): Promise<WorkerEvent>;
    stderr(): string;
}

export function startWorker(config: CrawlWorkerConfig): WorkerProcess {
    const args = fromSource ? ['--import', 'tsx', '--conditions=@sessionpack/source', script] : [script];
    const child = spawn(process.execPath, [...args, JSON.stringify(config)], {
        cwd: benchDir,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, CRAWLEE_PERSIST_STORAGE: 'false' },
    });
    const events: WorkerEvent[] = [];
    const waiters: { pred: (e: WorkerEvent) => boolean; resolve: (e: WorkerEvent) => void }[] = [];
    let buffer = '';
    let err = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
        buffer += chunk;
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
            const line = buffer.slice(0, nl);
            buffer = buffer.slice(nl + 1);
            if (!line.startsWith('{')) continue;
            const e = JSON.parse(line) as WorkerEvent;
            events.push(e);
            for (const w of [...waiters]) if (w.pred(e)) (waiters.splice(waiters.indexOf(w), 1), w.resolve(e));
        }
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err = (err + chunk).slice(-200_000)));
    const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
    return {
        name: config.name,
        child,
        events,
        exited,
        stderr: () => err,
        until(pred) {
            const found = events.find(pred);
            if (found) return Promise.resolve(found);
            return new Promise((resolve, reject) => {
                waiters.push({ pred, resolve });
                void exited.then((code) => reject(new Error(`worker ${config.name} exited (${code}) first; stderr: ${err.slice(-2000)}`)));
            });
        },
    };
}
