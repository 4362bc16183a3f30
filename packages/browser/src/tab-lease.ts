/**
 * A session's tab as one of its pages (one request's attempt, or an init) sees it: what Crawlee and the user's hooks
 * get as `page`. A session keeps its tab from page to page (see `session-contexts.ts`), so each page gets a lease of
 * the tab, a Proxy of the library's page that:
 * - keeps what is attached to it for this page: listeners added with `on`/`once`/... are removed from the tab when
 *   the lease ends; properties set on it (Crawlee replaces `page.close`) stay on the lease, never on the tab;
 * - answers `close()` with {@link TabLeaseOptions.end} (the tab is kept or really closed there) and emits `close` to
 *   the lease's own `close` listeners then (Crawlee counts its open pages with one), or when the tab really closes;
 * - notes calls that change the tab for every later page (routes, request interception, init scripts, emulation...):
 *   a tab that got one is closed at the end of the page instead of kept;
 * - once ended, is closed for good: `isClosed()` is true and its methods reject, so a reference a handler kept does
 *   not reach the session's next page.
 */

type Listener = (...args: unknown[]) => unknown;
type Method = (...args: any[]) => unknown;

/**
 * Methods of Playwright's and Puppeteer's `Page` whose effect outlives the page's request: a tab that got one of them
 * is closed at the end of its page, not kept for the session's next page.
 */
export const TAB_CHANGING_METHODS: ReadonlySet<string> = new Set([
    // Both
    'setExtraHTTPHeaders',
    'exposeFunction',
    'setDefaultTimeout',
    'setDefaultNavigationTimeout',
    // Playwright
    'route',
    'routeFromHAR',
    'routeWebSocket',
    'setViewportSize',
    'addInitScript',
    'exposeBinding',
    'emulateMedia',
    'addLocatorHandler',
    // Puppeteer
    'setRequestInterception',
    'setViewport',
    'evaluateOnNewDocument',
    'setUserAgent',
    'emulate',
    'emulateMediaType',
    'emulateMediaFeatures',
    'emulateTimezone',
    'emulateIdleState',
    'emulateVisionDeficiency',
    'emulateCPUThrottling',
    'emulateNetworkConditions',
    'setGeolocation',
    'setJavaScriptEnabled',
    'setBypassCSP',
    'setCacheEnabled',
    'setOfflineMode',
    'authenticate',
    'setDragInterception',
    'setBypassServiceWorker',
    // A CDP session of the page can change anything about it.
    'createCDPSession',
    'target',
]);

const ADD = new Set(['on', 'addListener', 'prependListener']);
const ADD_ONCE = new Set(['once', 'prependOnceListener']);
const REMOVE = new Set(['off', 'removeListener']);

interface Attached {
    event: string | symbol;
    listener: Listener;
    /** What is registered on the tab (`listener` itself, or a wrapper that removes itself for `once`). */
    registered: Listener;
}

export interface TabLeaseOptions {
    /** The lease's `close()`: keeps or closes the tab, then calls {@link TabLease.finish}. */
    end: (lease: TabLease) => Promise<void>;
}

export class TabLease<Page extends object = object> {
    /** The page Crawlee and the user's code get. */
    readonly page: Page;
    /** The first method called that changed the tab beyond this page (it is not kept then). */
    changedBy?: string;
    private reusable = false;
    private ended = false;
    private resolveEnded!: () => void;
    /** Resolves when the lease ended. */
    readonly whenEnded = new Promise<void>((resolve) => (this.resolveEnded = resolve));
    private closing?: Promise<void>;
    private readonly own = new Map<PropertyKey, unknown>();
    private readonly attached: Attached[] = [];
    private readonly closeListeners: Listener[] = [];

    constructor(
        readonly tab: Page,
        private readonly options: TabLeaseOptions,
    ) {
        const emitter = tab as unknown as Record<string, Method>;
        this.page = new Proxy(tab, {
            get: (t, property) => {
                if (this.own.has(property)) return this.own.get(property);
                if (typeof property === 'string') {
                    const special = this.special(property, emitter);
                    if (special) return special;
                }
                const value = Reflect.get(t, property, t) as unknown;
                if (typeof value !== 'function') return value;
                if (this.ended) return closedMethod(String(property));
                if (typeof property === 'string' && TAB_CHANGING_METHODS.has(property)) {
                    return (...args: unknown[]) => {
                        this.changedBy ??= property;
                        return (value as Method).apply(t, args);
                    };
                }
                return (value as Method).bind(t);
            },
            set: (_t, property, value) => {
                this.own.set(property, value);
                return true;
            },
            deleteProperty: (_t, property) => {
                this.own.delete(property);
                return true;
            },
            has: (t, property) => this.own.has(property) || Reflect.has(t, property),
        });
    }

