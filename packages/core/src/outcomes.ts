/**
 * Outcomes: one table from an outcome type to its effect on the session, on its proxy's health for the pool's site,
 * and on the stats (DESIGN.md's outcome table, in code). `report()` looks the type up here and nowhere else.
 */
import type { OutcomeEffect } from './health-model.js';
import type { ResolvedPoolOptions } from './options.js';
import type { AttemptMarks, ManagedSession } from './session.js';
import type { CounterName } from './stats.js';
import type { Outcome, OutcomeType } from './types.js';

/** What one use does to its session. */
export type SessionEffect =
    /** Use counted, error score −`errorScoreDecrement`, cools down `minDelayBetweenUsesMillis` (+ jitter). */
    | 'good'
    /** Use counted, error score +1, cools down. */
    | 'error'
    /** Use counted, cools down; nothing else. */
    | 'use'
    /** Use counted, cools down for Retry-After (or `rateLimitCooldownMillis`), kept. */
    | 'rate-limit'
    /** Use counted, retired. */
    | 'retire';

export interface OutcomeRule {
    /** Effect on the proxy's health for the pool's site. */
    health: OutcomeEffect;
    session: SessionEffect;
    counter: CounterName;
}

/** The table. */
export const OUTCOMES: Readonly<Record<OutcomeType, OutcomeRule>> = {
    ok: { health: 'success', session: 'good', counter: 'use/ok' },
    blocked: { health: 'blocked', session: 'retire', counter: 'use/blocked' },
    'check-failed': { health: 'blocked', session: 'retire', counter: 'use/check-failed' },
    'rate-limited': { health: 'rate-limited', session: 'rate-limit', counter: 'use/rate-limited' },
    'proxy-failure': { health: 'proxy-failure', session: 'retire', counter: 'use/proxy-failure' },
    'target-error': { health: 'target-error', session: 'error', counter: 'use/target-error' },
    'handler-error': { health: 'neutral', session: 'use', counter: 'use/handler-error' },
};

/** The outcome types (in the table's order). */
export const OUTCOME_TYPES = Object.keys(OUTCOMES) as readonly OutcomeType[];

/** An outcome's type, or `target-error` for anything the table does not know. */
export function outcomeTypeOf(outcome: Outcome): OutcomeType {
    return Object.hasOwn(OUTCOMES, outcome.type) ? outcome.type : 'target-error';
}

/** The rate-limit cool-down of an outcome under a pool's limits. */
export function rateLimitMillisOf(outcome: Outcome, o: ResolvedPoolOptions): number {
    return Math.min(outcome.retryAfterMillis ?? o.rateLimitCooldownMillis, o.maxRateLimitCooldownMillis);
}

/** What {@link applySessionEffect} reads of a use. */
export interface SessionEffectInput {
    type: OutcomeType;
    reason: string;
    now: number;
    delay: number;
    rateLimitMillis: number;
    o: ResolvedPoolOptions;
}

/**
 * Applies a use's effect to a live session; returns why it must be retired now, if it must. `delay` is the cool-down
 * after an ordinary use (min delay + jitter).
 */
export function applySessionEffect(session: ManagedSession, rule: OutcomeRule, ctx: SessionEffectInput): string | undefined {
    const { now, o } = ctx;
    switch (rule.session) {
        case 'retire':
            session.countUse(0);
            return `${ctx.type}: ${ctx.reason}`;
        case 'rate-limit':
            session.countUse(0);
            session.availableAt = Math.max(session.availableAt, now + ctx.rateLimitMillis);
            break;
        case 'good':
        case 'error':
        case 'use': {
            session.countUse(rule.session === 'good' ? -o.errorScoreDecrement : rule.session === 'error' ? 1 : 0);
            const delay = ctx.delay;
            if (delay > 0) session.availableAt = Math.max(session.availableAt, now + delay);
            break;
        }
    }
    if (session.inUse > 0) return undefined;
    if (session.errorScore >= session.maxErrorScore) return `max error score reached (${ctx.reason})`;
    if (session.usageCount >= o.maxUses) return 'max uses reached';
    if (session.expiredAt(now)) return 'max age reached';
    return undefined;
}

/**
 * Whether a retirement `reason` says the session was used up (its use limit, its age, the learned cap) rather than
 * blocked or failing: what it ran on served to the end.
 */
export function usedUp(reason: string): boolean {
    return reason === 'max uses reached' || reason === 'max age reached' || reason.startsWith('learned cap reached');
}

/**
 * Ends an attempt (when the session was given as an attempt's handle) and merges what was called on the handle during
 * it: `retire()` makes an ok, handler-error or target-error use a blocked one; `markBad()` makes an ok use a target
 * error. Either way the use counts once.
 */
export function mergeAttempt(marks: AttemptMarks | undefined, type: OutcomeType, reason: string): { type: OutcomeType; reason: string } {
    if (!marks) return { type, reason };
    marks.open = false;
    if (marks.retireCalled && (type === 'ok' || type === 'handler-error' || type === 'target-error')) {
        return { type: 'blocked', reason: 'session.retire() was called during the attempt' };
    }
    if (marks.badMarks > 0 && type === 'ok') return { type: 'target-error', reason: 'session.markBad() was called during the attempt' };
    return { type, reason };
}
