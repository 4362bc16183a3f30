/**
 * The connection to Redis: an ioredis client that fails fast while Redis is away (no offline queue, one retry), keeps
 * reconnecting in the background, and has the sessionpack scripts defined on it. At start, an unreachable Redis is a
 * clear error naming the URL without its password.
 */
import { redactText, redactUrl } from '@sessionpack/core';
import { Redis } from 'ioredis';

import { APPLY_LUA, LEASE_LUA, PULL_LUA, RELEASE_LUA, RENEW_LUA } from './scripts.js';

/** Redis could not be reached when the store opened. */
export class RedisUnavailableError extends Error {
    constructor(
        message: string,
        /** The URL with its password redacted. */
        readonly url: string,
        options?: { cause?: unknown },
    ) {
        super(message, options);
        this.name = 'RedisUnavailableError';
    }
}

/** The scripts as ioredis commands (defined once per client). */
export interface ScriptCommands {
    sessionpackApply(numKeys: number, ...args: (string | number)[]): Promise<unknown>;
    sessionpackPull(numKeys: number, ...args: (string | number)[]): Promise<unknown>;
    sessionpackLease(numKeys: number, ...args: (string | number)[]): Promise<unknown>;
    sessionpackRelease(numKeys: number, ...args: (string | number)[]): Promise<unknown>;
    sessionpackRenew(numKeys: number, ...args: (string | number)[]): Promise<unknown>;
}

export type ScriptedRedis = Redis & ScriptCommands;

const SCRIPTS = {
    sessionpackApply: APPLY_LUA,
    sessionpackPull: PULL_LUA,
    sessionpackLease: LEASE_LUA,
    sessionpackRelease: RELEASE_LUA,
    sessionpackRenew: RENEW_LUA,
};

function defineScripts(client: Redis): ScriptedRedis {
    const c = client as ScriptedRedis;
    for (const [name, lua] of Object.entries(SCRIPTS)) {
        if (typeof (c as unknown as Record<string, unknown>)[name] !== 'function') c.defineCommand(name, { lua });
    }
    return c;
}

/** What `connect()` gives back. */
export interface Connection {
    client: ScriptedRedis;
    /** Whether the store made the client (then `close()` quits it). */
    owned: boolean;
    /** The URL with its password redacted (for messages). */
    safeUrl: string;
}

/** Connects to `url` (or readies `client`), within `timeoutMillis`. */
export async function connect(options: { url: string; client?: Redis; timeoutMillis: number }): Promise<Connection> {
    if (options.client) {
        const client = options.client;
        const safeUrl = describeClient(client);
        await waitReady(client, options.timeoutMillis, safeUrl);
        return { client: defineScripts(client), owned: false, safeUrl };
    }
    const safeUrl = redactUrl(options.url);
    const client = new Redis(options.url, {
        lazyConnect: true,
        connectTimeout: options.timeoutMillis,
        // Commands fail at once while Redis is away: the sync loop keeps its changes and tries again on its next tick.
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
        retryStrategy: (times) => Math.min(100 * times, 1000),
    });
    // ioredis emits connection errors as events; the sync loop reports the outage (once), so swallow them here.
    client.on('error', () => {});
    try {
        await waitReady(client, options.timeoutMillis, safeUrl);
    } catch (error) {
        client.disconnect();
        throw error;
    }
    return { client: defineScripts(client), owned: true, safeUrl };
}

function describeClient(client: Redis): string {
    const o = client.options;
    return `redis://${o.host ?? '127.0.0.1'}:${o.port ?? 6379}${o.db ? `/${o.db}` : ''}`;
}

async function waitReady(client: Redis, timeoutMillis: number, safeUrl: string): Promise<void> {
    if (client.status === 'ready') return;
    const fail = (why: string, cause?: unknown) =>
        new RedisUnavailableError(
            `Could not connect to Redis at ${safeUrl} (${why}). Start redis-server there (see the @sessionpack/redis README) or pass the \`url\` of a running one.`,
            safeUrl,
            { cause },
        );
    await new Promise<void>((resolve, reject) => {
        let lastError: Error | undefined;
        const timer = setTimeout(() => finish(fail(lastError ? redactText(lastError.message) : `no answer within ${timeoutMillis} ms`, lastError)), timeoutMillis);
        const onReady = () => finish();
        const onError = (e: Error) => {
            lastError = e;
            // Refused or unknown host: no point waiting for the timeout.
            if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN|WRONGPASS|NOAUTH|NOPERM/.test(e.message)) finish(fail(redactText(e.message), e));
        };
        const onEnd = () => finish(fail(lastError ? redactText(lastError.message) : 'connection closed', lastError));
        function finish(error?: Error) {
            clearTimeout(timer);
            client.off('ready', onReady);
            client.off('error', onError);
            client.off('end', onEnd);
            if (error) reject(error);
            else resolve();
        }
        client.on('ready', onReady);
        client.on('error', onError);
        client.on('end', onEnd);
        if (client.status === 'wait') client.connect().catch((e: Error) => onError(e));
    });
}

