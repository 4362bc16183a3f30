/**
 * The fields of a session in one fixed order, allocated by a constructor so that V8 keeps them in the object itself:
 * an object made by `Object.create` holds 4 fields and puts the rest in an array of its own (with 100k sessions, one
 * more cold object read on every use). `ManagedSession.create` builds sessions with it (`Reflect.construct`, with
 * ManagedSession's prototype) and sets the fields its options give right after; the rest keep the fresh session's
 * values set here. A field not listed here goes to that array again.
 *
 * The fields a hand-out and a report read come first (id to lastUsedAt), so that they share the object's first cache
 * lines: with 1,000 pools every use lands on a cold session.
 */
export class SessionLayout {
    declare id: unknown;
    declare poolKey: unknown;
    declare proxySlot: unknown;
    declare inUse: unknown;
    declare heldElsewhere: unknown;
    declare uses: unknown;
    declare errors: unknown;
    declare maxUses: unknown;
    declare maxErrors: unknown;
    declare retiredReason: unknown;
    declare initialized: unknown;
    declare initializing: unknown;
    declare availableAt: unknown;
    declare handOutSeq: unknown;
    declare ordinal: unknown;
    declare queuePos: unknown;
    declare expiryPos: unknown;
    declare expirySecs: unknown;
    declare lastUsedAt: unknown;
    declare userData: unknown;
    declare maxAgeSecs: unknown;
    declare sessionPool: unknown;
    declare log: unknown;
    declare identity: unknown;
    declare owner: unknown;
    declare errorDecrement: unknown;
    declare created: unknown;
    declare expires: unknown;
    declare jar: unknown;

    constructor() {
        this.id = undefined;
        this.poolKey = undefined;
        this.proxySlot = undefined;
        this.inUse = 0;
        this.heldElsewhere = 0;
        this.uses = 0;
        this.errors = 0;
        this.maxUses = 0;
        this.maxErrors = 0;
        this.retiredReason = undefined;
        this.initialized = false;
        this.initializing = false;
        this.availableAt = 0;
        this.handOutSeq = 0;
        this.ordinal = 0;
        this.queuePos = -1;
        this.expiryPos = -1;
        this.expirySecs = 0;
        this.lastUsedAt = undefined;
        this.userData = undefined;
        this.maxAgeSecs = 0;
        this.sessionPool = undefined;
        this.log = undefined;
        this.identity = undefined;
        this.owner = undefined;
        this.errorDecrement = undefined;
        this.created = undefined;
        this.expires = undefined;
        this.jar = undefined;
    }
}
