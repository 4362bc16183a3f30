/**
 * One sync round trip: everything this worker has to send (new header sets and fingerprints, the queued deltas, lease
 * claims, releases and renewals) and the pull of what others changed, in one pipeline, and what each reply does to the
 * local view. What could not be sent is queued again for the next round.
 */
import type { ScriptedRedis } from './connection.js';
import type { InternTables } from './interned.js';
import type { Keys } from './keys.js';
import type { LeaseBook } from './leases.js';
import type { ResolvedRedisStoreOptions } from './options.js';
import type { Replica } from './replica.js';

/** What one `RedisSharedState.sync()` did. */
export interface SyncReport {
    /** False when Redis could not be reached (nothing was lost: the changes wait for the next sync). */
    ok: boolean;
    /** Records pushed. */
    pushed: number;
    /** Records pulled. */
    pulled: number;
    /** Redis had lost its data (restart without persistence, flush) and this worker re-seeded it. */
    reseeded: boolean;
    /** Leases this worker lost (they expired and another worker took the session). */
    lostLeases: { pool: string; id: string }[];
}

/** Records pulled per round trip; a pull that fills it is followed by more until caught up. */
export const PULL_LIMIT = 500;
/** Changes after which a gone record (released lease, expired session) is no longer listed for workers behind. */
export const TOMBSTONE_KEEP = 100_000;

type Pipeline = Record<string, (...args: (string | number)[]) => unknown> & { exec(): Promise<[Error | null, unknown][] | null> };

/** What a round works on: the worker's connection, identity and local view. */
export interface SyncRoundParts {
    client: ScriptedRedis;
    keys: Keys;
    /** The epoch of the shared data this worker knows (a different one in Redis: it lost its data). */
    epoch: string;
    workerId: string;
    options: ResolvedRedisStoreOptions;
    replica: Replica;
    leases: LeaseBook;
    interned: InternTables;
}

/** What a round came back with. */
export interface SyncRoundResult {
    report: SyncReport;
    /** The first error of any reply (Redis unreachable, a script failed), or undefined. */
    failure: unknown;
    /** Redis answered with another epoch: it lost what was shared. */
    epochLost: boolean;
    /** The renewals were sent and answered. */
    renewed: boolean;
}

/** Sends what is due at `now` (renewals when `renewDue`) and pulls, in one pipeline. */
export async function syncRound(parts: SyncRoundParts, now: number, renewDue: boolean): Promise<SyncRoundResult> {
    const { client, keys, epoch, workerId, options, replica, leases, interned } = parts;
    const report: SyncReport = { ok: false, pushed: 0, pulled: 0, reseeded: false, lostLeases: [] };
    const { releases, claims, renewals } = leases.takeWork(now, options.leaseIdleMillis, renewDue);
    const batch = replica.takeBatch();
    const internedTables = interned.takePending();

    const p = client.pipeline() as unknown as Pipeline;
    /** What to do with the reply of each queued command, in the order they were queued. */
    const replies: ((error: Error | null, value: unknown) => void)[] = [];
    let epochLost = false;
    let renewed = false;
    for (const [table, ids] of internedTables) {
        p.hset!(keys.table(table), ...[...ids].flatMap((id) => [id, JSON.stringify(interned.get(table, id))]));
        replies.push((error) => void (error && interned.requeue(table, ids)));
    }
    const batchKeys = [...batch.keys()];
    if (batchKeys.length > 0) {
        p.sessionpackApply!(3 + batchKeys.length, keys.epoch, keys.seq, keys.changes, ...batchKeys,
            epoch, now, options.healthHalfLifeMillis, options.retiredTtlMillis, JSON.stringify(batchKeys.map((k) => batch.get(k))));
        replies.push((error, value) => {
            const lost = Array.isArray(value) && value[0] === 'EPOCH';
            if (error || lost) {
                replica.requeue(batch);
                epochLost ||= lost;
            } else {
                report.pushed = batchKeys.length;
                replica.pushed(batch);
            }
        });
    }
    for (const [key, h] of claims) {
        p.sessionpackLease!(4, '', keys.seq, keys.changes, key, workerId, h.slots, h.cap, 1, now, options.leaseTtlMillis);
        replies.push((error, value) => {
            if (error || !Array.isArray(value)) return;
            const [granted, taken] = value as [number, number];
            if (!leases.claimed(key, h, granted, taken, now)) report.lostLeases.push({ pool: h.pool, id: h.id });
        });
    }
    if (releases.size > 0) {
        p.sessionpackRelease!(3 + releases.size, '', keys.seq, keys.changes, ...releases, workerId);
        replies.push((error) => void (error && leases.requeueReleases(releases)));
    }
    if (renewDue) {
        p.sessionpackRenew!(3 + renewals.length, '', keys.seq, keys.changes, ...renewals.map(([k]) => k),
            workerId, now, options.leaseTtlMillis, JSON.stringify(renewals.map(([, h]) => [h.slots, h.cap])));
        replies.push((error, value) => {
            if (error || !Array.isArray(value)) return;
            renewed = true;
            for (const index of value as number[]) {
                const [key, h] = renewals[index - 1]!;
                leases.lost(key, h);
                report.lostLeases.push({ pool: h.pool, id: h.id });
            }
        });
    }
    p.sessionpackPull!(3, keys.epoch, keys.changes, keys.seq, epoch, replica.cursor, PULL_LIMIT, TOMBSTONE_KEEP);
    replies.push((error, value) => {
        if (error) return;
        if (Array.isArray(value) && value[0] === 'EPOCH') epochLost = true;
        else report.pulled += replica.ingest(value as unknown[]);
    });

    let results: [Error | null, unknown][] | null;
    try {
        results = await p.exec();
        if (!results) throw new Error('pipeline aborted');
    } catch (error) {
        results = replies.map(() => [error as Error, undefined]);
    }
    let failure: unknown;
    for (let i = 0; i < replies.length; i++) {
        const [error, value] = results[i] ?? [new Error('no reply'), undefined];
        if (error) failure ??= error;
        replies[i]!(error, value);
    }
    return { report, failure, epochLost, renewed };
}
