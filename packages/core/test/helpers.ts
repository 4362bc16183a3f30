import { Configuration, Log, LogLevel } from '@crawlee/core';

import { ManualClock, SessionManager, type SessionManagerOptions } from '../src/index.js';

/** A deterministic random source (mulberry32). */
export function seeded(seed = 42): () => number {
    let a = seed >>> 0;
    return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

export const PROXIES = [
    'http://alice:s3cret-one@127.0.0.11:8001',
    'http://bob:s3cret-two@127.0.0.12:8002',
    'http://carol:s3cret-three@127.0.0.13:8003',
];
export const PASSWORDS = ['s3cret-one', 's3cret-two', 's3cret-three'];

/** A manager with a manual clock, seeded random, no store and no periodic stats, unless overridden. */
export async function openManager(options: SessionManagerOptions = {}) {
    const clock = (options.clock as ManualClock | undefined) ?? new ManualClock();
    const manager = await SessionManager.open({
        store: false,
        statsIntervalSecs: 0,
        random: seeded(1),
        log: quietLog(),
        ...options,
        clock,
    });
    return { manager, clock };
}

export function memoryConfig(): Configuration {
    return new Configuration({ persistStorage: false });
}

export const req = (url: string, userData: Record<string, unknown> = {}) => ({ url, userData });

/** A log that prints nothing (tests assert on behaviour, not on log lines). */
export function quietLog(): Log {
    return new Log({ level: LogLevel.OFF });
}
