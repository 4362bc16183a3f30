/**
 * What matters in the first minutes of a crawl: the state is saved soon after the first changes and at once after a
 * proxy backs off (not only on Crawlee's 60 s persist tick), a dead proxy farm stops the crawl within seconds with
 * one clear reason, and a failing init is explained at info level once per pool.
 */
import { Log, LogLevel } from '@crawlee/core';
import { describe, expect, it, vi } from 'vitest';

import { ManualClock, NoUsableProxyError, SessionManager, type PersistedState, type SessionStore, type StateChanges } from '../src/index.js';
import { PASSWORDS, PROXIES, quietLog, req, seeded } from './helpers.js';

class RecordingStore implements SessionStore {
    readonly saves: { at: number; state: PersistedState }[] = [];
    readonly updates: { at: number; changes: StateChanges }[] = [];
    constructor(
        private readonly clock: ManualClock,
        withUpdate: boolean,
    ) {
        if (withUpdate) this.update = async (changes) => void this.updates.push({ at: this.clock.now(), changes: JSON.parse(JSON.stringify(changes)) });
    }
    update?: (changes: StateChanges) => Promise<void>;
    async load() {
        return undefined;
    }
    async save(state: PersistedState) {
        this.saves.push({ at: this.clock.now(), state: JSON.parse(JSON.stringify(state)) });
    }
}

function capturingLog() {
    const log = new Log({ level: LogLevel.OFF });
    const child = log.child({ prefix: 'SessionManager' });
    vi.spyOn(log, 'child').mockReturnValue(child);
    const lines: { level: string; text: string }[] = [];
    for (const level of ['info', 'warning', 'error', 'debug'] as const) {
        vi.spyOn(child, level).mockImplementation((m: string) => void lines.push({ level, text: m }));
    }
    return { log, lines };
}

const open = (clock: ManualClock, store: SessionStore, extra: object = {}) =>
    SessionManager.open({ proxyUrls: PROXIES, store: { custom: store, persistOnEvent: false }, statsIntervalSecs: 0, clock, random: seeded(3), log: quietLog(), ...extra });

describe('saving', () => {
    it('saves within 5 s of the first change, then at once after a proxy backoff', async () => {
        const clock = new ManualClock();
        const store = new RecordingStore(clock, false);
        const m = await open(clock, store);
        const start = clock.now();
        m.report(await m.acquire(req('https://a.test/')), { type: 'ok' });
        await clock.advance(4_999);
        expect(store.saves).toHaveLength(0);
        await clock.advance(1);
        expect(store.saves.map((s) => s.at - start)).toEqual([5_000]);
        expect(store.saves[0]!.state.pools['a.test']!.sessions).toHaveLength(1);
        // Ordinary uses after the first save wait for Crawlee's persist tick (or close)...
        m.report(await m.acquire(req('https://a.test/')), { type: 'ok' });
        await clock.advance(30_000);
        expect(store.saves).toHaveLength(1);
        // ...but a proxy backoff is saved at once.
        const s = await m.acquire(req('https://a.test/'));
        m.report(s, { type: 'proxy-failure', reason: 'ECONNREFUSED' });
        await clock.advance(0);
        expect(store.saves).toHaveLength(2);
        const health = store.saves[1]!.state.health[s.identity.proxy!.id]!;
        expect(health.global.backoff?.until).toBeGreaterThan(clock.now());
        expect(JSON.stringify(store.saves)).not.toContain(PASSWORDS[0]);
        await m.close();
    });

    it('a store with update() gets the changed sessions and proxy health, not whole snapshots', async () => {
        const clock = new ManualClock();
        const store = new RecordingStore(clock, true);
        const m = await open(clock, store);
        const a = await m.acquire(req('https://a.test/'));
        const b = await m.acquire(req('https://b.test/'));
        m.report(a, { type: 'ok' });
        m.report(b, { type: 'blocked' });
        await clock.advance(5_000);
        expect(store.saves).toHaveLength(0);
        expect(store.updates).toHaveLength(1);
        const changes = store.updates[0]!.changes;
        expect(changes.sessions.map((x) => [x.pool, x.session.id])).toEqual([['a.test', a.id]]);
        expect(changes.retired.map((x) => [x.pool, x.retired.id])).toEqual([['b.test', b.id]]);
        expect(Object.keys(changes.health).sort()).toEqual([...new Set([a.identity.proxy!.id, b.identity.proxy!.id])].sort());
        expect(changes.headerSets[changes.sessions[0]!.session.headers as number]).toEqual(a.identity.headers);
        await m.close();
        expect(store.saves).toHaveLength(1); // close() writes the whole state
    });
});

describe('a dead proxy farm', () => {
    it('stops acquires within 15 s of the first refusals, naming the reason, instead of waiting out timeouts', async () => {
        const clock = new ManualClock();
        const m = await SessionManager.open({ proxyUrls: PROXIES, store: false, statsIntervalSecs: 0, clock, random: seeded(4), log: quietLog(), pool: { acquireTimeoutSecs: 120 } });
        const start = clock.now();
        const tried = new Map<string, number>();
        let error: unknown;
        // What an adapter does: every attempt's proxy refuses the connection, and the next attempt asks again.
        const crawl = (async () => {
            for (;;) {
                const s = await m.acquire(req('https://a.test/'));
                tried.set(s.identity.proxy!.id, (tried.get(s.identity.proxy!.id) ?? 0) + 1);
                m.report(s, { type: 'proxy-failure', reason: 'connect ECONNREFUSED' });
            }
        })().catch((e) => (error = e));
        while (error === undefined && clock.now() - start < 120_000) await clock.advance(250);
        await crawl;
        expect(error).toBeInstanceOf(NoUsableProxyError);
        expect(clock.now() - start).toBeLessThan(15_000);
        expect((error as Error).message).toMatch(/3 configured, 3 in backoff.*failed again on its probe/);
        // The evidence: every proxy refused, then refused its probe after the backoff.
        expect([...tried.values()].every((n) => n >= 2)).toBe(true);
        await m.close();
    });
});

describe('failed inits', () => {
    it('are explained at info level once per pool', async () => {
        const { log, lines } = capturingLog();
        const m = await SessionManager.open({
            store: false,
            statsIntervalSecs: 0,
            clock: new ManualClock(),
            log,
            pool: { maxInitFailuresInRow: 5, acquireTimeoutSecs: 0 },
            rules: [{ match: 'https://a.test/**', init: () => { throw new Error('login form changed'); } }],
        });
        for (let i = 0; i < 3; i++) await m.acquire(req('https://a.test/x')).catch(() => undefined);
        const info = lines.filter((l) => l.level === 'info' && l.text.includes('init'));
        expect(info).toHaveLength(1);
        expect(info[0]!.text).toMatch(/pool "a\.test" failed .*login form changed/);
        expect(lines.filter((l) => l.level === 'debug' && l.text.includes('login form changed')).length).toBeGreaterThanOrEqual(2);
        await m.close();
    });
});
