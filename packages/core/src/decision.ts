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

/** The one `session` decision, refilled by {@link handOutDecision} (a hand-out allocates nothing for its decision). */
const picked: { kind: 'session'; session: ManagedSession | undefined } = { kind: 'session', session: undefined };

/**
 * The decision to hand out `session`. One object, refilled for every such decision: read it before the next decision
 * of any pool (the acquire loop does, synchronously).
 */
export function handOutDecision(session: ManagedSession): Decision {
    picked.session = session;
    return picked as Decision;
}
