/**
 * The one browser every session's context lives in, for one `withSessions()` crawler. Crawlee's browser pool gets
 * views of it (its launcher returns one per "launch"), session `init` flows use it directly. It is launched on first
 * use (a first `init` may come before Crawlee's first page) and closed, with every context in it, when Crawlee closed
 * all its views (the end of the crawl), or when an init launched it and no crawler took it within `idleSecs`.
 */
import type { BrowserDriver, BrowserHooks } from './driver.js';

export class SharedBrowser<Page, Browser> {
    private browser?: Promise<Browser>;
    private holders = 0;
    private crawlerViews = 0;
    private idleTimer?: NodeJS.Timeout;

    constructor(
        private readonly driver: BrowserDriver<Page, unknown, Browser, unknown>,
        private readonly options: {
            idleSecs: number;
            /** Called before the browser closes (the contexts are closed there) and when it went away by itself. */
            onClose: () => Promise<void>;
        },
    ) {}

    /** Whether the browser is running (or starting). */
    get running(): boolean {
        return this.browser !== undefined;
    }

    /** The running browser, launched if needed. Whoever calls this must hold it (or run within someone's hold). */
    get(): Promise<Browser> {
        if (!this.browser) {
            const launched = this.driver.launch();
            this.browser = launched;
            launched.then(
                (b) => this.driver.onDisconnected(b, () => {
                    if (this.browser !== launched) return;
                    this.browser = undefined;
                    void this.options.onClose();
                }),
                () => {
                    if (this.browser === launched) this.browser = undefined;
                },
            );
        }
        return this.browser;
    }

    /** Holds the browser open (an init page); `release()` when done. */
    async hold(): Promise<Browser> {
        this.holders++;
        this.clearIdle();
        try {
            return await this.get();
        } catch (error) {
            this.release();
            throw error;
        }
    }

    release(): void {
        this.holders--;
        if (this.holders > 0) return;
        if (this.crawlerViews > 0) return;
        this.idleTimer = setTimeout(() => void this.close(), this.options.idleSecs * 1000);
        this.idleTimer.unref();
    }

    /** A view for one of Crawlee's browser controllers; the browser closes once Crawlee closed every view it got. */
    async viewForCrawlee(newPage: BrowserHooks<Page>['newPage']): Promise<Browser> {
        this.crawlerViews++;
        this.clearIdle();
        let browser: Browser;
        try {
            browser = await this.get();
        } catch (error) {
            this.crawlerViews--;
            throw error;
        }
        let released = false;
        return this.driver.viewForCrawlee(browser, {
            newPage,
            release: () => {
                if (released) return;
                released = true;
                this.crawlerViews--;
                if (this.crawlerViews === 0 && this.holders === 0) void this.close();
            },
        });
    }

    /** Closes every context and the browser now. */
    async close(): Promise<void> {
        this.clearIdle();
        const browser = this.browser;
        this.browser = undefined;
        if (!browser) return;
        await this.options.onClose().catch(() => {});
        await browser.then(async (b) => this.driver.closeBrowser(b)).catch(() => {});
    }

    private clearIdle() {
        if (this.idleTimer) clearTimeout(this.idleTimer);
        this.idleTimer = undefined;
    }
}
