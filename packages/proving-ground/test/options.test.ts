import { describe, expect, it } from 'vitest';
import { applyScenario, mergeOptions, ProvingGroundOptionsError, scenarios, validateOptions } from '../src/index.js';
import { derive, mulberry32, shuffled } from '../src/prng.js';
import { resolveOptions } from '../src/options.js';

describe('seeded randomness', () => {
    it('mulberry32 repeats for a seed and differs across seeds', () => {
        const a = mulberry32(42);
        const b = mulberry32(42);
        const first = Array.from({ length: 5 }, () => a());
        expect(Array.from({ length: 5 }, () => b())).toEqual(first);
        expect(Array.from({ length: 5 }, mulberry32(43))).not.toEqual(first);
        expect(first.every((x) => x >= 0 && x < 1)).toBe(true);
    });

    it('derives independent streams per purpose', () => {
        const items = Array.from({ length: 20 }, (_, i) => i);
        expect(shuffled(items, derive(1, 'bans'))).toEqual(shuffled(items, derive(1, 'bans')));
        expect(shuffled(items, derive(1, 'bans'))).not.toEqual(shuffled(items, derive(1, 'dead')));
        expect([...shuffled(items, derive(1, 'bans'))].sort((x, y) => x - y)).toEqual(items);
    });
});

describe('options', () => {
    it('default to a friendly shop behind 10 proxies with every defense off', () => {
        const resolved = resolveOptions({});
        expect(resolved).toMatchObject({
            seed: 1,
            exposeDirect: false,
            proxies: { count: 10, subnetSize: 10, basePort: 0, dead: { refuse: 0, tunnelError: 0, status: 599 } },
            site: { host: 'shop.test', port: 0, categories: 5, productsPerCategory: 10, sessionRequired: false, csrf: false, challengeStyle: 'cloudflare' },
        });
        for (const key of ['bans', 'rateLimits', 'usageCap', 'challenges', 'identity', 'drift'] as const) expect(resolved.site[key]).toBeUndefined();
    });

    it('validation names the option and what was expected', () => {
        const error = (o: unknown) => {
            try {
                validateOptions(o);
            } catch (e) {
                expect(e).toBeInstanceOf(ProvingGroundOptionsError);
                return (e as Error).message;
            }
            return 'valid';
        };
        expect(error({})).toBe('valid');
        expect(error({ proxies: { count: 2.5 } })).toMatch(/`count`.*integer/);
        expect(error({ site: { rateLimits: { perSession: { requests: 0, windowMs: 10 } } } })).toMatch(/`requests`.*positive.*perSession/);
        expect(error({ site: { locations: ['usa'] } })).toMatch(/locations/);
        expect(error({ site: { identity: { response: 'nope' } } })).toMatch(/response/);
        expect(error({ site: { drift: { jitter: 2 } } })).toMatch(/jitter/);
        expect(error({ proxies: { basePort: 65530, count: 10 } })).toMatch(/options\.proxies\.basePort/);
        expect(error({ proxies: { count: 3000, subnetSize: 1 } })).toMatch(/254/);
        expect(error({ clock: { now: 5 } })).toMatch(/clock.*`now\(\)` method/);
        expect(error({ clock: { now: () => 0 } })).toBe('valid');
        for (const scenario of Object.values(scenarios)) expect(error(scenario.options)).toBe('valid');
    });
});

describe('scenarios', () => {
    it('names its presets, benign and realistic included', () => {
        expect(Object.keys(scenarios)).toEqual(expect.arrayContaining(['benign', 'realistic']));
        for (const [name, s] of Object.entries(scenarios)) {
            expect(s.name).toBe(name);
            expect(s.description.length).toBeGreaterThan(10);
        }
    });

    it('merges explicit options over a scenario, deeply', () => {
        const merged = applyScenario({ scenario: 'realistic', seed: 5, proxies: { count: 20 }, site: { rateLimits: { perIp: { requests: 1000, windowMs: 1000 } } } });
        expect(merged.scenario).toBeUndefined();
        expect(merged.seed).toBe(5);
        expect(merged.proxies).toEqual({ count: 20, subnetSize: 10, dead: { refuse: 2, tunnelError: 2 } });
        expect(merged.site?.rateLimits?.perIp).toEqual({ requests: 1000, windowMs: 1000, penaltyMs: 5000 });
        expect(merged.site?.rateLimits?.perSession).toEqual(scenarios.realistic.options.site?.rateLimits?.perSession);
        expect(merged.site?.usageCap).toBe(50);
        // Presets are not modified.
        expect(scenarios.realistic.options.proxies?.count).toBe(40);
    });

    it('accepts a scenario object, which may name a preset itself', () => {
        const custom = { name: 'mine', description: 'x', options: { scenario: 'sessions', site: { usageCap: 5 } } };
        expect(applyScenario({ scenario: custom })).toEqual({ site: { sessionRequired: true, usageCap: 5, csrf: true } });
    });

    it('mergeOptions replaces arrays and regular expressions instead of merging them', () => {
        expect(mergeOptions({ a: [1, 2, 3], b: { c: /x/ } }, { a: [9], b: { c: /y/ } })).toEqual({ a: [9], b: { c: /y/ } });
    });
});
