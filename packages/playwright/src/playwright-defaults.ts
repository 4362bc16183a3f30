/**
 * Playwright's own Chromium feature switches, read from the installed playwright-core: Playwright puts its
 * `--disable-features` and `--enable-features` lists on Chromium's command line before the user's flags, and Chromium
 * takes the last of each switch only, so a flag of ours has to be merged into Playwright's (see `mergeFeatureSwitches()`
 * in @sessionpack/browser) and Playwright's own left out with `ignoreDefaultArgs` (an exact-string match).
 *
 * Playwright does not export these lists: they are what its server-side Chromium `BrowserType` computes for a launch
 * (`_innerDefaultArgs()`, not public API; written against playwright-core 1.65.1, where it lives in `lib/coreBundle`).
 * They are read at runtime from the playwright-core this `playwright` resolves, so a Playwright upgrade brings its own
 * lists; when they cannot be read, a warning is logged and nothing is merged (the launch is what it was before).
 */
import { createRequire } from 'node:module';

import { log } from '@crawlee/core';

/** What playwright-core's server-side Chromium `BrowserType` gives us (duck-typed: it is not public API). */
interface ServerChromium {
    _innerDefaultArgs(options: { args: string[]; headless: boolean }): unknown;
}

let cached: readonly string[] | null | undefined;

/**
 * Playwright's own `--disable-features=...` and `--enable-features=...` switches for a Chromium launch, exactly as it
 * would give them, or `undefined` when the installed playwright-core does not let them be read (then sessionpack gives
 * Playwright no feature switch of its own). Read once per process.
 */
export function playwrightFeatureSwitches(): readonly string[] | undefined {
    if (cached === undefined) cached = read() ?? null;
    return cached ?? undefined;
}

function read(): readonly string[] | undefined {
    try {
        const fromPlaywright = createRequire(createRequire(import.meta.url).resolve('playwright'));
        const chromium = serverChromium(fromPlaywright);
        if (!chromium) throw new Error('no server-side Chromium BrowserType found in playwright-core');
        const args = chromium._innerDefaultArgs({ args: [], headless: true });
        if (!Array.isArray(args) || !args.every((a): a is string => typeof a === 'string')) throw new Error('its default arguments are not a list of strings');
        const switches = args.filter((a) => a.startsWith('--disable-features=') || a.startsWith('--enable-features='));
        if (!switches.some((a) => a.startsWith('--disable-features='))) throw new Error('its default arguments have no --disable-features');
        return switches;
    } catch (error) {
        log.warning("sessionpack: could not read Playwright's own Chromium feature switches; its browser keeps Chromium's spare renderer", {
            reason: (error as Error).message,
        });
        return undefined;
    }
}

/** playwright-core's server-side Chromium: in `lib/coreBundle` (1.5x-1.6x bundles) or `lib/server` (older layouts). */
function serverChromium(require: NodeJS.Require): ServerChromium | undefined {
    type Module = { server?: { createPlaywright?: unknown }; createPlaywright?: unknown };
    for (const [path, pick] of [
        ['playwright-core/lib/coreBundle', (m: Module) => m.server?.createPlaywright],
        ['playwright-core/lib/server', (m: Module) => m.createPlaywright],
    ] as const) {
        let createPlaywright: unknown;
        try {
            createPlaywright = pick(require(path) as Module);
        } catch {
            continue;
        }
        if (typeof createPlaywright !== 'function') continue;
        const chromium = (createPlaywright as (options: object) => { chromium?: unknown })({ sdkLanguage: 'javascript' }).chromium;
        if (chromium && typeof (chromium as Partial<ServerChromium>)._innerDefaultArgs === 'function') return chromium as ServerChromium;
    }
    return undefined;
}
