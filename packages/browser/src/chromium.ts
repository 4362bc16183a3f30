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
}

/**
 * Flags every sessionpack browser gets unless already present:
 * - `--disable-background-networking`: Chromium's own background requests (safe browsing, component updates) would
 *   otherwise leave through the first session's proxy;
 * - `--disable-dev-shm-usage`: containers often have a tiny /dev/shm;
 * - `--disable-blink-features=AutomationControlled`: `navigator.webdriver` stays false (what Crawlee's own launches add);
 * - `--no-sandbox` only when asked for and running as root (Chromium does not start as root with the sandbox on).
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
    return out;
}