    /** Whether the lease ended (its page was closed). */
    get isEnded(): boolean {
        return this.ended;
    }

    /** The page's work ended well: the tab may be kept for the session's next page (unless something changed it). */
    markReusable(): void {
        this.reusable = true;
    }

    /** Whether the page's work ended well (its close is on its way). */
    get isReusable(): boolean {
        return this.reusable;
    }

    /** Whether the tab may be kept: the page ended well and nothing changed the tab beyond it. */
    get keepable(): boolean {
        return this.reusable && this.changedBy === undefined;
    }

    /**
     * Ends the lease: the page's listeners leave the tab, the lease is closed for good, and its `close` listeners run
     * (each once). Called by {@link TabLeaseOptions.end}, or when the tab itself closed.
     */
    finish(): void {
        if (this.ended) return;
        this.ended = true;
        this.resolveEnded();
        const emitter = this.tab as unknown as Record<string, Method | undefined>;
        const remove = emitter.off ?? emitter.removeListener;
        for (const { event, registered } of this.attached.splice(0)) remove?.call(this.tab, event, registered);
        for (const listener of this.closeListeners.splice(0)) {
            try {
                void Promise.resolve(listener(this.page)).catch(() => {});
            } catch {
                // A listener's own failure is its own.
            }
        }
    }

    private special(property: string, emitter: Record<string, Method>): Method | undefined {
        if (property === 'close') {
            return async () => {
                if (this.ended) return;
                this.closing ??= this.options.end(this);
                await this.closing;
            };
        }
        if (property === 'isClosed') return () => this.ended || Boolean(emitter.isClosed?.call(this.tab));
        if (ADD.has(property) || ADD_ONCE.has(property)) {
            return (event: string | symbol, listener: Listener) => {
                if (!this.ended) this.attach(event, listener, ADD_ONCE.has(property), emitter);
                return this.page;
            };
        }
        if (REMOVE.has(property)) {
            return (event: string | symbol, listener: Listener) => {
                this.detach(event, listener);
                return this.page;
            };
        }
        if (property === 'removeAllListeners') {
            return (event?: string | symbol) => {
                for (const a of [...this.attached]) if (event === undefined || a.event === event) this.detach(a.event, a.listener);
                if (event === undefined || event === 'close') this.closeListeners.length = 0;
                return this.page;
            };
        }
        return undefined;
    }

    private attach(event: string | symbol, listener: Listener, once: boolean, emitter: Record<string, Method>) {
        if (event === 'close') {
            // The tab's own close is not the page's: the lease emits it (once) when the page ends.
            this.closeListeners.push(listener);
            return;
        }
        const entry: Attached = { event, listener, registered: listener };
        if (once) {
            entry.registered = (...args: unknown[]) => {
                this.detach(event, listener);
                return listener(...args);
            };
        }
        this.attached.push(entry);
        emitter.on!.call(this.tab, event, entry.registered);
    }

    private detach(event: string | symbol, listener: Listener) {
        if (event === 'close') {
            const i = this.closeListeners.indexOf(listener);
            if (i >= 0) this.closeListeners.splice(i, 1);
            return;
        }
        const i = this.attached.findIndex((a) => a.event === event && a.listener === listener);
        if (i < 0) return;
        const [entry] = this.attached.splice(i, 1);
        const emitter = this.tab as unknown as Record<string, Method | undefined>;
        (emitter.off ?? emitter.removeListener)?.call(this.tab, event, entry!.registered);
    }
}

/** What a method of an ended lease does: rejects (with the rejection already handled, in case nobody waits for it). */
function closedMethod(name: string): Method {
    return () => {
        const rejected = Promise.reject(
            new Error(`page.${name}(): this page was closed when its request ended (sessionpack keeps the tab for the session's next page)`),
        );
        rejected.catch(() => {});
        return rejected;
    };
}
