/**
 * Virtual time for the selection simulation. Implements sessionpack's `Clock` (so the SessionManager's waits,
 * cool-downs and backoffs run on it) and jumps from one timer to the next: a simulated hour costs what its events
 * cost, not an hour. After each timer it lets every pending promise callback run (a `setImmediate` turn drains the
 * whole microtask queue), so async code woken by a timer finishes before time moves on.
 */
import type { Clock, TimerHandle } from '@sessionpack/core';

interface Timer {
    id: number;
    at: number;
    callback: () => void;
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

export class VirtualClock implements Clock {
    private current: number;
    private nextId = 1;
    /** Binary min-heap on (at, id). */
    private heap: Timer[] = [];
    private cancelled = new Set<number>();

    constructor(startMillis = Date.UTC(2025, 0, 1)) {
        this.current = startMillis;
    }

    now(): number {
        return this.current;
    }

    setTimeout(callback: () => void, millis: number): TimerHandle {
        const timer = { id: this.nextId++, at: this.current + Math.max(0, millis), callback };
        this.push(timer);
        return timer.id;
    }

    clearTimeout(handle: TimerHandle): void {
        if (typeof handle === 'number') this.cancelled.add(handle);
    }

    /** Resolves after `millis` of virtual time. */
    sleep(millis: number): Promise<void> {
        return new Promise((resolve) => this.setTimeout(resolve, millis));
    }

    /**
     * Runs timers in order until `done()` holds (checked whenever the async world has settled), or until no timer is
     * left (everyone waits on something that will never come: a deadlock, reported as an error).
     */
    async run(done: () => boolean, maxVirtualMillis = 24 * 3600_000): Promise<void> {
        const limit = this.current + maxVirtualMillis;
        for (;;) {
            await settle();
            if (done()) return;
            const timer = this.pop();
            if (!timer) throw new Error('virtual clock: nothing left to run and the simulation is not done (deadlock)');
            if (timer.at > limit) throw new Error(`virtual clock: the simulation ran past ${maxVirtualMillis / 1000} virtual seconds`);
            this.current = Math.max(this.current, timer.at);
            timer.callback();
        }
    }

    private push(timer: Timer): void {
        const h = this.heap;
        h.push(timer);
        let i = h.length - 1;
        while (i > 0) {
            const parent = (i - 1) >> 1;
            if (!before(h[i]!, h[parent]!)) break;
            [h[i], h[parent]] = [h[parent]!, h[i]!];
            i = parent;
        }
    }

    private pop(): Timer | undefined {
        const h = this.heap;
        while (h.length > 0) {
            const top = h[0]!;
            const last = h.pop()!;
            if (h.length > 0) {
                h[0] = last;
                let i = 0;
                for (;;) {
                    const l = 2 * i + 1;
                    const r = l + 1;
                    let m = i;
                    if (l < h.length && before(h[l]!, h[m]!)) m = l;
                    if (r < h.length && before(h[r]!, h[m]!)) m = r;
                    if (m === i) break;
                    [h[i], h[m]] = [h[m]!, h[i]!];
                    i = m;
                }
            }
            if (this.cancelled.delete(top.id)) continue;
            return top;
        }
        return undefined;
    }
}

function before(a: Timer, b: Timer): boolean {
    return a.at < b.at || (a.at === b.at && a.id < b.id);
}
