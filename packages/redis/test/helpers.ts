import { Log, Logger, LogLevel } from '@crawlee/core';
import { ManualClock } from '@sessionpack/core';
import { Redis } from 'ioredis';

import { RedisSharedState, type RedisStoreOptions } from '../src/index.js';

/** A Crawlee Log whose lines (level name + message) are kept for assertions. */
export function captureLog(): { log: Log; lines: string[] } {
    const lines: string[] = [];
    class Capture extends Logger {
        override _log(level: LogLevel, message: string): void {
            lines.push(`${LogLevel[level]} ${message}`);
        }
    }
    return { log: new Log({ level: LogLevel.DEBUG, logger: new Capture({}) }), lines };
}

/** Workers in one process: stores on one Redis and prefix, with manual sync (no timer) and a shared manual clock. */
export async function openWorkers(url: string, prefix: string, n: number, options: RedisStoreOptions = {}, clock = new ManualClock()) {
    const stores: RedisSharedState[] = [];
    const logs: string[][] = [];
    for (let i = 0; i < n; i++) {
        const { log, lines } = captureLog();
        const store = new RedisSharedState({ url, prefix, syncIntervalMillis: 0, workerId: `w${i}`, clock, log, ...options });
        await store.open();
        stores.push(store);
        logs.push(lines);
    }
    return { stores, logs, clock };
}

/** Every key and value under `prefix`, as text (to search for secrets). */
export async function dumpPrefix(url: string, prefix: string): Promise<string> {
    const client = new Redis(url);
    try {
        const keys = await client.keys(`${prefix}:*`);
        const parts: string[] = [];
        for (const key of keys) {
            const type = await client.type(key);
            const value = type === 'hash' ? await client.hgetall(key) : type === 'zset' ? await client.zrange(key, '0', '-1') : await client.get(key);
            parts.push(key, JSON.stringify(value));
        }
        return parts.join('\n');
    } finally {
        client.disconnect();
    }
}
