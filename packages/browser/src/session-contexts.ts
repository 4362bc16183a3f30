/**
 * A browser context per session: created on the session's first page, with its proxy, user agent, fingerprint,
 * cookies and storage, and reused by its later pages (concurrent pages of one session share it). It closes when the
 * session is retired (once its last page closed) or when the browser closes. Contexts without pages are idle; beyond
 * `maxIdleContexts` the least recently used idle one is closed after saving its `localStorage`, and the session's next
 * page gets a new context with the same identity, its cookie jar and that storage.
 *
 * A session also keeps its tab: each page is a lease of a tab (see `tab-lease.ts`), and when Crawlee closes a page
 * that ended well, its tab stays open in the context (kept: at most one per session, `maxKeptTabs` in all) and is the
 * session's next page, with its identity already applied, its renderer and its `sessionStorage`, as a visitor's tab.
 * Concurrent pages of a session get tabs of their own; a tab beyond the one kept is closed.
 */
import type { ManagedSession } from '@sessionpack/core';

import { jarToBrowserCookies } from './cookies.js';
import type { BrowserDriver, OriginStorage } from './driver.js';
import { browserWideHeaders, type SessionFingerprints } from './fingerprints.js';
import { TabLease } from './tab-lease.js';

/** A tab of a session's context: leased to one page at a time, or kept for the session's next one. */
interface Tab<Page> {
    page: Page;
    lease?: TabLease<Page & object>;
    /** It closed (or is closing) for real. */
    closed: boolean;
}

interface Entry<Context, Page> {
    session: ManagedSession;
    context: Promise<Context>;
    /** Tabs leased to a page right now. */
    pages: Set<Page>;
    /** The tab kept for the session's next page. */
    kept?: Tab<Page>;
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
    /** Tabs opened for pages. */
    tabsOpened: number;
    /** Pages that got the tab their session kept (no tab opened, no identity applied). */
    tabsReused: number;
    /** Tabs kept right now. */
    kept: number;
}

/** How long a page waits for the tab its session's previous page is about to leave (Crawlee closes it right away). */
const TAB_CLOSE_WAIT_MILLIS = 2_000;

/** `localStorage` of sessions whose idle context was closed, until their next context takes it. */
const savedStorage = new WeakMap<ManagedSession, OriginStorage[]>();

export class SessionContexts<Page, Browser, Context> {
    private readonly entries = new Map<ManagedSession, Entry<Context, Page>>();
    /** Idle entries, least recently used first (a Set keeps insertion order). */
    private readonly idle = new Set<Entry<Context, Page>>();
    private readonly counts = { created: 0, recreated: 0, evicted: 0, tabsOpened: 0, tabsReused: 0 };
    /** Each tab's identity (user agent, client hints...), being applied since the tab opened. */
    private readonly identities = new WeakMap<object, Promise<void>>();
    /** The lease behind each page handed out, for its tab. */
    private readonly leases = new WeakMap<object, TabLease<Page & object>>();
    /** Each tab's record, by the library's page. */
    private readonly tabs = new WeakMap<object, Tab<Page>>();
    /** Entries with a kept tab, least recently kept first. */
    private readonly keeping = new Set<Entry<Context, Page>>();

    constructor(
        private readonly driver: BrowserDriver<Page, unknown, Browser, Context>,
        private readonly fingerprints: SessionFingerprints,
        private readonly browser: () => Promise<Browser>,
        private readonly maxIdleContexts: number,
        private readonly maxKeptTabs: number,
    ) {}

    stats(): SessionContextStats {
        return { open: this.entries.size, idle: this.idle.size, ...this.counts, kept: this.keeping.size };
    }

    /** The tab behind a page handed out (the library's own page object, which the driver's per-tab state is keyed by). */
    tabOf(page: Page): Page {
        return (this.leases.get(page as object)?.tab as Page | undefined) ?? page;
    }

    /** The page's work ended well: its tab may be kept for its session's next page when the page is closed. */
    markReusable(page: Page): void {
        this.leases.get(page as object)?.markReusable();
    }

    /** The tabs of `session` a page has right now (the library's own pages, see {@link tabOf}). */
    pagesOf(session: ManagedSession): ReadonlySet<Page> {
        return this.entries.get(session)?.pages ?? new Set();
    }

