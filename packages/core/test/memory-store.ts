import type { PersistedState, SessionStore } from '../src/index.js';

/** A SessionStore in memory that copies through JSON both ways, as a KeyValueStore record would (no shared objects). */
export class MemoryStore implements SessionStore {
    value: unknown;
    async load() {
        return this.value === undefined ? undefined : JSON.parse(JSON.stringify(this.value));
    }
    async save(state: PersistedState) {
        this.value = JSON.parse(JSON.stringify(state));
    }
}
