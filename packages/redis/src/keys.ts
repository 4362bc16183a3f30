/**
 * Where everything lives in Redis, under one prefix. Pool keys and proxy ids are URI-encoded so that a `:` in a pool
 * key (`shop@US:login`) can never collide with the separators. Proxies appear by id only, never by URL.
 */

/** Scope of a proxy's global health record (its record on every site). */
export const GLOBAL_SCOPE = '*';

const enc = (s: string): string => encodeURIComponent(s);
const dec = (s: string): string => decodeURIComponent(s);

/** What a record key names. */
export type RecordRef =
    | { kind: 'health'; proxyId: string; scope: string }
    | { kind: 'session'; pool: string; id: string }
    | { kind: 'lease'; pool: string; id: string };

/** Key builder for one prefix. */
export class Keys {
    readonly epoch: string;
    readonly seq: string;
    readonly changes: string;

    constructor(readonly prefix: string) {
        this.epoch = `${prefix}:epoch`;
        this.seq = `${prefix}:seq`;
        this.changes = `${prefix}:changes`;
    }

    /** A table of interned objects (header sets, fingerprints) that sessions refer to by id. */
    table(name: 'headersets' | 'fingerprints'): string {
        return `${this.prefix}:${name}`;
    }

    /** The final stats of each worker (field: worker id). */
    get stats(): string {
        return `${this.prefix}:stats`;
    }

    /** Health of one proxy on one pool key (or {@link GLOBAL_SCOPE}). */
    health(proxyId: string, scope: string): string {
        return `${this.prefix}:h:${enc(proxyId)}:${enc(scope)}`;
    }

    /** One session of one pool. */
    session(pool: string, id: string): string {
        return `${this.prefix}:s:${enc(pool)}:${enc(id)}`;
    }

    /** The leases on one session. */
    lease(pool: string, id: string): string {
        return `${this.prefix}:l:${enc(pool)}:${enc(id)}`;
    }

    /** What a key of this prefix names, or undefined for a foreign key. */
    parse(key: string): RecordRef | undefined {
        if (!key.startsWith(`${this.prefix}:`)) return undefined;
        const parts = key.slice(this.prefix.length + 1).split(':');
        if (parts.length !== 3) return undefined;
        const [kind, a, b] = parts as [string, string, string];
        if (kind === 'h') return { kind: 'health', proxyId: dec(a), scope: dec(b) };
        if (kind === 's') return { kind: 'session', pool: dec(a), id: dec(b) };
        if (kind === 'l') return { kind: 'lease', pool: dec(a), id: dec(b) };
        return undefined;
    }
}
