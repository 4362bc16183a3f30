/** The scheduler's answer to one acquire (scheduler.ts decides, acquire.ts acts on it). */
import type { ManagedSession } from './session.js';

/** What the scheduler decided for one acquire. */
export type Decision =
    | { kind: 'session'; session: ManagedSession }
    | { kind: 'create'; proxyId: string | undefined; evict?: ManagedSession }
    | {
          kind: 'wait';
          /** Epoch millis at which something may become usable by time alone (Infinity: only a report can help). */
          wakeAt: number;
          /** Every configured proxy is in backoff or banned for this pool. */
          proxiesExhausted: boolean;
          /** Every configured proxy is banned for this pool and no session is left. */
          allBanned: boolean;
          /** Every configured proxy is unusable and failed its last probe too (or is banned). */
          proxiesStalled: boolean;
      };
