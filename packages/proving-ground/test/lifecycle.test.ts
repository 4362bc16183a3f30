import { describe, expect, it } from 'vitest';
import { ProvingGroundOptionsError, SESSION_COOKIE, startProvingGround } from '../src/index.js';
import { Client, request } from './helpers/client.js';

// Servers and sockets must all be gone after close(). (Timers are checked separately: vitest's own
// come and go.)
const NETWORK_HANDLES = ['TCPServerWrap', 'TCPSocketWrap'];

function networkHandles(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const type of process.getActiveResourcesInfo()) {
        if (NETWORK_HANDLES.includes(type)) counts[type] = (counts[type] ?? 0) + 1;
    }
    return counts;
}

async function settle(expected: Record<string, number>): Promise<Record<string, number>> {
    // Closed sockets leave the handle list on a later tick; give them a moment.
    for (let i = 0; i < 50; i++) {
        const now = networkHandles();
        if (JSON.stringify(now) === JSON.stringify(expected)) return now;
        await new Promise((r) => setImmediate(r));
    }
    return networkHandles();
}

describe('lifecycle', () => {
    it('close() leaves no open handles, even with keep-alive and requests in flight', async () => {
        const before = networkHandles();
        const timersBefore = process.getActiveResourcesInfo().filter((t) => t === 'Timeout').length;
        const pg = await startProvingGround({
            proxies: { count: 6, auth: { username: 'u', password: 'p' }, dead: { refuse: 1, tunnelError: 1 } },
            site: { latencyMs: 300, rateLimits: { perIp: { requests: 100, windowMs: 1000 } } },
            exposeDirect: true,
        });
        const alive = pg.proxies.filter((p) => !p.dead);
        await Promise.all(alive.map((p, i) => request(`${pg.siteUrl}/`, p.url, { tunnel: i % 2 === 0 })));
        expect(networkHandles().TCPServerWrap ?? 0).toBeGreaterThan(before.TCPServerWrap ?? 0);
        // Requests still waiting for the slow site when close() runs: wait (no fixed sleep) until every proxy took its second.
        const pending = alive.map((p) => request(`${pg.siteUrl}/product/1`, p.url).catch((e: Error) => e));
        for (let i = 0; i < 10_000 && !alive.every((p) => pg.stats().byProxy[p.index]!.requests >= 2); i++) await new Promise((r) => setTimeout(r, 1));
        expect(alive.map((p) => pg.stats().byProxy[p.index]!.requests)).toEqual(alive.map(() => 2));
        await pg.close();
        await pg.close(); // idempotent
        const outcomes = await Promise.all(pending);
        expect(outcomes.every((o) => o instanceof Error || o.status >= 500)).toBe(true);
        expect(await settle(before)).toEqual(before);
        const timers = process.getActiveResourcesInfo().filter((t) => t === 'Timeout').length;
        expect(timers).toBeLessThanOrEqual(timersBefore);
    });

    it('reset() clears counters, sessions and penalties', async () => {
        const pg = await startProvingGround({ proxies: { count: 1 }, site: { rateLimits: { perIp: { requests: 1, windowMs: 60_000 } } } });
        try {
            const c = new Client(pg.proxyUrls[0]);
            expect((await c.get(`${pg.siteUrl}/`)).status).toBe(200);
            expect((await c.get(`${pg.siteUrl}/`)).status).toBe(429);
            const oldSid = c.cookie('shop.test', SESSION_COOKIE);
            pg.reset();
            expect(pg.stats()).toMatchObject({ totals: { requests: 0 }, requests: [], bySession: {}, byProxy: { 0: { requests: 0, connections: 0 } } });
            const again = await c.get(`${pg.siteUrl}/`);
            expect(again.status).toBe(200);
            // The old cookie is unknown now: a new one is issued.
            expect(c.cookie('shop.test', SESSION_COOKIE)).not.toBe(oldSid);
        } finally {
            await pg.close();
        }
    });

    it('keeps a bounded request log', async () => {
        const pg = await startProvingGround({ proxies: { count: 1 }, maxLogEntries: 5 });
        try {
            for (let i = 1; i <= 12; i++) await request(`${pg.siteUrl}/product/${i}`, pg.proxyUrls[0]);
            const stats = pg.stats();
            expect(stats.requests.map((e) => e.path)).toEqual(['/product/8', '/product/9', '/product/10', '/product/11', '/product/12']);
            expect(stats.droppedRequests).toBe(7);
            expect(stats.totals.requests).toBe(12);
        } finally {
            await pg.close();
        }
    });
});

describe('options', () => {
    const rejects = (options: unknown, message: RegExp) =>
        expect(startProvingGround(options as never)).rejects.toSatisfy((e: unknown) => e instanceof ProvingGroundOptionsError && message.test((e as Error).message));

    it('names the offending option', async () => {
        await rejects({ seed: 'x' }, /seed/);
        await rejects({ proxies: { count: 0 } }, /count/);
        await rejects({ proxies: { cuont: 3 } }, /cuont/);
        await rejects({ site: { bans: { fraction: 1.5 } } }, /fraction/);
        await rejects({ site: { bans: { response: 'teapot' } } }, /response/);
        await rejects({ site: { host: 'shop.example.com' } }, /host/);
        await rejects({ site: { rateLimits: { perIp: { requests: 5 } } } }, /windowMs/);
        await rejects({ proxies: { count: 3, dead: { refuse: 2, tunnelError: 2 } } }, /options\.proxies\.dead.*options\.proxies\.count/);
        await rejects({ proxies: { count: 10, subnetSize: 5 }, site: { bans: { subnets: 3 } } }, /options\.site\.bans\.subnets/);
        await rejects({ site: { challenges: { userAgents: ['(unclosed'] } } }, /options\.site\.challenges\.userAgents/);
        await rejects({ scenario: 'nightmare' }, /options\.scenario "nightmare".*benign, realistic/);
    });
});
