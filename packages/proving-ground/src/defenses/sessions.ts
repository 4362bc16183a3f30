import type { IncomingMessage } from 'node:http';
import { derive, randomHex, type Random } from '../prng.js';

/** Name of the site's session cookie. */
export const SESSION_COOKIE = 'sp_session';

/** What the site remembers about one session cookie. */
export interface SiteSession {
    /** The cookie value. */
    id: string;
    /** The host that issued it; the cookie is valid on that host only. */
    host: string;
    /** CSRF token bound to this session (shown by `GET /location`). */
    csrfToken: string;
    /** Location chosen through the location form, if any. */
    location?: string;
    /** Pages (kind `page`) served to this session, for the usage cap. */
    pages: number;
    /** The header user agent of this session's latest request. */
    headerUserAgent?: string;
    /** Set once an identity mismatch was seen. */
    flagged: boolean;
}

/** Sessions per host; ids come from the seeded PRNG and a counter, so they never collide. */
export class SessionStore {
    private sessions = new Map<string, SiteSession>();
    private random: Random;
    private counter = 0;

    constructor(private readonly seed: number) {
        this.random = derive(seed, 'sessions');
    }

    /** The session named by the request's cookie, if it exists and was issued for `host`. */
    fromRequest(request: IncomingMessage, host: string): SiteSession | undefined {
        const id = readCookie(request.headers.cookie, SESSION_COOKIE);
        if (id === undefined) return undefined;
        const session = this.sessions.get(id);
        return session && session.host === host ? session : undefined;
    }

    create(host: string): SiteSession {
        this.counter++;
        const id = `s${this.counter.toString(36)}${randomHex(this.random, 6)}`;
        const session: SiteSession = { id, host, csrfToken: randomHex(this.random, 16), pages: 0, flagged: false };
        this.sessions.set(id, session);
        return session;
    }

    /** Forgets every session: old cookies become unknown (and are replaced on the next request). */
    reset(): void {
        this.sessions.clear();
        this.random = derive(this.seed, 'sessions');
    }
}

/** Reads one cookie from a Cookie header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
    if (!header) return undefined;
    for (const part of header.split(';')) {
        const eq = part.indexOf('=');
        if (eq < 0) continue;
        if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
    }
    return undefined;
}

/** The Set-Cookie header value for a session (host-only, so every `*.test` host has its own). */
export function sessionCookie(session: SiteSession): string {
    return `${SESSION_COOKIE}=${session.id}; Path=/; HttpOnly; SameSite=Lax`;
}
