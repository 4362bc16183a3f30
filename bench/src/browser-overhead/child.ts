/**
 * Entry of one browser-overhead crawl in its own process (forked by index.ts with the job as JSON in argv[2]): runs
 * it with `Math.random` seeded as the parent asks, sends back its row over IPC and exits.
 */
import { log as crawleeLog, LogLevel } from '@crawlee/core';

import { derive, withSeededMathRandom } from '../shared/prng.js';
import { crawl, type CrawlJob } from './crawl.js';

interface ChildArgs extends CrawlJob {
    /** Which alternating run this is (the seeded `Math.random` stream is derived from it). */
    run: number;
}

const job = JSON.parse(process.argv[2]!) as ChildArgs;
crawleeLog.setLevel(LogLevel.OFF);
const row = await withSeededMathRandom(derive(job.seed, 'browser-overhead', job.browser, job.variant, job.run), () => crawl(job));
process.send!(row, () => process.exit(0));
