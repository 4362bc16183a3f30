/**
 * Finding Chromium and the launch flags sessionpack's browser adapters need, in one place.
 */
import { accessSync, constants } from 'node:fs';

/** Where Debian (and most Linux distributions) put their Chromium. */
export const SYSTEM_CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * The Chromium executable to launch: `$CHROMIUM_PATH` if set, else `/usr/bin/chromium` if it exists and is
 * executable, else `undefined` (the automation library then uses the browser it manages itself).
 *
 * ```ts
 * launchContext: { launchOptions: { executablePath: resolveChromiumPath() } }
 * ```
 */
export function resolveChromiumPath(env: NodeJS.ProcessEnv = process.env): string | undefined {
    const fromEnv = env.CHROMIUM_PATH?.trim();
    if (fromEnv) return fromEnv;
    try {
        accessSync(SYSTEM_CHROMIUM_PATH, constants.X_OK);
        return SYSTEM_CHROMIUM_PATH;
    } catch {
        return undefined;
    }
}

/** True when this process runs as root, where Chromium refuses to start with its sandbox on. */
export function runsAsRoot(): boolean {
    return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Options of {@link chromiumLaunchArgs}. */
export interface ChromiumArgsOptions {
    /** Add `--no-sandbox` when running as root (Puppeteer; Playwright adds it itself). @default false */
    noSandboxAsRoot?: boolean;
    /**
     * Turn off Chromium's spare renderer (`--disable-features=SpareRendererForSitePerProcess`, merged into a
     * `--disable-features` already given) and its back/forward cache (`--disable-back-forward-cache`, which Playwright
     * always sets). For browsers whose sessions keep their tabs: a kept tab needs no new renderer for its next page, so
     * the process Chromium keeps warm for new tabs only costs memory, and a cached previous document only holds memory
     * in the tab's renderer (a crawler never goes back). Only where the library merges `--disable-features` with its own
     * (Puppeteer does; Playwright adds its own list before the user's flags, and Chromium takes the last one, so a
     * `--disable-features` given to Playwright would switch its list back on). @default false
     */
    keptTabs?: boolean;
}

/** The Chromium feature that keeps a renderer process warm for the next new tab. */
const SPARE_RENDERER_FEATURE = 'SpareRendererForSitePerProcess';

/**
 * Flags every sessionpack browser gets unless already present:
 * - `--disable-background-networking`: Chromium's own background requests (safe browsing, component updates) would
 *   otherwise leave through the first session's proxy;
 * - `--disable-dev-shm-usage`: containers often have a tiny /dev/shm;
 * - `--disable-blink-features=AutomationControlled`: `navigator.webdriver` stays false (what Crawlee's own launches add);
 * - `--no-sandbox` only when asked for and running as root (Chromium does not start as root with the sandbox on);
 * - with `keptTabs`, no spare renderer and no back/forward cache (see {@link ChromiumArgsOptions.keptTabs}).
 */
export function chromiumLaunchArgs(args: readonly string[] = [], options: ChromiumArgsOptions = {}): string[] {
    const out = [...args];
    const has = (flag: string) => out.some((a) => a === flag || a.startsWith(`${flag}=`));
    for (const flag of ['--disable-background-networking', '--disable-dev-shm-usage']) {
        if (!has(flag)) out.push(flag);
    }
    const blink = out.findIndex((a) => a.startsWith('--disable-blink-features='));
    if (blink === -1) out.push('--disable-blink-features=AutomationControlled');
    else if (!out[blink]!.includes('AutomationControlled')) out[blink] += ',AutomationControlled';
    if (options.noSandboxAsRoot && runsAsRoot() && !has('--no-sandbox')) out.push('--no-sandbox');
    if (options.keptTabs) {
        if (!has('--disable-back-forward-cache')) out.push('--disable-back-forward-cache');
        const features = out.findIndex((a) => a.startsWith('--disable-features='));
        if (features === -1) out.push(`--disable-features=${SPARE_RENDERER_FEATURE}`);
        else if (!out[features]!.split('=')[1]!.split(',').includes(SPARE_RENDERER_FEATURE)) out[features] += `,${SPARE_RENDERER_FEATURE}`;
    }
    return out;
}
