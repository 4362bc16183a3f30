/**
 * Through a gateway (a dynamic ProxyConfiguration) a new session id is a draw of an unknown exit: after draws whose first
 * use failed, the pool waits (doubling, halving back on a draw that served) before drawing again. Counted at the
 * ProxyConfiguration: the URLs it was asked for.
 */
import { ProxyConfiguration } from '@crawlee/core';
import { describe, expect, it } from 'vitest';
import { DrawGuard } from '../src/draw-guard.js';
import { openManager, req } from './helpers.js';

function gateway() {
    const asked: string[] = [];
    const proxyConfiguration = new ProxyConfiguration({ newUrlFunction: (id) => (asked.push(String(id)), `http://user-session-${id}:pw-gw@127.0.0.30:9000`) });
    return { asked, proxyConfiguration };
}

describe('draws through a gateway', () => {
    it('after a draw blocked at its first use, no new id is drawn until the hold ends; a session it has serves meanwhile', async () => {
        const { asked, proxyConfiguration } = gateway();
        const { manager, clock } = await openManager({ proxyConfiguration, pool: { size: 5 } });
        const url = 'https://shop.test/p';
        const a = await manager.acquire(req(url));
        const b = await manager.acquire(req(url));
        expect(asked).toHaveLength(2);
        manager.report(a, { type: 'ok' });
        manager.report(b, { type: 'blocked', statusCode: 403 });
        // a is ready: it is handed out, no draw.
        const again = await manager.acquire(req(url));
        expect(again.id).toBe(a.id);
        // Every session busy: a new id would be drawn, but the failed draw holds it back 500 ms.
        let drawn: string | undefined;
        const pending = manager.acquire(req(url)).then((s) => (drawn = s.id));
        await clock.advance(499);
        expect(drawn).toBeUndefined();
        expect(asked).toHaveLength(2);
        await clock.advance(1);
        await pending;
        expect(asked).toHaveLength(3);
        expect(drawn).toBe(asked[2]);
        await manager.close();
    });

    it('a URL kept from a used-up session is not a draw and is never held', async () => {
        const { asked, proxyConfiguration } = gateway();
        const { manager } = await openManager({ proxyConfiguration, pool: { size: 5, maxUses: 1 } });
        const url = 'https://shop.test/p';
        const a = await manager.acquire(req(url));
        const b = await manager.acquire(req(url));
        manager.report(b, { type: 'blocked', statusCode: 403 });
        // a is used up after its one use: its URL is kept, and the next session takes it at once despite the hold.
        manager.report(a, { type: 'ok' });
        const c = await manager.acquire(req(url));
        expect(asked).toHaveLength(2);
        expect(c.identity.proxy!.id).toBe(a.identity.proxy!.id);
        await manager.close();
    });

    it('after two ids that had served are blocked within 5 s (an exit burning under both), the pool keeps fewer live ids', async () => {
        const { asked, proxyConfiguration } = gateway();
        const { manager, clock } = await openManager({ proxyConfiguration, pool: { size: 6 } });
        const url = 'https://shop.test/p';
        const first = [];
        for (let i = 0; i < 6; i++) first.push(await manager.acquire(req(url)));
        expect(asked).toHaveLength(6);
        for (const s of first) manager.report(s, { type: 'ok' });
        await clock.advance(1000);
        // One id blocked after 3 or more good uses, another 1 s later after at most 2 (disagreeing counts: no session cap).
        const blockedAt: number[] = [];
        for (let i = 0; i < 40 && blockedAt.length < 2; i++) {
            const s = await manager.acquire(req(url));
            const due = blockedAt.length === 0 ? s.usageCount >= 3 : s.usageCount <= 2;
            if (!due) {
                manager.report(s, { type: 'ok' });
                continue;
            }
            blockedAt.push(s.usageCount);
            manager.report(s, { type: 'blocked', statusCode: 403 });
            await clock.advance(1000);
        }
        expect(blockedAt).toHaveLength(2);
        // Four live ids, all handed out; the pool keeps 5 now (6 x 0.8): one more is drawn, not two.
        const busy = [];
        for (let i = 0; i < 5; i++) busy.push(await manager.acquire(req(url)));
        expect(asked).toHaveLength(7);
        let waited: string | undefined;
        const pending = manager.acquire(req(url)).then((s) => (waited = s.id));
        await clock.advance(100);
        expect(waited).toBeUndefined();
        expect(asked).toHaveLength(7);
        manager.report(busy[0]!, { type: 'ok' });
        await pending;
        expect(waited).toBe(busy[0]!.id);
        expect(asked).toHaveLength(7);
        for (const s of busy.slice(1)) manager.report(s, { type: 'ok' });
        await manager.close();
    });
});

