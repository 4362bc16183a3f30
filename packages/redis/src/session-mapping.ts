/**
 * A session as a shared record: its identity by reference (proxy id, header set id, fingerprint id, and the session id
 * its gateway URL was asked for when it took over another session's URL) written once, its counters as increments, its
 * cool-down as a deadline, and its cookies and userData where the newest write wins. Its retirement is written once and
 * can never be undone; the record then expires.
 */
import type { JsonObject, SharedSession } from '@sessionpack/core';

import type { RecordDelta, SharedRecord } from './record.js';

/** What a session is, with its header set and fingerprint resolved (core's `SharedSession`). */
export type SessionFields = SharedSession;

/** Interns header sets and fingerprints (the store). */
export interface Interner {
    putHeaderSet(headers: Readonly<Record<string, string>>): string;
    headerSet(id: string): Readonly<Record<string, string>> | undefined;
    putFingerprint(fingerprint: Readonly<JsonObject>): string;
    fingerprint(id: string): Readonly<JsonObject> | undefined;
}

/** The delta that turns `prev` (what this worker last pushed, or nothing) into `next`. */
export function sessionDelta(interner: Interner, prev: SessionFields | undefined, next: SessionFields, now: number): RecordDelta {
    const delta: RecordDelta = {};
    if (!prev) {
        delta.once = {
            proxyId: next.proxyId,
            headerSet: interner.putHeaderSet(next.headers),
            createdAt: String(next.createdAt),
            ...(next.fingerprint ? { fingerprint: interner.putFingerprint(next.fingerprint) } : {}),
            ...(next.urlSessionId !== undefined ? { urlSessionId: next.urlSessionId } : {}),
        };
    } else if (next.fingerprint && next.fingerprint !== prev.fingerprint) {
        delta.lww = { fingerprint: { value: interner.putFingerprint(next.fingerprint), at: now } };
    }
    const usage = next.usageCount - (prev?.usageCount ?? 0);
    const errors = next.errorScore - (prev?.errorScore ?? 0);
    if (usage !== 0) (delta.add ??= {}).usage = usage;
    if (errors !== 0) (delta.add ??= {}).errorScore = errors;
    if (next.availableAt > (prev?.availableAt ?? 0)) (delta.max ??= {}).availableAt = next.availableAt;
    if (next.expiresAt !== prev?.expiresAt) (delta.max ??= {}).expiresAt = next.expiresAt;
    const cookies = JSON.stringify(next.cookies);
    if (!prev || cookies !== JSON.stringify(prev.cookies)) (delta.lww ??= {}).cookies = { value: cookies, at: now };
    const userData = JSON.stringify(next.userData);
    if (!prev || userData !== JSON.stringify(prev.userData)) (delta.lww ??= {}).userData = { value: userData, at: now };
    return delta;
}

/** The delta that retires a session for every worker (the record expires `retiredTtlMillis` later). */
export function retiredDelta(reason: string): RecordDelta {
    return { once: { retired: reason }, expire: true };
}

/** Why a shared session is retired, or undefined while it is live. */
export function retiredReason(shared: SharedRecord): string | undefined {
    return shared.once.retired;
}

/** A session from its shared record; undefined while its header set has not arrived (or the record is not a session). */
export function sessionFieldsOf(interner: Interner, id: string, shared: SharedRecord): SessionFields | undefined {
    const headers = shared.once.headerSet ? interner.headerSet(shared.once.headerSet) : undefined;
    const proxyId = shared.once.proxyId;
    if (!headers || !proxyId) return undefined;
    const fpId = shared.lww.fingerprint?.value ?? shared.once.fingerprint;
    const fingerprint = fpId ? interner.fingerprint(fpId) : undefined;
    const createdAt = Number(shared.once.createdAt ?? 0);
    const urlSessionId = shared.once.urlSessionId;
    return {
        id,
        proxyId,
        ...(urlSessionId !== undefined ? { urlSessionId } : {}),
        headers,
        ...(fingerprint ? { fingerprint } : {}),
        cookies: parseArray(shared.lww.cookies?.value),
        userData: parseObject(shared.lww.userData?.value),
        createdAt,
        expiresAt: shared.max.expiresAt ?? createdAt,
        usageCount: Math.round(shared.counts.usage ?? 0),
        errorScore: shared.counts.errorScore ?? 0,
        availableAt: shared.max.availableAt ?? 0,
    };
}

function parseArray(json: string | undefined): unknown[] {
    try {
        const v: unknown = json ? JSON.parse(json) : [];
        return Array.isArray(v) ? v : [];
    } catch {
        return [];
    }
}

function parseObject(json: string | undefined): Record<string, unknown> {
    try {
        const v: unknown = json ? JSON.parse(json) : {};
        return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
    } catch {
        return {};
    }
}
