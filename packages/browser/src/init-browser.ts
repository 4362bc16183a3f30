/**
 * The browser that session `init` flows drive. Inits run while Crawlee waits for a proxy URL, before the crawler's
 * own page exists, so they get a page in a browser of their own: launched on the first browser-driven init, shared by
 * all of them, and closed once no init has used it for `idleSecs` or when the crawler's browsers are all closed.
 */
import type { BrowserDriver, InitPage } from './driver.js';

export class InitBrowser<Page, Browser> {
    private browser?: Promise<Browser>;
    private active = 0;
    private idleTimer?: NodeJS.Timeout;

    constructor(
        private readonly driver: BrowserDriver<Page, unknown, Browser>,
        private readonly idleSecs = 5,
    ) {}

    /** Whether the init browser is running (or starting). */
    get running(): boolean {
        return this.browser !== undefined;
    }

    /** Opens a page in a fresh context with `proxyUrl`; close it with the returned `close()`. */
    async open(options: { proxyUrl?: string }): Promise<InitPage<Page>> {
        this.active++;
        this.clearIdle();
        try {
            this.browser ??= this.driver.launchInitBrowser();
            const browser = await this.browser.catch((error: unknown) => {
                this.browser = undefined;
                throw error;
            });
            const opened = await this.driver.newInitPage(browser, options);
            let closed = false;
            return {
                page: opened.page,
                close: async () => {
                    if (closed) return;
                    closed = true;
                    await opened.close().catch(() => {});
                    this.release();
                },
            };
        } catch (error) {
            this.release();
            throw error;
        }
    }

    /** Closes the browser now (pages still open in it fail). */
    async close(): Promise<void> {
        this.clearIdle();
        const browser = this.browser;
        this.browser = undefined;
        if (browser) await browser.then((b) => this.driver.closeBrowser(b)).catch(() => {});
    }

    /** Closes the browser as soon as no init uses it. */
    closeWhenIdle(): void {
        if (this.active === 0) void this.close();
        else this.closeAfterLast = true;
    }

    private closeAfterLast = false;

    private release() {
        this.active--;
        if (this.active > 0) return;
        if (this.closeAfterLast) {
            this.closeAfterLast = false;
            void this.close();
            return;
        }
        this.idleTimer = setTimeout(() => void this.close(), this.idleSecs * 1000);
        this.idleTimer.unref();
    }

    private clearIdle() {
        if (this.idleTimer) clearTimeout(this.idleTimer);
        this.idleTimer = undefined;
        this.closeAfterLast = false;
    }
}
