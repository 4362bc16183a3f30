import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { classify } from '../src/index.js';

// Seeded: the same cases on every run and every machine.
const RUNS = { seed: 20261202, numRuns: 60 } as const;
const TIMEOUT = 60_000;

const CHALLENGE = '<form id="challenge-form" action="/cdn-cgi/l/chk_jschl" method="get"><input type="hidden" name="jschl_vc" value="1"></form>';
const filler = (n: number) => `<img src="data:image/png;base64,${'QUFB'.repeat(Math.ceil(n / 4)).slice(0, n)}">`;
const TYPES = ['ok', 'blocked', 'rate-limited', 'proxy-failure', 'target-error'];

describe('classify: properties', () => {
    it('finds a challenge at the end of a body of any length', () => {
        fc.assert(
            fc.property(fc.integer({ min: 0, max: 1_500_000 }), fc.integer({ min: 1_000, max: 400_000 }), (n, maxBodyChars) => {
                const body = `<html><head><title>Loading</title></head><body>${filler(n)}${CHALLENGE}</body></html>`;
                expect(classify({ statusCode: 200, body }, { maxBodyChars })).toMatchObject({ type: 'blocked', reason: 'Cloudflare challenge (200)' });
            }),
            RUNS,
        );
    }, TIMEOUT);

    it('searches at most maxBodyChars: a marker between the searched start and end is not seen', () => {
        fc.assert(
            fc.property(fc.integer({ min: 3_000, max: 300_000 }), (maxBodyChars) => {
                const body = `<html><body>${filler(maxBodyChars)}${CHALLENGE}${filler(maxBodyChars)}</body></html>`;
                expect(classify({ statusCode: 200, body }, { maxBodyChars }).type).toBe('ok');
                expect(classify({ statusCode: 200, body }, { maxBodyChars: body.length }).type).toBe('blocked');
            }),
            RUNS,
        );
    }, TIMEOUT);

    it('a login form stays ok whatever captcha widget and ordinary text it carries', () => {
        const widget = fc.constantFrom(
            '<div class="g-recaptcha" data-sitekey="k"></div><script src="https://www.google.com/recaptcha/api.js"></script>',
            '<div class="h-captcha" data-sitekey="k"></div><script src="https://js.hcaptcha.com/1/api.js"></script>',
            '<div class="cf-turnstile" data-sitekey="k"></div><script src="https://challenges.cloudflare.com/turnstile/v0/api.js"></script>',
        );
        fc.assert(
            fc.property(widget, fc.lorem({ maxCount: 60 }), fc.constantFrom('Sign in', 'Log in - Shop', 'Create your account'), (w, text, title) => {
                const body = `<html><head><title>${title}</title></head><body><p>${text}</p><form><input type="email" name="e"><input type="password" name="p">${w}</form></body></html>`;
                expect(classify({ statusCode: 200, body }).type).toBe('ok');
            }),
            RUNS,
        );
    }, TIMEOUT);

    it('is total and pure: any status, headers and body give one known verdict, the same twice', () => {
        fc.assert(
            fc.property(
                fc.option(fc.integer({ min: 100, max: 599 }), { nil: undefined }),
                fc.dictionary(fc.constantFrom('retry-after', 'server', 'cf-mitigated', 'x-sucuri-block', 'content-type'), fc.string({ maxLength: 40 })),
                fc.string({ maxLength: 3_000, unit: 'grapheme-ascii' }),
                fc.boolean(),
                (statusCode, headers, body, usingProxy) => {
                    const snapshot = { statusCode, headers, body };
                    const a = classify(snapshot, { usingProxy, now: 0 });
                    expect(TYPES).toContain(a.type);
                    expect(classify(snapshot, { usingProxy, now: 0 })).toEqual(a);
                },
            ),
            { ...RUNS, numRuns: 300 },
        );
    }, TIMEOUT);
});
