import { describe, expect, it } from 'vitest';

import { openManager, PROXIES, req } from './helpers.js';

const url = 'https://a.test/';

async function fill(policy: 'scored' | 'random' | 'round-robin' | 'use-until-failure', size = 3) {
    const { manager, clock } = await openManager({ proxyUrls: PROXIES, policy, pool: { size, maxUses: 1000 } });
    const created = [];
    for (let i = 0; i < size; i++) created.push(await manager.acquire(req(url)));
    for (const s of created) manager.report(s, { type: 'ok' });
    return { manager, clock, created };
}

describe('policies', () => {
    it('round-robin: sessions in turn, proxies in turn', async () => {
        const { manager, created } = await fill('round-robin');
        expect(new Set(created.map((s) => s.identity.proxy!.id)).size).toBe(3);
        const order = [];
        for (let i = 0; i < 6; i++) {
            const s = await manager.acquire(req(url));
            order.push(created.indexOf(s));
            manager.report(s, { type: 'ok' });
        }
        expect(order).toEqual([0, 1, 2, 0, 1, 2]);
    });

    it('use-until-failure: the same session until it fails, then one new one', async () => {
        const { manager } = await openManager({ proxyUrls: PROXIES, policy: 'use-until-failure', pool: { size: 5, maxUses: 1000 } });
        const first = await manager.acquire(req(url));
        manager.report(first, { type: 'ok' });
        for (let i = 0; i < 5; i++) {
            const s = await manager.acquire(req(url));
            expect(s).toBe(first);
            manager.report(s, { type: 'ok' });
        }
        manager.report(await manager.acquire(req(url)), { type: 'blocked' });
        const next = await manager.acquire(req(url));
        expect(next).not.toBe(first);
        manager.report(next, { type: 'ok' });
        expect(await manager.acquire(req(url))).toBe(next);
        expect(manager.pools.get('a.test')!.sessions.size).toBe(1);
    });

    it('random: spreads over every usable session', async () => {
        const { manager, created } = await fill('random', 4);
        const counts = new Map<string, number>();
        for (let i = 0; i < 200; i++) {
            const s = await manager.acquire(req(url));
            counts.set(s.id, (counts.get(s.id) ?? 0) + 1);
            manager.report(s, { type: 'ok' });
        }
        expect(counts.size).toBe(created.length);
        for (const c of counts.values()) expect(c).toBeGreaterThan(20);
    });

    it('scored: prefers sessions on the proxy with the best record on this site, still explores', async () => {
        // Changed on purpose (issue 11): a block on a fresh session backs its proxy off at once, and load spreads over
        // near-best proxies, so the others are made worse by a block each and probed once their backoff ended.
        const { manager, clock } = await openManager({ proxyUrls: PROXIES, pool: { size: 3, maxUses: 10_000 } });
        const created = [];
        for (let i = 0; i < 3; i++) created.push(await manager.acquire(req(url)));
        for (const s of created) manager.report(s, { type: 'ok' });
        // (New sessions follow Thompson draws over unknown proxies: the helper's seed puts the three on three proxies.)
        expect(new Set(created.map((s) => s.identity.proxy!.id)).size).toBe(3);
        const best = created[1]!.identity.proxy!.id;
        for (const s of created) {
            const id = s.identity.proxy!.id;
            for (let i = 0; i < 20; i++) manager.health.record(id, 'a.test', 'success');
            if (id !== best) for (let i = 0; i < 3; i++) manager.health.record(id, 'a.test', 'blocked', 0, { goodUses: 0 });
        }
        await clock.advance(60_000);
        const counts = new Map<string, number>();
        for (let i = 0; i < 300; i++) {
            const s = await manager.acquire(req(url));
            counts.set(s.identity.proxy!.id, (counts.get(s.identity.proxy!.id) ?? 0) + 1);
            manager.report(s, { type: 'ok' });
        }
        expect(counts.get(best)!).toBeGreaterThan(240);
        expect(counts.size).toBe(3); // the others are tried again once their backoff ends
    });

    it('scored: new sessions go to the most promising proxies, spread by load', async () => {
        const { manager } = await openManager({ proxyUrls: PROXIES, pool: { size: 6, explorationRate: 0 } });
        const [good, , bad] = PROXIES.map((u) => manager['proxies'].fixed!.find((p) => p!.url === u)!.id);
        for (let i = 0; i < 30; i++) manager.health.record(good!, 'elsewhere.test', 'success');
        for (let i = 0; i < 30; i++) manager.health.record(bad!, 'elsewhere.test', i % 3 ? 'blocked' : 'success');
        const byProxy = new Map<string, number>();
        for (let i = 0; i < 6; i++) {
            const s = await manager.acquire(req(url));
            byProxy.set(s.identity.proxy!.id, (byProxy.get(s.identity.proxy!.id) ?? 0) + 1);
        }
        expect(byProxy.get(good!)!).toBeGreaterThanOrEqual(byProxy.get(bad!) ?? 0);
        expect(byProxy.get(good!)!).toBeGreaterThanOrEqual(2);
        expect(byProxy.size).toBeGreaterThanOrEqual(2);
    });
});
