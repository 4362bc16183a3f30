import { ProxyConfiguration } from '@crawlee/core';
import { describe, expect, it } from 'vitest';

import { DEFAULT_POOL_OPTIONS, SessionManager } from '../src/index.js';
import { resolvePoolOptions, validateOptions } from '../src/options.js';

describe('options validation (ow)', () => {
    it.each([
        [{ pool: { size: 0 } }, /size/],
        [{ pool: { size: 1.5 } }, /size.*integer/],
        [{ pool: { maxConcurrentUses: -1 } }, /maxConcurrentUses/],
        [{ pool: { sizee: 3 } }, /sizee/],
        [{ pools: { 'a.test': { maxUses: 'x' } } }, /maxUses/],
        [{ policy: 'fastest' }, /policy.*scored/],
        [{ proxyUrls: ['not a url'] }, /proxyUrls\[0\]/],
        [{ proxyUrls: ['ftp://u:pw@h:1'] }, /proxyUrls\[0\]/],
        [{ proxyUrls: 'http://a:1' }, /proxyUrls/],
        [{ rules: [{ match: 5 }] }, /match/],
        [{ rules: [{ match: '**', init: 'no' }] }, /init/],
        [{ rules: [{ match: '**', colour: 'red' }] }, /colour/],
        [{ proxyBackoff: { jitter: 2 } }, /jitter/],
        [{ store: true }, /store/],
        [{ store: { key: '' } }, /key/],
        [{ classifier: { blockedStatusCodes: [99] } }, /blockedStatusCodes|99/],
        [{ statsIntervalSecs: -1 }, /statsIntervalSecs/],
        [{ random: 4 }, /random/],
        [{ clock: { now: () => 1 } }, /setTimeout/],
        [{ proxyConfiguration: { foo: 1 } }, /proxyConfiguration.*ProxyConfiguration/],
        [{ unknownOption: 1 }, /unknownOption/],
    ])('%j fails naming the option', (options, message) => {
        expect(() => validateOptions(options as never)).toThrow(message);
    });

    it('checks headerGeneratorOptions with header-generator at open()', async () => {
        await expect(SessionManager.open({ store: false, headerGeneratorOptions: { browsers: ['netscape' as never] } })).rejects.toThrow(
            /headerGeneratorOptions/,
        );
    });

    it.each([
        // Each of these passed validation before and then failed (or never matched) at every request.
        [{ proxyUrls: [] }, /`proxyUrls` is empty/],
        [{ headerGeneratorOptions: { browsers: ['netscape'] } }, /`headerGeneratorOptions` was rejected/],
        [{ headerGeneratorOptions: { browsers: [{ name: 'chrome', minVersion: 9999 }] } }, /`headerGeneratorOptions` was rejected.*No headers/],
        [{ rules: [{ match: '127.0.0.1/**' }] }, /`rules\[0\]\.match` is '127\.0\.0\.1\/\*\*', which never matches.*'http:\/\/127\.0\.0\.1\/\*\*'/],
        [{ rules: [{ match: 'http://a.test/**' }, { match: ['https://b.test/**', 'b.test/x'] }] }, /`rules\[1\]\.match\[1\]` is 'b\.test\/x'/],
        [{ rules: [{ match: 'http://a.test/**', exclude: 'a.test/cart' }] }, /`rules\[0\]\.exclude`/],
        [{ rules: [{ match: '**' }, { match: '**', size: 0 }] }, /`rules\[1\]`: .*`size`/],
        [{ rules: [{ match: '**' }, { match: '**' }, { match: '**', checks: () => 'keep' }] }, /`rules\[2\]`: .*`checks`/],
    ])('%j fails at construction, naming the option and the rule', (options, message) => {
        expect(() => validateOptions(options as never)).toThrow(message);
    });

    it('rule errors read as one sentence (no "property property")', () => {
        expect(() => validateOptions({ rules: [{ match: '**', size: 0 }] })).toThrow(/^(?!.*property property)/s);
        expect(() => validateOptions({ rules: [{ match: '**', size: 0 }] })).toThrow(/^(?!.*in object values)/s);
    });

    it('accepts globs that match whole URLs: with a scheme, or starting with a wildcard', () => {
        for (const match of ['http://127.0.0.1/**', '**/product/*', '{http,https}://shop.test/**', 'HTTPS://Shop.test/*']) {
            expect(() => validateOptions({ rules: [{ match }] })).not.toThrow();
        }
    });

    it('never quotes a malformed proxy URL (it may hold a password)', () => {
        expect(() => validateOptions({ proxyUrls: ['http://u:hunter2@host:port:bad'] })).toThrow(/^(?!.*hunter2)/s);
    });

    it('rejects proxyUrls together with proxyConfiguration, and backoff max < base', async () => {
        await expect(
            SessionManager.open({ proxyUrls: ['http://a:b@127.0.0.1:1'], proxyConfiguration: new ProxyConfiguration(), store: false }),
        ).rejects.toThrow(/either `proxyUrls` or `proxyConfiguration`/);
        expect(() => validateOptions({ proxyBackoff: { baseMillis: 10, maxMillis: 5 } })).toThrow(/maxMillis/);
    });

    it('accepts a full, valid set', () => {
        expect(() =>
            validateOptions({
                proxyUrls: ['http://u:p@127.0.0.1:8000', null],
                pool: { size: 3, maxAgeSecs: 60, maxUses: 5, minDelayBetweenUsesMillis: 10, delayJitterMillis: 5, policy: 'random' },
                pools: { 'a.test': { size: 1 } },
                rules: [{ match: 'https://a.test/**', exclude: /x/, priority: 1, enabled: true, pool: 'a', size: 2, init: [() => {}] }],
                policy: 'round-robin',
                proxyBackoff: { baseMillis: 100, maxMillis: 1000, jitter: 0.1 },
                store: { keyValueStoreName: 'x', key: 'K' },
                statsIntervalSecs: 0,
                classifier: { blockedStatusCodes: [403], markers: [{ name: 'wall', body: /wall/ }] },
                random: Math.random,
            }),
        ).not.toThrow();
    });
});

describe('resolvePoolOptions', () => {
    it('defaults ← pool ← rule size ← pools[key]', () => {
        const o = { policy: 'random' as const, pool: { size: 5, maxUses: 9 }, pools: { 'a.test': { size: 2 } } };
        expect(resolvePoolOptions(o, 'b.test')).toEqual({ ...DEFAULT_POOL_OPTIONS, policy: 'random', size: 5, maxUses: 9 });
        expect(resolvePoolOptions(o, 'b.test', 7).size).toBe(7);
        expect(resolvePoolOptions(o, 'a.test', 7).size).toBe(2);
    });
});
