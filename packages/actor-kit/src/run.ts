/**
 * The parts of an example actor's run that do not depend on the crawler: reading its input, choosing what to crawl
 * (the given start URLs, or an embedded proving ground through its proxy farm), opening the SessionManager, and
 * ending the run (a stats line, the crawl report, closing everything).
 */
import { log } from '@crawlee/core';
import { type HookExtras, type Rule, SessionManager } from '@sessionpack/core';
import { type ProvingGround, type ScenarioName, startProvingGround } from '@sessionpack/proving-ground';

/** The input every example actor accepts (see each actor's `.actor/input_schema.json`). */
export interface ActorInput {
    /** Pages to start from; empty: crawl the embedded proving ground. @default [] */
    startUrls?: ({ url: string } | string)[];
    /** Proxy URLs (`http://user:pass@host:port`); empty: the proving ground's farm, or direct. @default [] */
    proxyUrls?: string[];
    /** Stop after this many pages. @default the actor's own */
    maxRequestsPerCrawl?: number;
    /** Target size of each site's session pool. @default the actor's own */
    poolSize?: number;
    /** Parallel requests. @default the actor's own */
    maxConcurrency?: number;
    /** Location each session of the proving ground's shop chooses at init. @default 'DE' */
    location?: string;
    /** Proving-ground scenario when no start URLs are given. @default 'realistic' */
    scenario?: ScenarioName;
}

/** What a run crawls. */
export interface ActorTarget {
    startUrls: string[];
    proxyUrls: string[];
    /** The embedded proving ground, when the input named no start URLs. */
    ground?: ProvingGround;
    /** Location the shop's sessions choose. */
    location: string;
}

/**
 * Reads `input` (`null` = none) and, when it has no start URLs, starts the embedded proving ground (seed 1) and crawls
 * `paths` of its shop through its proxy farm. Throws a TypeError naming the field on malformed input.
 */
export async function resolveTarget(input: ActorInput | null | undefined, paths: string[] = ['/']): Promise<ActorTarget> {
    const i = input ?? {};
    if (i.startUrls !== undefined && !Array.isArray(i.startUrls)) throw new TypeError('Actor input: `startUrls` must be an array of URLs');
    if (i.proxyUrls !== undefined && !Array.isArray(i.proxyUrls)) throw new TypeError('Actor input: `proxyUrls` must be an array of proxy URLs');
    const startUrls = (i.startUrls ?? []).map((s) => (typeof s === 'string' ? s : s.url));
    const proxyUrls = [...(i.proxyUrls ?? [])];
    const location = i.location ?? 'DE';
    if (startUrls.length > 0) return { startUrls, proxyUrls, location };
    const scenario = i.scenario ?? 'realistic';
    const ground = await startProvingGround({ scenario, seed: 1 });
    log.info(`Crawling the embedded proving ground (${scenario}) at ${ground.siteUrl} through ${proxyUrls.length || ground.proxyUrls.length} proxies`);
    return { startUrls: paths.map((p) => `${ground.siteUrl}${p}`), proxyUrls: proxyUrls.length ? proxyUrls : [...ground.proxyUrls], ground, location };
}

/** Opens the run's SessionManager: the target's proxies, `poolSize` sessions per site, and `rules` (state kept in the `sessionpack` store). */
export function openActorManager<X extends HookExtras = {}>(target: ActorTarget, poolSize: number, rules: Rule<X>[]): Promise<SessionManager> {
    return SessionManager.open<X>({ proxyUrls: target.proxyUrls.length ? target.proxyUrls : undefined, pool: { size: poolSize }, rules });
}

/** Ends a run: logs the counters, closes the manager (which writes the crawl report and says where), then the proving ground. */
export async function finishRun(manager: SessionManager, target: ActorTarget): Promise<void> {
    log.info(`sessionpack: ${JSON.stringify(manager.stats().totals.counters)}`);
    await manager.close();
    await target.ground?.close();
}
