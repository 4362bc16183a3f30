/**
 * Moving cookies between a session's jar (tough-cookie, shared with HTTP crawlers) and a browser context.
 * The jar is the single source of truth: a context gets the whole jar when it is created (and what the jar gained
 * since, before each navigation), and what the site set in the browser goes back into the jar after each handler.
 */
import type { Session } from '@crawlee/core';

/** A cookie as Playwright's `context.addCookies()` and Puppeteer's `page.setCookie()` both take it. */
export interface BrowserCookie {
    name: string;
    value: string;
    /** `.example.com` for a domain cookie, `example.com` for a host-only one. */
    domain: string;
    path?: string;
    /** Unix time in seconds; absent for session cookies. */
    expires?: number;
    httpOnly?: boolean;
    secure?: boolean;
    sameSite?: 'Strict' | 'Lax' | 'None';
}

/** A cookie as browsers report it (`context.cookies()`, `page.cookies()`). */
export interface ReportedCookie {
    name: string;
    value: string;
    domain: string;
    path: string;
    /** Unix seconds, `-1` for session cookies. */
    expires: number;
    httpOnly?: boolean;
    secure?: boolean;
    sameSite?: string;
}

interface SerializedCookie {
    key?: string;
    value?: string;
    domain?: string;
    path?: string;
    expires?: string | 'Infinity';
    httpOnly?: boolean;
    secure?: boolean;
    sameSite?: string;
    hostOnly?: boolean;
    maxAge?: number | string;
    creation?: string;
}

/** Every unexpired cookie of the session's jar, in the form browsers take. */
export function jarToBrowserCookies(session: Session, now = Date.now()): BrowserCookie[] {
    const serialized = session.cookieJar.serializeSync() as { cookies?: SerializedCookie[] } | undefined;
    const out: BrowserCookie[] = [];
    for (const c of serialized?.cookies ?? []) {
        if (!c.key || !c.domain) continue;
        let expires: number | undefined;
        if (typeof c.maxAge === 'number' && Number.isFinite(c.maxAge)) {
            // Max-Age counts from the cookie's creation.
            const millis = Date.parse(c.creation ?? '') + c.maxAge * 1000;
            if (Number.isFinite(millis)) {
                if (millis <= now) continue;
                expires = Math.floor(millis / 1000);
            }
        } else if (c.expires && c.expires !== 'Infinity') {
            const millis = Date.parse(c.expires);
            if (Number.isFinite(millis)) {
                if (millis <= now) continue;
                expires = Math.floor(millis / 1000);
            }
        }
        const domain = c.domain.replace(/^\./, '');
        const path = c.path || '/';
        // Same form as Crawlee's own cookie transfer (which runs after ours): host-only cookies without the dot.
        const cookie: BrowserCookie = { name: c.key, value: c.value ?? '', domain: c.hostOnly ? domain : `.${domain}`, path };
        if (expires !== undefined) cookie.expires = expires;
        if (c.httpOnly) cookie.httpOnly = true;
        if (c.secure) cookie.secure = true;
        const sameSite = normalizeSameSite(c.sameSite);
        if (sameSite) cookie.sameSite = sameSite;
        out.push(cookie);
    }
    return out;
}

/**
 * Saves cookies a browser reported into the session's jar, each under a URL of its own domain (the jar refuses a
 * cookie set from a URL of another site). Returns how many were saved.
 */
export function saveBrowserCookies(session: Session, cookies: readonly ReportedCookie[]): number {
    let saved = 0;
    for (const c of cookies) {
        const host = c.domain.replace(/^\./, '');
        if (!host) continue;
        const url = `${c.secure ? 'https' : 'http'}://${host}${c.path || '/'}`;
        const parts = [`${c.name}=${c.value}`, `Path=${c.path || '/'}`];
        // A reported domain with a leading dot is a domain cookie; without one the cookie is host-only.
        if (c.domain.startsWith('.')) parts.push(`Domain=${host}`);
        if (c.expires > 0) parts.push(`Expires=${new Date(c.expires * 1000).toUTCString()}`);
        if (c.secure) parts.push('Secure');
        if (c.httpOnly) parts.push('HttpOnly');
        const sameSite = normalizeSameSite(c.sameSite);
        if (sameSite) parts.push(`SameSite=${sameSite}`);
        try {
            session.cookieJar.setCookieSync(parts.join('; '), url, { ignoreError: false });
            saved++;
        } catch {
            // A cookie the jar refuses (e.g. a public suffix domain) stays in the browser only.
        }
    }
    return saved;
}

function normalizeSameSite(value: string | undefined): BrowserCookie['sameSite'] | undefined {
    switch (value?.toLowerCase()) {
        case 'strict':
            return 'Strict';
        case 'lax':
            return 'Lax';
        case 'none':
            return 'None';
        default:
            return undefined;
    }
}
