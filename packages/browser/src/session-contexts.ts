/**
 * A browser context per session: created on the session's first page, with its proxy, user agent, fingerprint,
 * cookies and storage, and reused by its later pages (concurrent pages of one session share it). It closes when the
 * session is retired (once its last page closed) or when the browser closes. Contexts without pages are idle; beyond
 * `maxIdleContexts` the least recently used idle one is closed after saving its `localStorage`, and the session's next
 * page gets a new context with the same identity, its cookie jar and that storage.
 */
import type { ManagedSession } from '@sessionpack/core';

import { jarToBrowserCookies } from './cookies.js';
import type { BrowserDriver, OriginStorage } from './driver.js';
import { browserWideHeaders, type SessionFingerprints } from './fingerprints.js';

interface Entry<Context, Page> {
    session: ManagedSession;
    context: Promise<Context>;
    pages: Set<Page>;
    /** Pages open or being opened. */
    users: number;
    /** Origins its pages have been on (whose storage is saved when it is closed for being idle). */
    origins: Set<string>;
    /** Work on the context still running that must end before it closes (cookies being read into the jar). */
    pending: Set<Promise<void>>;
    closing?: Promise<void>;
}

/** Counters of {@link SessionContexts} (for tests and benchmarks). */
export interface SessionContextStats {
    /** Contexts open (or opening) right now. */
    open: number;
    /** Of those, how many have no page. */
    idle: number;
    /** Contexts created since the start. */
    created: number;
    /** Of those, how many were recreated for a session whose earlier context was closed for being idle. */
    recreated: number;
    /** Contexts closed for being idle beyond the bound. */
    evicted: number;
}

/** `localStorage` of sessions whose idle context was closed, until their next context takes it. */
const savedStorage = new WeakMap<ManagedSession, OriginStorage[]>();

export class SessionContexts<Page, Browser, Context> {
    private readonly entries = new Map<ManagedSession, Entry<Context, Page>>();
    /** Idle entries, least recently used first (a Set keeps insertion order). */
    private readonly idle = new Set<Entry<Context, Page>>();
    private readonly counts = { created: 0, recreated: 0, evicted: 0 };
    /** Each page's identity (user agent, client hints...), being applied since the page opened. */
    private readonly identities = new WeakMap<object, Promise<void>>();

    constructor(
        private readonly driver: BrowserDriver<Page, unknown, Browser, Context>,
        private readonly fingerprints: SessionFingerprints,
        private readonly browser: () => Promise<Browser>,
        private readonly maxIdleContexts: number,
    ) {}

    stats(): SessionContextStats {
        return { open: this.entries.size, idle: this.idle.size, ...this.counts };
    }

    /** The pages of `session` open right now. */
    pagesOf(session: ManagedSession): ReadonlySet<Page> {
        return this.entries.get(session)?.pages ?? new Set();
    }

    /** A new page in the session's context (created, or recreated, if it has none). */
    async newPage(session: ManagedSession): Promise<Page> {
        if (session.isRetired) throw new Error(`session ${session.id} (pool ${session.poolKey}) was retired before its page opened`);
        let entry = this.entries.get(session);
        while (entry?.closing) {
            await entry.closing;
            entry = this.entries.get(session);
        }
        entry ??= this.create(session);
        entry.users++;
        this.idle.delete(entry);
        let page: Page;
        try {
            page = await this.driver.newPage(await entry.context);
        } catch (error) {
            this.release(entry);
            throw error;
        }
        entry.pages.add(page);
        this.driver.onPageClose(page, () => {
            entry.pages.delete(page);
            this.release(entry);
        });
        // What is set per page starts at once, while Crawlee sets up its side of the page; it is waited for before the
        // page navigates (identityApplied()).
        const identity = this.driver.applyPageIdentity(page, this.fingerprints.for(session), browserWideHeaders(session.identity.headers));
        identity.catch(() => {});
        this.identities.set(page as object, identity);
        return page;
    }

    /** Resolves when the page has its session's identity (what {@link newPage} started); rejects if that failed. */
    async identityApplied(page: Page): Promise<void> {
        await this.identities.get(page as object);
    }