    /** A page in the session's context: the tab the session kept, or a new one (and a context, if it has none). */
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
        if (!entry.kept) await this.tabBeingClosed(entry);
        let tab = this.takeKept(entry);
        if (tab) {
            this.counts.tabsReused++;
        } else {
            try {
                tab = this.openTab(entry, await this.driver.newPage(await entry.context));
            } catch (error) {
                this.release(entry);
                throw error;
            }
        }
        const leased = tab;
        const lease: TabLease<Page & object> = new TabLease(leased.page as Page & object, { end: async () => this.endLease(entry, leased, lease) });
        leased.lease = lease;
        entry.pages.add(leased.page);
        this.leases.set(lease.page, lease);
        return lease.page;
    }

    /**
     * Waits (briefly) for a page of the session whose work ended well but that Crawlee has not closed yet: core lets
     * the session serve its next page when the handler ends, a moment before Crawlee closes the page, whose tab is then
     * this page's.
     */
    private async tabBeingClosed(entry: Entry<Context, Page>): Promise<void> {
        const ending = [...entry.pages].map((page) => this.tabs.get(page as object)?.lease).find((l) => l?.isReusable && l.keepable);
        if (!ending) return;
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([ending.whenEnded, new Promise<void>((resolve) => (timer = setTimeout(resolve, TAB_CLOSE_WAIT_MILLIS)))]);
        clearTimeout(timer);
    }

    private openTab(entry: Entry<Context, Page>, page: Page): Tab<Page> {
        this.counts.tabsOpened++;
        const tab: Tab<Page> = { page, closed: false };
        this.tabs.set(page as object, tab);
        this.driver.onPageClose(page, () => {
            tab.closed = true;
            if (entry.kept === tab) this.dropKept(entry);
            // Closed under a page (its context closed, a retired session's other pages, a crash): the page ends too.
            if (tab.lease && !tab.lease.isEnded) this.finishLease(entry, tab);
        });
        // What is set per tab starts at once, while Crawlee sets up its side of the page; it is waited for before the
        // page navigates (identityApplied()).
        const identity = this.driver.applyPageIdentity(page, this.fingerprints.for(entry.session), browserWideHeaders(entry.session.identity.headers));
        identity.catch(() => {});
        this.identities.set(page as object, identity);
        return tab;
    }

    /** Crawlee (or an init) closed a page: its tab is kept for the session's next page, or closed. */
    private async endLease(entry: Entry<Context, Page>, tab: Tab<Page>, lease: TabLease<Page & object>): Promise<void> {
        if (lease.isEnded) return;
        const keep =
            lease.keepable &&
            !tab.closed &&
            !entry.session.isRetired &&
            entry.kept === undefined &&
            !entry.closing &&
            this.entries.get(entry.session) === entry &&
            this.maxKeptTabs > 0;
        if (keep) {
            // Kept first: the page's end may leave the context idle and closed as one too many, taking the tab with it.
            this.keep(entry, tab);
            this.finishLease(entry, tab);
            return;
        }
        tab.closed = true;
        this.finishLease(entry, tab);
        await this.driver.closePage(tab.page).catch(() => {});
    }

    /** The page of a tab ended: its listeners leave the tab, its `close` listeners run, the context has one user less. */
    private finishLease(entry: Entry<Context, Page>, tab: Tab<Page>) {
        const lease = tab.lease;
        if (!lease || lease.isEnded) return;
        tab.lease = undefined;
        entry.pages.delete(tab.page);
        lease.finish();
        this.release(entry);
    }

    private keep(entry: Entry<Context, Page>, tab: Tab<Page>) {
        entry.kept = tab;
        this.keeping.add(entry);
        void this.driver.tidyKeptTab?.(tab.page).catch(() => {});
        while (this.keeping.size > this.maxKeptTabs) {
            const oldest = this.keeping.values().next().value!;
            const old = oldest.kept;
            this.dropKept(oldest);
            if (old) {
                old.closed = true;
                void this.driver.closePage(old.page).catch(() => {});
            }
        }
    }

    private takeKept(entry: Entry<Context, Page>): Tab<Page> | undefined {
        const tab = entry.kept;
        this.dropKept(entry);
        return tab && !tab.closed ? tab : undefined;
    }

    private dropKept(entry: Entry<Context, Page>) {
        entry.kept = undefined;
        this.keeping.delete(entry);
    }

    /** Resolves when the page has its session's identity (what {@link newPage} started); rejects if that failed. */
    async identityApplied(page: Page): Promise<void> {
        await this.identities.get(this.tabOf(page) as object);
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
        this.keeping.clear();
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
        // Its kept tab closes with the context.
        this.dropKept(entry);
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
