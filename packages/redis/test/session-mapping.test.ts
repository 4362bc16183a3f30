/**
 * A session's shared record, without Redis: what `sessionDelta` writes, applied the way Redis applies it
 * (`applyDelta`, the same rules as lua/apply.lua), reads back as the same session through `sessionFieldsOf`. A session
 * that took over another session's gateway URL keeps the session id that URL was asked for; one that did not writes no
 * such field.
 */
import { describe, expect, it } from 'vitest';

import { applyDelta, emptyRecord } from '../src/record.js';
import { sessionDelta, sessionFieldsOf, type Interner, type SessionFields } from '../src/session-mapping.js';

/** The store's interner, in memory (content addresses by position). */
function memoryInterner(): Interner {
    const headerSets: Readonly<Record<string, string>>[] = [];
    const fingerprints: Readonly<Record<string, unknown>>[] = [];
    return {
        putHeaderSet: (h) => `hs_${headerSets.push(h) - 1}`,
        headerSet: (id) => headerSets[Number(id.slice(3))],
        putFingerprint: (f) => `fp_${fingerprints.push(f) - 1}`,
        fingerprint: (id) => fingerprints[Number(id.slice(3))] as never,
    };
}

const session = (over: Partial<SessionFields> = {}): SessionFields => ({
    id: 'session_b',
    proxyId: 'proxy_gw1',
    headers: { 'user-agent': 'UA/1' },
    cookies: [{ key: 'sid', value: 'v1' }],
    userData: {},
    createdAt: 1_000,
    expiresAt: 3_001_000,
    usageCount: 1,
    errorScore: 0,
    availableAt: 0,
    ...over,
});

const HALF_LIFE = 60_000;

describe('session record round trip', () => {
    it('keeps the session id a taken-over gateway URL was asked for, written once with the identity', () => {
        const interner = memoryInterner();
        const s = session({ urlSessionId: 'session_a' });
        const delta = sessionDelta(interner, undefined, s, 2_000);
        expect(delta.once?.urlSessionId).toBe('session_a');
        const record = applyDelta(emptyRecord(), delta, 2_000, HALF_LIFE);
        expect(sessionFieldsOf(interner, s.id, record)).toEqual(s);
        // Later changes (more uses) do not write it again, and the record still reads back with it.
        const next = { ...s, usageCount: 4 };
        const later = sessionDelta(interner, s, next, 3_000);
        expect(later.once).toBeUndefined();
        expect(sessionFieldsOf(interner, s.id, applyDelta(record, later, 3_000, HALF_LIFE))).toEqual(next);
    });

    it('a session on its own URL writes no such field', () => {
        const interner = memoryInterner();
        const s = session();
        const delta = sessionDelta(interner, undefined, s, 2_000);
        expect(Object.keys(delta.once ?? {}).sort()).toEqual(['createdAt', 'headerSet', 'proxyId']);
        const back = sessionFieldsOf(interner, s.id, applyDelta(emptyRecord(), delta, 2_000, HALF_LIFE))!;
        expect(back).toEqual(s);
        expect('urlSessionId' in back).toBe(false);
    });
});
