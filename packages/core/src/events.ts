/** The EventEmitter managed sessions report to as their Crawlee `sessionPool`. */
import { EventEmitter } from 'node:events';

/**
 * The EventEmitter every managed session reports to as its Crawlee `sessionPool`: Crawlee's `Session` requires one and
 * emits `sessionRetired` on it (browser-pool listens to retire the session's browser). Emitted for every retirement.
 */
export class SessionEvents extends EventEmitter {
    /** Read by Crawlee's `Session.retireOnBlockedStatusCodes()`. */
    readonly blockedStatusCodes: number[] = [401, 403, 429];
}
