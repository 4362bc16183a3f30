import type { ProvingGroundClock } from '../../src/index.js';

/** A clock that only moves when a test says so (the proving ground only reads `now()`). */
export class TestClock implements ProvingGroundClock {
    constructor(private current = Date.UTC(2025, 0, 1)) {}

    now(): number {
        return this.current;
    }

    advance(millis: number): void {
        this.current += millis;
    }
}
