import { Log, LogLevel } from '@crawlee/core';
import { describe, expect, it, vi } from 'vitest';

import { COUNTER_NAMES, ManualClock, SessionManager, summaryLine } from '../src/index.js';
import { PASSWORDS, PROXIES, req } from './helpers.js';

function capturingLog() {
    const log = new Log({ level: LogLevel.OFF });
    const child = log.child({ prefix: 'SessionManager' });
    vi.spyOn(log, 'child').mockReturnValue(child);
    const lines: string[] = [];
    for (const level of ['info', 'warning', 'error', 'debug'] as const) {
        vi.spyOn(child, level).mockImplementation((m: string) => void lines.push(m));
    }
    return { log, lines };
}

describe('stats', () => {
    it('counts per pool with the DESIGN.md names, plus sessions by state', async () => {
        const clock = new ManualClock();
        const m = await SessionManager.open({
            store: false,
            statsIntervalSecs: 0,
            clock,
            log: capturingLog().log,
            // Changed on purpose (issue 11): blocked and check-failed back their proxy off at once (fresh sessions), so
            // the seven outcomes need more than three proxies to find a usable one each time.
            proxyUrls: [...PROXIES, 'http://127.0.0.21:8011', 'http://127.0.0.22:8012', 'http://127.0.0.23:8013'],
            pool: { minDelayBetweenUsesMillis: 1000 },
            rules: [{ match: 'https://b.test/**', init: () => {} }],
        });
        const outcomes = ['ok', 'blocked', 'rate-limited', 'proxy-failure', 'check-failed', 'target-error', 'handler-error'] as const;
        for (const type of outcomes) m.report(await m.acquire(req('https://a.test/')), { type });
        const held = await m.acquire(req('https://b.test/'));
        const st = m.stats();
        expect(Object.keys(st.pools).sort()).toEqual(['a.test', 'b.test']);
        const a = st.pools['a.test']!;
        expect(Object.keys(a.counters).sort()).toEqual([...COUNTER_NAMES].sort());
        for (const type of outcomes) expect(a.counters[`use/${type}`]).toBe(1);
        expect(a.counters['session/retired']).toBe(3);
        expect(a.counters['proxy/backoff']).toBe(3);
        expect(a.counters['session/created']).toBe(a.sessions.ready + a.sessions.cooling + a.sessions.retired);
        expect(a.sessions.retired).toBe(3);
        expect(a.size).toBe(100);
        const b = st.pools['b.test']!;
        expect(b.counters['init/passed']).toBe(1);
        expect(b.sessions).toMatchObject({ ready: 1, inUse: 1 });
        expect(st.totals.counters['session/created']).toBe(a.counters['session/created'] + 1);
        expect(st.proxies).toMatchObject({ configured: 6, backoff: 3 });
        m.report(held, { type: 'ok' });
        await m.close();
    });

    it('logs a one-line summary every statsIntervalSecs and a final one on close, without secrets', async () => {
        const clock = new ManualClock();
        const { log, lines } = capturingLog();
        const m = await SessionManager.open({ store: false, statsIntervalSecs: 60, clock, log, proxyUrls: PROXIES });
        const s = await m.acquire(req('https://a.test/'));
        m.report(s, { type: 'proxy-failure', reason: `ECONNREFUSED ${PROXIES[0]}` });
        const before = lines.length;
        await clock.advance(59_000);
        expect(lines.length).toBe(before);
        await clock.advance(1_000);
        expect(lines.length).toBe(before + 1);
        expect(lines.at(-1)).toMatch(/^1 pools, 0 live sessions .* 1 retired \| uses: ok 0, .*proxy-failure 1.*\| proxies: 0 in backoff, 0 banned on a site, 3 configured$/);
        // Proxies are named by id and host:port, never with their credentials.
        const { id, hostPort } = s.identity.proxy!;
        expect(hostPort).toMatch(/^127\.0\.0\.1[123]:800[123]$/);
        expect(lines.some((l) => l.startsWith(`Proxy ${id} (${hostPort}) backs off everywhere until `))).toBe(true);
        await clock.advance(120_000);
        expect(lines.length).toBe(before + 3);
        await m.close();
        expect(lines.at(-1)).toMatch(/^Final: /);
        await clock.advance(120_000);
        expect(lines.at(-1)).toMatch(/^Final: /);
        for (const line of lines) for (const pw of PASSWORDS) expect(line).not.toContain(pw);
    });

    it('summaryLine is one line', () => {
        const line = summaryLine({
            pools: {},
            totals: {
                counters: Object.fromEntries(COUNTER_NAMES.map((n) => [n, 0])) as never,
                sessions: { new: 0, initializing: 0, ready: 0, cooling: 0, retired: 0, inUse: 0 },
            },
            proxies: { configured: 'dynamic', tracked: 0, backoff: 0, bannedOnSites: 0 },
        });
        expect(line).not.toContain('\n');
    });
});
