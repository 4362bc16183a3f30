/**
 * The public contract of @sessionpack/core that every adapter relies on.
 * Implementations live in one file per concept (see DESIGN.md); this file only holds types.
 */

/**
 * What the manager needs of a request: its URL and, optionally, `userData.sessionPool` to name its pool.
 * A Crawlee `Request` fits; so does a plain `{ url }` object.
 */
export interface RequestLike {
    url: string;
    userData?: Record<string, unknown>;
}

/** The verdict on one use of a session. See DESIGN.md's outcome table for what each one does. */
export type OutcomeType =
    | 'ok'
    | 'blocked'
    | 'rate-limited'
    | 'proxy-failure'
    | 'target-error'
    | 'handler-error'
    | 'check-failed';

export interface Outcome {
    type: OutcomeType;
    /** Human-readable reason, e.g. `403 status code`, `Cloudflare challenge`, `ECONNREFUSED to proxy`. Never contains proxy credentials. */
    reason?: string;
    /** For `rate-limited`: how long the session should cool down, from Retry-After (or the pool default). */
    retryAfterMillis?: number;
    /** The response status code, when there was a response. */
    statusCode?: number;
}

/** What a crawler saw of one response (or of the error that replaced it). Input of the classifier and of `check`. */
export interface ResponseSnapshot {
    /** The URL that was loaded (after redirects), if known. */
    url?: string;
    statusCode?: number;
    /** Response headers, lower-cased names. */
    headers?: Record<string, string | string[] | undefined>;
    /** The body as text (HTML, JSON...), or the rendered page's HTML in browsers. May be truncated by the adapter. */
    body?: string;
    /** The error thrown instead of a response (network, proxy, timeout). */
    error?: unknown;
}

/** A proxy as the manager knows it. `url` holds credentials and is never serialized, logged or put in stats. */
export interface ProxyRef {
    /** Stable id derived from the URL (hash of protocol+host+port+username), safe to print and persist. `direct` for no proxy. */
    id: string;
    /** Full URL, possibly with credentials. Only ever handed to the HTTP client / browser. Never serialized or logged. */
    url: string;
    /** The URL with the password replaced by `***`; what logs and errors show. */
    redactedUrl: string;
    /** `host:port` of the proxy (no user name, no password): what log lines print next to the id. */
    hostPort: string;
    /** With a dynamic ProxyConfiguration: the session id the URL was asked for (a later session may reuse the URL). */
    sessionId?: string;
}

/** What a site sees of a session. */
export interface Identity {
    /** The session's proxy, sticky for the session's life; undefined for direct connections. */
    proxy?: ProxyRef;
    /** The `user-agent` header, equal to `headers['user-agent']`. */
    userAgent: string;
    /** The full header set from `header-generator` (lower-cased names), consistent for the session's life. */
    headers: Record<string, string>;
    /** Options that were given to header-generator (browser, os, device, locale), so browser adapters can generate a matching fingerprint. */
    headerGeneratorOptions?: Record<string, unknown>;
    /**
     * The browser fingerprint of the session (set once by a browser adapter with `session.setFingerprint()`), kept with
     * the session in the store and given back after a restore. Plain JSON. Undefined until a browser adapter sets it.
     */
    readonly fingerprint?: Readonly<JsonObject>;
}

/** A JSON value (what the store can keep). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue };

export type SessionStateName = 'new' | 'initializing' | 'ready' | 'cooling' | 'retired';

/** Tools the adapter hands to `init` so it can warm a session up with that session's proxy, headers and cookies. */
export interface SendRequestOptions {
    url: string;
    method?: string;
    headers?: Record<string, string>;
    /** Form body (application/x-www-form-urlencoded). */
    form?: Record<string, string>;
    /** JSON body. */
    json?: unknown;
    body?: string;
    /** Follow redirects (default true). */
    followRedirect?: boolean;
    /** Timeout of the whole request in milliseconds (default 30 000). */
    timeoutMillis?: number;
}

export interface SendRequestResponse {
    url: string;
    statusCode: number;
    headers: Record<string, string | string[] | undefined>;
    body: string;
}

export type SendRequest = (options: SendRequestOptions | string) => Promise<SendRequestResponse>;
