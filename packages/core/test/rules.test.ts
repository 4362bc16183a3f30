import { describe, expect, it } from 'vitest';

import type { Rule } from '../src/index.js';
import { RuleSet, poolKeyOf } from '../src/rules.js';
import { req } from './helpers.js';

describe('RuleSet', () => {
    it('matches globs, RegExps and functions; first match by priority, then list order', () => {
        const rules: Rule[] = [
            { match: 'https://shop.test/**', pool: 'glob' },
            { match: /\/checkout\//, pool: 'regexp', priority: 5 },
            { match: (url) => url.searchParams.has('vip'), pool: 'fn', priority: 5 },
            { match: 'https://shop.test/**', pool: 'disabled', priority: 100, enabled: false },
        ];
        const set = new RuleSet(rules);
        expect(set.ruleFor(req('https://shop.test/a'))?.rule.pool).toBe('glob');
        expect(set.ruleFor(req('https://SHOP.test/a/b/c'))?.rule.pool).toBe('glob');
        expect(set.ruleFor(req('https://shop.test/checkout/1?vip=1'))?.rule.pool).toBe('regexp');
        expect(set.ruleFor(req('https://other.test/x?vip=1'))?.rule.pool).toBe('fn');
        expect(set.ruleFor(req('https://other.test/x'))).toBeUndefined();
        expect(set.ruleFor(req('not a url'))).toBeUndefined();
        expect(set.size).toBe(3);
    });

    it('honours exclude and arrays of patterns', () => {
        const set = new RuleSet([{ match: ['https://a.test/**', 'https://b.test/**'], exclude: [/\.pdf$/, 'https://b.test/private/**'], pool: 'x' }]);
        expect(set.ruleFor(req('https://a.test/doc'))).toBeDefined();
        expect(set.ruleFor(req('https://b.test/doc'))).toBeDefined();
        expect(set.ruleFor(req('https://a.test/doc.pdf'))).toBeUndefined();
        expect(set.ruleFor(req('https://b.test/private/1'))).toBeUndefined();
    });

    it('is not fooled by a global RegExp keeping lastIndex', () => {
        const set = new RuleSet([{ match: /shop/g }]);
        expect(set.ruleFor(req('https://shop.test/1'))).toBeDefined();
        expect(set.ruleFor(req('https://shop.test/2'))).toBeDefined();
    });

    it('normalizes hooks to arrays', () => {
        const f = () => undefined;
        const set = new RuleSet([{ match: '**', init: f, check: [f, f] }]);
        const r = set.ruleFor(req('https://a.test/'))!;
        expect(r.init).toEqual([f]);
        expect(r.check).toHaveLength(2);
        expect(r.prepare).toEqual([]);
    });
});

describe('poolKeyOf', () => {
    const set = new RuleSet([
        { match: 'https://shop.test/**', pool: 'shop@US' },
        { match: 'https://acc.test/**', pool: (r) => `acc:${String(r.userData?.account ?? 'none')}` },
    ]);
    it('request.userData.sessionPool wins, then the rule, then the hostname', () => {
        const key = (url: string, userData = {}) => poolKeyOf(req(url, userData), set.ruleFor(req(url, userData)));
        expect(key('https://shop.test/a', { sessionPool: 'mine' })).toBe('mine');
        expect(key('https://shop.test/a')).toBe('shop@US');
        expect(key('https://acc.test/a', { account: 7 })).toBe('acc:7');
        expect(key('https://Www.Example.test:8443/a')).toBe('www.example.test');
        expect(key('nope')).toBe('(invalid-url)');
    });
});