    /**
     * Work on the session's context that the context must not close before (reading its cookies into the jar): the
     * session's next page waits for it ({@link settled}), and so do closing the context and {@link closeAll}.
     */
    track(session: ManagedSession, work: Promise<void>): void {
        const entry = this.entries.get(session);
        if (!entry) return;
        const done = work.catch(() => {}).finally(() => entry.pending.delete(done));
        entry.pending.add(done);
    }

    /** Resolves when the tracked work of `session`'s context (or, without a session, of every context) has ended. */
    async settled(session?: ManagedSession): Promise<void> {
        const entries = session ? [this.entries.get(session)] : [...this.entries.values()];
        await Promise.all(entries.flatMap((entry) => (entry ? [...entry.pending] : [])));
    }

    /** Remembers that a page of `session` was on `url` (its origin's storage is saved if the context goes idle). */
    visited(session: ManagedSession, url: string): void {
        const entry = this.entries.get(session);
        if (!entry) return;
        try {
            const { origin } = new URL(url);
            if (origin !== 'null') entry.origins.add(origin);
        } catch {
            // not a URL with an origin (about:blank)
        }
    }

    /** The session was retired: its context closes as soon as it has no page; its saved storage is dropped. */
    retire(session: ManagedSession): void {
        savedStorage.delete(session);
        const entry = this.entries.get(session);
        if (entry && entry.users === 0) void this.close(entry, false);
    }

    /**
     * Forgets every context: the browser is closing (it takes them with it) or went away. What a context needed
     * besides the browser (a forwarding proxy) is released.
     */
    async closeAll(): Promise<void> {
        // Cookies still being read go into their jars first (the browser is still there).
        await this.settled();
        const entries = [...this.entries.values()];
        this.entries.clear();
        this.idle.clear();
        await Promise.all(
            entries.map(async (entry) => {
                const context = await entry.context.catch(() => undefined);
                if (context !== undefined) await this.driver.releaseContext(context).catch(() => {});
            }),
        );
    }

    private create(session: ManagedSession): Entry<Context, Page> {
        const origins = savedStorage.get(session);
        savedStorage.delete(session);
        this.counts.created++;
        if (origins) this.counts.recreated++;
        const context = this.browser().then(async (browser) =>
            this.driver.newContext(browser, {
                proxyUrl: session.identity.proxy?.url,
                fingerprint: this.fingerprints.for(session),
                headers: browserWideHeaders(session.identity.headers),
                cookies: jarToBrowserCookies(session),
                origins: origins ?? [],
            }),
        );
        const entry: Entry<Context, Page> = {
            session,
            context,
            pages: new Set(),
            users: 0,
            origins: new Set(origins?.map((o) => o.origin)),
            pending: new Set(),
        };
        // A context that failed to open is forgotten, so the next page tries again.
        context.catch(() => {
            if (this.entries.get(session) === entry) this.entries.delete(session);
            this.idle.delete(entry);
        });
        this.entries.set(session, entry);
        return entry;
    }

    private release(entry: Entry<Context, Page>) {
        entry.users--;
        if (entry.users > 0 || entry.closing || this.entries.get(entry.session) !== entry) return;
        if (entry.session.isRetired) {
            void this.close(entry, false);
            return;
        }
        this.idle.add(entry);
        while (this.idle.size > this.maxIdleContexts) {
            const oldest = this.idle.values().next().value!;
            this.counts.evicted++;
            void this.close(oldest, true);
        }
    }

    private close(entry: Entry<Context, Page>, saveStorage: boolean): Promise<void> {
        this.idle.delete(entry);
        entry.closing ??= (async () => {
            const context = await entry.context.catch(() => undefined);
            await Promise.all(entry.pending);
            if (context !== undefined) {
                if (saveStorage && !entry.session.isRetired) {
                    const storage = await this.driver.storage(context, [...entry.origins]).catch(() => undefined);
                    if (storage && !entry.session.isRetired) savedStorage.set(entry.session, storage);
                }
                await this.driver.closeContext(context).catch(() => {});
            }
            if (this.entries.get(entry.session) === entry) this.entries.delete(entry.session);
        })();
        return entry.closing;
    }
}
