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
     * `--disable-features` already given; not when an `--enable-features` given names it) and its back/forward cache
     * (`--disable-back-forward-cache`, which Playwright always sets). For browsers whose sessions keep their tabs: a
     * kept tab needs no new renderer for its next page, so the process Chromium keeps warm for new tabs only costs
     * memory, and a cached previous document only holds memory in the tab's renderer (a crawler never goes back).
     * Where the library puts a `--disable-features` of its own before the user's flags (Playwright), merge the result
     * into it with {@link mergeFeatureSwitches}: Chromium takes the last one only. @default false
     */
    keptTabs?: boolean;
    /**
     * Turn off browser UI a crawler never shows but that costs a renderer process per window: the omnibox (address bar)
     * popup, which Chromium 156 renders as a WebUI page (`chrome://omnibox-popup.top-chrome/`, two of them) in a renderer
     * of its own, ~120-160 MiB, for **every browser context** (each context's first page opens a window of its own;
     * `--disable-features=WebUIOmniboxPopup,WebUIOmniboxAimPopup`, merged like `keptTabs`'s, not when an
     * `--enable-features` given names them). Pages cannot see the omnibox: nothing a site sees changes. @default false
     */
    noBrowserUi?: boolean;
}

/** The Chromium feature that keeps a renderer process warm for the next new tab. */
const SPARE_RENDERER_FEATURE = 'SpareRendererForSitePerProcess';
/** The Chromium features that render the omnibox popup as WebUI pages (each window gets its own renderer for them). */
const BROWSER_UI_FEATURES = ['WebUIOmniboxPopup', 'WebUIOmniboxAimPopup'];
const DISABLE_FEATURES = '--disable-features';
const ENABLE_FEATURES = '--enable-features';

/** The features a `--disable-features=` / `--enable-features=` switch lists. */
function featuresOf(flag: string): string[] {
    return flag
        .slice(flag.indexOf('=') + 1)
        .split(',')
        .map((f) => f.trim())
        .filter(Boolean);
}

/** A listed feature's name, without a field trial (`Name<Trial`) or parameters (`Name:k/v`). */
function featureName(entry: string): string {
    return entry.split(/[<:]/)[0]!;
}

/**
 * Flags every sessionpack browser gets unless already present:
 * - `--disable-background-networking`: Chromium's own background requests (safe browsing, component updates) would
 *   otherwise leave through the first session's proxy;
 * - `--disable-dev-shm-usage`: containers often have a tiny /dev/shm;
 * - `--disable-blink-features=AutomationControlled`: `navigator.webdriver` stays false (what Crawlee's own launches add);
 * - `--no-sandbox` only when asked for and running as root (Chromium does not start as root with the sandbox on);
 * - with `keptTabs`, no spare renderer and no back/forward cache (see {@link ChromiumArgsOptions.keptTabs});
 * - with `noBrowserUi`, no omnibox popup WebUI (see {@link ChromiumArgsOptions.noBrowserUi}).
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
    if (options.keptTabs && !has('--disable-back-forward-cache')) out.push('--disable-back-forward-cache');
    const enabled = new Set(out.filter((a) => a.startsWith(`${ENABLE_FEATURES}=`)).flatMap(featuresOf).map(featureName));
    const disable = [...(options.keptTabs ? [SPARE_RENDERER_FEATURE] : []), ...(options.noBrowserUi ? BROWSER_UI_FEATURES : [])].filter((f) => !enabled.has(f));
    if (disable.length) {
        const features = out.findIndex((a) => a.startsWith(`${DISABLE_FEATURES}=`));
        if (features === -1) out.push(`${DISABLE_FEATURES}=${disable.join(',')}`);
        else {
            const given = new Set(featuresOf(out[features]!).map(featureName));
            const missing = disable.filter((f) => !given.has(f));
            if (missing.length) out[features] += `,${missing.join(',')}`;
        }
    }
    return out;
}

/** What {@link mergeFeatureSwitches} returns. */
export interface MergedFeatureSwitches {
    /** The flags to give the library: the user's, with each feature switch merged into the library's own. */
    args: string[];
    /** The library's own switches the merged ones replace: give them to the library's `ignoreDefaultArgs`. */
    replaced: string[];
}

/**
 * Merges the `--disable-features` and `--enable-features` of `args` into the library's own (`defaults`: what the
 * library puts on Chromium's command line before the user's flags, as Playwright does). Chromium takes only the last of
 * each switch, so a user's `--disable-features` after the library's would switch the library's list back on. For each
 * of the two switches that `args` has: one switch with the library's features and then the user's (each once), where
 * the user's first one was, and the library's own in `replaced`. A feature the user's switches enable is left out of
 * the library's disabled list, and one they disable out of its enabled list (the user's word wins; the library's switch
 * is then replaced even where `args` has none of that kind). Other switches are left to the library.
 *
 * ```ts
 * const { args, replaced } = mergeFeatureSwitches(playwrightDefaults, chromiumLaunchArgs(userArgs, { keptTabs: true }));
 * await chromium.launch({ args, ignoreDefaultArgs: replaced });
 * ```
 */
export function mergeFeatureSwitches(defaults: readonly string[], args: readonly string[]): MergedFeatureSwitches {
    const userFeatures = (flag: string) => args.filter((a) => a.startsWith(`${flag}=`)).flatMap(featuresOf);
    const userDisabled = new Set(userFeatures(DISABLE_FEATURES).map(featureName));
    const userEnabled = new Set(userFeatures(ENABLE_FEATURES).map(featureName));
    let out = [...args];
    const replaced: string[] = [];
    for (const [flag, overruled] of [
        [DISABLE_FEATURES, userEnabled],
        [ENABLE_FEATURES, userDisabled],
    ] as const) {
        const first = out.findIndex((a) => a.startsWith(`${flag}=`));
        const own = defaults.find((a) => a.startsWith(`${flag}=`));
        const ownFeatures = own ? featuresOf(own) : [];
        const ownKept = ownFeatures.filter((f) => !overruled.has(featureName(f)));
        // Nothing of the user's to merge, and nothing of the library's they overrule: the library's switch stays.
        if (first === -1 && ownKept.length === ownFeatures.length) continue;
        const merged: string[] = [];
        const names = new Set<string>();
        for (const entry of [...ownKept, ...userFeatures(flag)]) {
            if (names.has(featureName(entry))) continue;
            names.add(featureName(entry));
            merged.push(entry);
        }
        const mergedSwitch = merged.length ? [`${flag}=${merged.join(',')}`] : [];
        out = out.flatMap((a, i) => (i === first ? mergedSwitch : a.startsWith(`${flag}=`) ? [] : [a]));
        if (first === -1) out.push(...mergedSwitch);
        if (own !== undefined) replaced.push(own);
    }
    return { args: out, replaced };
}
