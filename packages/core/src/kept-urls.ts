/**
 * Through a gateway (a dynamic ProxyConfiguration): the URLs of a pool's sessions that were retired used up (their cap,
 * use limit or age) and never blocked. Such a URL is a sticky session id, so one exit IP known to serve: the next new
 * session takes it (fresh cookies, same exit) instead of drawing a new session id, which may land on a banned, burnt
 * or crowded exit nobody can see.
 */
import type { ProxySlot } from './slot.js';

export class KeptUrls<S> {
    /** Proxy ids (one per URL), oldest first. */
    private readonly ids: string[] = [];

    /** Keeps `proxyId` for a later session; at most `limit` are kept (the oldest go). */
    keep(proxyId: string, limit: number): void {
        if (this.ids.includes(proxyId)) return;
        this.ids.push(proxyId);
        if (this.ids.length > limit) this.ids.shift();
    }

    /**
     * A kept URL free for a new session now (no live session on it, usable, not paced), taken off the list; or
     * undefined. URLs whose proxy went into backoff or a ban are dropped.
     */
    take(now: number, slotOf: (proxyId: string) => ProxySlot<S>): string | undefined {
        for (let i = 0; i < this.ids.length; i++) {
            const slot = slotOf(this.ids[i]!);
            if (slot.live > 0) continue;
            slot.refresh(now);
            if (slot.availability === 'banned' || slot.availability === 'backoff') {
                this.ids.splice(i--, 1);
                continue;
            }
            if (!slot.open(now)) continue;
            this.ids.splice(i, 1);
            return slot.id;
        }
        return undefined;
    }

    get size(): number {
        return this.ids.length;
    }
}
