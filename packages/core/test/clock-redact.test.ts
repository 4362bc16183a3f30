import { describe, expect, it } from 'vitest';

import { ManualClock, Redactor, redactText, redactUrl } from '../src/index.js';

describe('ManualClock', () => {
    it('fires timers in deadline order during advance, not before', async () => {
        const clock = new ManualClock(1000);
        const fired: string[] = [];
        clock.setTimeout(() => fired.push(`b@${clock.now()}`), 200);
        clock.setTimeout(() => fired.push(`a@${clock.now()}`), 100);
        const c = clock.setTimeout(() => fired.push('c'), 150);
        clock.clearTimeout(c);
        await clock.advance(99);
        expect(fired).toEqual([]);
        await clock.advance(1000);
        expect(fired).toEqual(['a@1100', 'b@1200']);
        expect(clock.now()).toBe(2099);
        expect(clock.pendingTimers).toBe(0);
    });

    it('lets promise chains woken by a timer run before the next timer', async () => {
        const clock = new ManualClock(0);
        const order: string[] = [];
        void new Promise<void>((r) => clock.setTimeout(r, 10)).then(async () => {
            await null;
            order.push('woken');
        });
        clock.setTimeout(() => order.push('second'), 20);
        await clock.advance(30);
        expect(order).toEqual(['woken', 'second']);
    });
});

describe('redaction', () => {
    it('redacts URL passwords', () => {
        expect(redactUrl('http://u:p%40ss@host:8000')).toBe('http://u:***@host:8000');
        expect(redactUrl('http://host:8000')).toBe('http://host:8000');
        expect(redactUrl('not a url http://u:pw@h:1')).toBe('not a url http://u:***@h:1');
        expect(redactText('a socks5://x:y@h:1 and https://q:w@e/f')).toBe('a socks5://x:***@h:1 and https://q:***@e/f');
    });

    it('scrubs known secrets anywhere, including basic-auth tokens', () => {
        const r = new Redactor();
        r.addUrl('http://alice:hunter2@127.0.0.11:8001');
        const basic = Buffer.from('alice:hunter2').toString('base64');
        expect(r.text(`password hunter2, header Basic ${basic}`)).toBe('password ***, header Basic ***');
        expect(r.error(new TypeError('bad hunter2'))).toBe('TypeError: bad ***');
        expect(r.error('plain hunter2')).toBe('plain ***');
    });
});
