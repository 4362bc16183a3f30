/**
 * Starts a throwaway `redis-server` (Debian's package, or `REDIS_SERVER_PATH`) on a free loopback port with a temp
 * dir and no persistence, and stops it by PID. For tests, benchmarks and demos; production runs its own Redis.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A running redis-server. */
export interface RedisServerHandle {
    readonly port: number;
    readonly url: string;
    readonly pid: number;
    /** Stops it (SIGTERM, then SIGKILL after 5 s) and waits for the exit. */
    stop(): Promise<void>;
    /** Kills it (SIGKILL: a crash) and waits for the exit. */
    kill(): Promise<void>;
    /** Starts it again on the same port, empty (there is no persistence). */
    start(): Promise<void>;
    /** {@link kill} then {@link start}. */
    restart(): Promise<void>;
}

/** The redis-server binary: `REDIS_SERVER_PATH`, else Debian's `/usr/bin/redis-server`, else `redis-server` on PATH. */
export function redisServerPath(): string {
    if (process.env.REDIS_SERVER_PATH) return process.env.REDIS_SERVER_PATH;
    return existsSync('/usr/bin/redis-server') ? '/usr/bin/redis-server' : 'redis-server';
}

async function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = createServer();
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => {
            const { port } = server.address() as { port: number };
            server.close(() => resolve(port));
        });
    });
}

function launch(port: number, dir: string): Promise<ChildProcess> {
    const child = spawn(redisServerPath(), ['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--save', '', '--appendonly', 'no', '--loglevel', 'notice'], {
        stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new Promise((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => fail(new Error(`redis-server on port ${port} did not start within 10 s: ${out.slice(-500)}`)), 10_000);
        const onData = (chunk: Buffer) => {
            out += chunk.toString();
            if (out.includes('Ready to accept connections')) {
                clearTimeout(timer);
                child.stdout!.off('data', onData);
                child.stdout!.resume();
                child.stderr!.resume();
                child.off('exit', onExit);
                resolve(child);
            }
        };
        const onExit = (code: number | null) => fail(new Error(`redis-server exited with ${code} before it was ready: ${out.slice(-500)}`));
        function fail(error: Error) {
            clearTimeout(timer);
            child.kill('SIGKILL');
            reject(error);
        }
        child.stdout!.on('data', onData);
        child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
        child.once('exit', onExit);
        child.once('error', (e) => fail(new Error(`could not run ${redisServerPath()} (install Debian's redis-server package): ${e.message}`)));
    });
}

function stopChild(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
        const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
            clearTimeout(kill);
            resolve();
        });
        child.kill('SIGTERM');
    });
}

/** Starts redis-server on a free loopback port. */
export async function startRedisServer(): Promise<RedisServerHandle> {
    const dir = mkdtempSync(join(tmpdir(), 'sessionpack-redis-'));
    let port = 0;
    let child: ChildProcess | undefined;
    for (let attempt = 0; !child; attempt++) {
        port = await freePort();
        try {
            child = await launch(port, dir);
        } catch (error) {
            if (attempt >= 4) throw error;
        }
    }
    let current = child;
    const handle: RedisServerHandle = {
        port,
        url: `redis://127.0.0.1:${port}`,
        get pid() {
            return current.pid!;
        },
        async stop() {
            await stopChild(current);
            rmSync(dir, { recursive: true, force: true });
        },
        async kill() {
            current.kill('SIGKILL');
            await stopChild(current);
        },
        async start() {
            if (current.exitCode === null && current.signalCode === null) return;
            current = await launch(port, dir);
        },
        async restart() {
            await handle.kill();
            await handle.start();
        },
    };
    return handle;
}