describe('DrawGuard', () => {
    it('doubles the hold with each failed draw in a row, up to its maximum, and a draw that served halves it back', () => {
        const g = new DrawGuard({ baseMillis: 100, maxMillis: 350 });
        const holds: number[] = [];
        let now = 0;
        for (let i = 0; i < 4; i++) {
            g.drew(`p${i}`);
            g.judge(`p${i}`, 'blocked', now);
            holds.push(g.heldUntil - now);
            now = g.heldUntil;
        }
        expect(holds).toEqual([100, 200, 350, 350]);
        // Two that served: level 4 -> 2; the next failure holds 2^2 x base (capped).
        for (const id of ['ok1', 'ok2']) {
            g.drew(id);
            g.judge(id, 'success', now);
        }
        g.drew('p9');
        g.judge('p9', 'rate-limited', now);
        expect(g.heldUntil - now).toBe(350);
        const h = new DrawGuard({ baseMillis: 100, maxMillis: 1000 });
        h.drew('x');
        h.judge('x', 'blocked', 0);
        h.drew('y');
        h.judge('y', 'success', 0);
        h.drew('z');
        h.judge('z', 'blocked', 1000);
        expect(h.heldUntil).toBe(1100);
    });

    it('judges a draw by its first verdict only; later uses, neutral outcomes and ids it did not draw change nothing', () => {
        const g = new DrawGuard({ baseMillis: 100, maxMillis: 1000 });
        g.judge('never-drawn', 'blocked', 0);
        expect(g.heldUntil).toBe(0);
        g.drew('a');
        g.judge('a', 'neutral', 0);
        g.judge('a', 'target-error', 0);
        g.judge('a', 'proxy-failure', 0);
        expect(g.heldUntil).toBe(0);
        g.judge('a', 'success', 0);
        g.judge('a', 'blocked', 0);
        expect(g.heldUntil).toBe(0);
        g.drew('b');
        g.forget('b');
        g.judge('b', 'blocked', 0);
        expect(g.heldUntil).toBe(0);
    });

    it("a 429 of any session holds draws for its Retry-After (at most the longest hold): its exit is at its limit", () => {
        const g = new DrawGuard({ baseMillis: 100, maxMillis: 1000 });
        g.judge('not-a-draw', 'rate-limited', 0, 400);
        expect(g.heldUntil).toBe(400);
        g.judge('not-a-draw', 'rate-limited', 100, 0);
        expect(g.heldUntil).toBe(400);
        g.judge('not-a-draw', 'rate-limited', 200, 5000);
        expect(g.heldUntil).toBe(1200);
        // A draw limited at its first use: both holds, the longer wins.
        g.drew('d');
        g.judge('d', 'rate-limited', 1200, 50);
        expect(g.heldUntil).toBe(1300);
    });
    it('two ids that had served blocked within 5 s of each other at disagreeing counts (one exit burning under both) shrink the live ids kept, never below half, and the evidence fades', () => {
        const g = new DrawGuard({ baseMillis: 100, maxMillis: 1000 });
        for (const id of ['a', 'b', 'c', 'd', 'e', 'f']) {
            g.drew(id);
            g.judge(id, 'success', 0);
        }
        expect(g.limit(20, 0)).toBe(20);
        // Good uses: c and f 6, the others 1.
        for (let i = 0; i < 5; i++) for (const id of ['c', 'f']) g.judge(id, 'success', 1);
        // Lone burns (more than 5 s apart) say nothing of crowding; a block at a first use is no burn; nor are two ids
        // blocked at agreeing counts (a per-session cap reached together).
        g.judge('a', 'blocked', 10_000);
        g.judge('b', 'blocked', 20_000);
        g.drew('x');
        g.judge('x', 'blocked', 21_000);
        expect(g.limit(20, 21_000)).toBe(20);
        const h = new DrawGuard();
        for (const id of ['p', 'q']) {
            h.drew(id);
            h.judge(id, 'success', 0);
            h.judge(id, 'blocked', 1000);
        }
        expect(h.limit(20, 1000)).toBe(20);
        // c (6 uses) within 5 s of b (1): one exit under both. A retired id (forgotten) is not judged again.
        g.judge('c', 'blocked', 24_000);
        expect(g.limit(20, 24_000)).toBe(16);
        g.forget('d');
        g.judge('d', 'blocked', 25_000);
        expect(g.limit(20, 25_000)).toBe(16);
        g.judge('e', 'blocked', 26_000);
        g.judge('f', 'blocked', 27_000);
        expect(g.limit(20, 27_000)).toBe(10);
        // A later use of an id already counted changes nothing; the evidence halves every two minutes.
        g.judge('f', 'blocked', 27_500);
        expect(g.limit(20, 27_500)).toBe(10);
        expect(g.limit(20, 27_000 + 240_000)).toBe(17);
        expect(g.limit(20, 27_000 + 3_600_000)).toBe(20);
    });
});
