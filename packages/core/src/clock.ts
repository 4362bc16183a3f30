/**
 * Time for the session engine. Everything that waits, expires or backs off reads the time from a {@link Clock},
 * so tests (and simulations) can drive time by hand with {@link ManualClock} instead of sleeping.
 */

/** An opaque timer handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = unknown;

export interface Clock {
    /** Milliseconds since the epoch, like `Date.now()`. */
    now(): number;
    /** Calls `callback` once after `millis` (or on the next {@link ManualClock.advance} that reaches it). */
    setTimeout(callback: () => void, millis: number): TimerHandle;
    clearTimeout(handle: TimerHandle): void;
}

/** The real clock: `Date.now()` and Node's timers (unref'd, so a pending wait never keeps a process alive). */
export const systemClock: Clock = {
    now: () => Date.now(),
    setTimeout(callback, millis) {
        const t = setTimeout(callback, Math.max(0, millis));
        t.unref?.();
        return t;
    },
    clearTimeout(handle) {
        clearTimeout(handle as ReturnType<typeof setTimeout>);
    },
};

interface ManualTimer {
    id: number;
    at: number;
    callback: () => void;
}

/**
 * A clock that only moves when told to. Timers fire, in deadline order, during {@link ManualClock.advance}.
 *
 * ```ts
 * const clock = new ManualClock();
 * const manager = await SessionManager.open({ clock, store: false });
 * await clock.advance(5_000); // fires timers and lets awaiting promises run
 * ```
 */
export class ManualClock implements Clock {
    private current: number;
    private nextId = 1;
    private timers = new Map<number, ManualTimer>();

    constructor(startMillis = Date.UTC(2025, 0, 1)) {
        this.current = startMillis;
    }

    now(): number {
        return this.current;
    }

    setTimeout(callback: () => void, millis: number): TimerHandle {
        const id = this.nextId++;
        this.timers.set(id, { id, at: this.current + Math.max(0, millis), callback });
        return id;
    }

    clearTimeout(handle: TimerHandle): void {
        this.timers.delete(handle as number);
    }

    /** Number of timers not yet fired or cleared. */
    get pendingTimers(): number {
        return this.timers.size;
    }

    /**
     * Moves time forward by `millis`, firing every timer that falls due on the way (each at its own deadline),
     * and yields to the microtask queue after each one so promise chains woken by a timer run before the next fires.
     */
    async advance(millis: number): Promise<void> {
        const target = this.current + Math.max(0, millis);
        await flushMicrotasks();
        for (;;) {
            let next: ManualTimer | undefined;
            for (const t of this.timers.values()) {
                if (t.at <= target && (!next || t.at < next.at || (t.at === next.at && t.id < next.id))) next = t;
            }
            if (!next) break;
            this.timers.delete(next.id);
            this.current = Math.max(this.current, next.at);
            next.callback();
            await flushMicrotasks();
        }
        this.current = target;
        await flushMicrotasks();
    }

    /** Moves time without firing timers or yielding (for synchronous code paths in tests). */
    set(millis: number): void {
        this.current = millis;
    }
}

/** Lets pending promise callbacks run (several turns, since chains resolve one link per turn). */
export async function flushMicrotasks(turns = 20): Promise<void> {
    for (let i = 0; i < turns; i++) await Promise.resolve();
}
