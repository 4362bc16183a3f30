import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startRedisServer, type RedisServerHandle } from '../src/index.js';
import { openWorkers } from './helpers.js';

let server: RedisServerHandle;
let n = 0;
const prefix = () => `lease${++n}`;

beforeAll(async () => {
    server = await startRedisServer();
});
afterAll(async () => {
    await server?.stop();
});

describe('leases', () => {
    it('a session claimed by the worker that created it is not handed to another until given back', async () => {
        const { stores } = await openWorkers(server.url, prefix(), 2);
        const [a, b] = stores as [typeof stores[0], typeof stores[0]];
        a.claim('shop.test', 's1', 1, 1);
        a.recordSession('shop.test', 's1', { once: { proxyId: 'proxy_1' } });
        await a.sync();
        await b.sync();
        expect(b.sessionIds('shop.test')).toEqual(['s1']);
        expect(b.othersSlots('shop.test', 's1')).toBe(1);
        expect(await b.lease('shop.test', 's1', 1, 1)).toBe(0);
        a.release('shop.test', 's1');
        await a.sync();
        await b.sync();
        expect(b.othersSlots('shop.test', 's1')).toBe(0);
        expect(await b.lease('shop.test', 's1', 1, 1)).toBe(1);
        expect(await a.lease('shop.test', 's1', 1, 1)).toBe(0);
        for (const s of stores) await s.close();
    });

    it('never grants more slots across workers than the concurrency cap', async () => {
        const { stores } = await openWorkers(server.url, prefix(), 3);
        const [a, b, c] = stores as [typeof stores[0], typeof stores[0], typeof stores[0]];
        // Concurrent requests from three workers for 2 slots each of a session with cap 3.
        const granted = await Promise.all([a.lease('p', 's', 2, 3), b.lease('p', 's', 2, 3), c.lease('p', 's', 2, 3)]);
        expect(granted.reduce((x, y) => x + y, 0)).toBe(3);
        expect(granted.filter((g) => g === 0).length).toBe(1);
        for (const s of stores) await s.close();
    });

    it("a dead worker's lease expires after leaseTtlMillis without renewal; a live worker's renewals keep it", async () => {
        const { stores, clock } = await openWorkers(server.url, prefix(), 3, { leaseTtlMillis: 3000 });
        const [dead, live, other] = stores as [typeof stores[0], typeof stores[0], typeof stores[0]];
        expect(await dead.lease('p', 'd', 1, 1)).toBe(1);
        expect(await live.lease('p', 'l', 1, 1)).toBe(1);
        live.setBusy('p', 'l', true);
        for (let t = 0; t < 4; t++) {
            await clock.advance(1000);
            await live.sync(); // renews (every ttl/3); `dead` never syncs again
        }
        expect(await other.lease('p', 'd', 1, 1)).toBe(1);
        expect(await other.lease('p', 'l', 1, 1)).toBe(0);
        await other.sync();
        expect(other.othersSlots('p', 'l')).toBe(1);
        for (const s of [live, other]) await s.close();
        await dead.close();
    });

    it('gives back a lease that stayed idle for leaseIdleMillis, and keeps one in use', async () => {
        const { stores, clock } = await openWorkers(server.url, prefix(), 2, { leaseIdleMillis: 500 });
        const [a, b] = stores as [typeof stores[0], typeof stores[0]];
        expect(await a.lease('p', 'idle', 1, 1)).toBe(1);
        expect(await a.lease('p', 'busy', 1, 1)).toBe(1);
        a.setBusy('p', 'idle', false);
        a.setBusy('p', 'busy', true);
        await clock.advance(600);
        await a.sync();
        expect(a.heldSlots('p', 'idle')).toBe(0);
        expect(a.heldSlots('p', 'busy')).toBe(1);
        expect(await b.lease('p', 'idle', 1, 1)).toBe(1);
        expect(await b.lease('p', 'busy', 1, 1)).toBe(0);
        for (const s of stores) await s.close();
    });

    it('close() gives every lease back', async () => {
        const { stores } = await openWorkers(server.url, prefix(), 2);
        const [a, b] = stores as [typeof stores[0], typeof stores[0]];
        expect(await a.lease('p', 'x', 1, 1)).toBe(1);
        await a.close();
        expect(await b.lease('p', 'x', 1, 1)).toBe(1);
        await b.close();
    });
});
