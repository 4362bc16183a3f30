/**
 * A browser fingerprint per session, consistent with the session's identity: the fingerprint is generated for the
 * identity's own user agent and languages (Apify's fingerprint-generator), and its headers are the identity's
 * headers, so what the page's scripts see (`navigator.userAgent`, `userAgentData`, screen...) matches what the site
 * receives in the session's requests.
 */
import {
    type BrowserFingerprintWithHeaders,
    FingerprintGenerator,
    type FingerprintGeneratorOptions,
} from 'fingerprint-generator';
import { windowInScreen } from './viewport.js';

/** What a fingerprint is made for (a subset of core's `Identity`). */
export interface FingerprintIdentity {
    userAgent: string;
    headers: Record<string, string>;
    headerGeneratorOptions?: Record<string, unknown>;
    /** The fingerprint the session was given before (kept with it in the store), if any. */
    readonly fingerprint?: Readonly<Record<string, unknown>>;
}

/** What {@link SessionFingerprints.for} needs of a session (core's `ManagedSession` has both). */
export interface FingerprintedSession {
    readonly identity: FingerprintIdentity;
    /** Keeps the fingerprint with the session (persisted, given back as `identity.fingerprint` after a restore). */
    setFingerprint?(fingerprint: never): void;
}

const STRINGIFIED_PREFIX = '*STRINGIFIED*';
const MISSING_VALUE = '*MISSING_VALUE*';

/** What fingerprint-generator keeps internally (public at run time, not in its types). */
interface GeneratorInternals {
    fingerprintGeneratorNetwork: {
        generateConsistentSampleWhenPossible(constraints: Record<string, string[]>): Record<string, any>;
        nodesByName: Record<string, { possibleValues: string[] } | undefined>;
    };
    transformFingerprint(raw: Record<string, any>): BrowserFingerprintWithHeaders['fingerprint'];
}

/** Options of {@link SessionFingerprints}. */
export interface SessionFingerprintsOptions {
    /** Extra fingerprint-generator options (screen size limits, `mockWebRTC`, `slim`). @default none */
    fingerprintGeneratorOptions?: Partial<FingerprintGeneratorOptions>;
}

/**
 * Hands out one fingerprint per session: the one kept with the session (`identity.fingerprint`, also after a restore
 * from the store), else one generated on first use and given to the session with `setFingerprint()`, so it is
 * persisted with it. Only the fingerprint itself is kept (its headers are the identity's own, rebuilt on use).
 */
export class SessionFingerprints {
    private readonly generator: FingerprintGenerator;
    private readonly cache = new WeakMap<object, BrowserFingerprintWithHeaders>();
    /** The network's screens within `fingerprintGeneratorOptions.screen` (computed once), if it limits them. */
    private screens?: string[];

    constructor(private readonly options: SessionFingerprintsOptions = {}) {
        this.generator = new FingerprintGenerator();
    }

    /** The fingerprint of `session`: kept, or generated once and kept. */
    for(session: FingerprintedSession): BrowserFingerprintWithHeaders {
        let fingerprint = this.cache.get(session);
        if (fingerprint) return fingerprint;
        const kept = session.identity.fingerprint;
        if (kept && typeof kept === 'object' && 'navigator' in kept && 'screen' in kept) {
            // Kept before windows were fitted to their screens: fitted now (the page's window must fit its screen).
            fingerprint = { fingerprint: windowInScreen(kept as unknown as BrowserFingerprintWithHeaders['fingerprint']), headers: identityHeaders(session.identity) };
        } else {
            fingerprint = this.generate(session.identity);
            // A JSON copy: what the store keeps is what a restored session gets back.
            session.setFingerprint?.(JSON.parse(JSON.stringify(fingerprint.fingerprint)) as never);
        }
        this.cache.set(session, fingerprint);
        return fingerprint;
    }

    /** `{ screen }` constraints when `fingerprintGeneratorOptions.screen` limits screens, else none. */
    private screenConstraint(internals: GeneratorInternals): { screen?: string[] } {
        const limits = this.options.fingerprintGeneratorOptions?.screen;
        if (!limits || Object.keys(limits).length === 0) return {};
        this.screens ??= screensWithin(internals.fingerprintGeneratorNetwork, limits);
        return { screen: this.screens };
    }

    /**
     * A new fingerprint for `identity` (not cached): fingerprint-generator's network sampled under the condition of the
     * identity's user agent (what its `getFingerprint()` does for the user agent of headers it generated itself) and
     * within `fingerprintGeneratorOptions.screen`, with the identity's languages; when the network cannot match them,
     * any fingerprint within those options, made to report the user agent.
     */
    generate(identity: FingerprintIdentity): BrowserFingerprintWithHeaders {
        const headers = identityHeaders(identity);
        const internals = this.generator as unknown as GeneratorInternals;
        let fingerprint: BrowserFingerprintWithHeaders['fingerprint'] | undefined;
        for (let attempt = 0; attempt < 10 && !fingerprint; attempt++) {
            const raw = internals.fingerprintGeneratorNetwork.generateConsistentSampleWhenPossible({
                userAgent: [identity.userAgent],
                ...this.screenConstraint(internals),
            });
            for (const [key, value] of Object.entries(raw)) {
                if (value === MISSING_VALUE) raw[key] = null;
                else if (typeof value === 'string' && value.startsWith(STRINGIFIED_PREFIX)) raw[key] = JSON.parse(value.slice(STRINGIFIED_PREFIX.length));
            }
            // fingerprint-generator's own workaround: some samples come out mostly empty.
            if (!raw.screen) continue;
            raw.languages = headers['accept-language']!.split(',').map((l) => l.split(';')[0]!.trim()).filter(Boolean);
            fingerprint = {
                ...internals.transformFingerprint(raw),
                mockWebRTC: this.options.fingerprintGeneratorOptions?.mockWebRTC ?? false,
                slim: this.options.fingerprintGeneratorOptions?.slim ?? false,
            };
        }
        if (!fingerprint) {
            const { browsers, operatingSystems, devices } = (identity.headerGeneratorOptions ?? {}) as Partial<FingerprintGeneratorOptions>;
            fingerprint = this.generator.getFingerprint({
                ...(browsers ? { browsers } : {}),
                ...(operatingSystems ? { operatingSystems } : {}),
                ...(devices ? { devices } : {}),
                ...this.options.fingerprintGeneratorOptions,
            } as Partial<FingerprintGeneratorOptions>).fingerprint;
        }
        if (fingerprint.navigator.userAgent !== identity.userAgent) {
            // Whatever the network could match, the page must report the session's user agent.
            fingerprint.navigator.userAgent = identity.userAgent;
            fingerprint.navigator.appVersion = identity.userAgent.replace(/^Mozilla\//, '');
            // Client hints of another browser would contradict the user agent: better none.
            (fingerprint.navigator as { userAgentData: unknown }).userAgentData = null;
        }
        return { fingerprint: windowInScreen(fingerprint), headers };
    }
}

/** The screens `fingerprintGeneratorOptions.screen` allows, as the network's values (what its own `getFingerprint()` filters). */
function screensWithin(network: GeneratorInternals['fingerprintGeneratorNetwork'], limits: NonNullable<FingerprintGeneratorOptions['screen']>): string[] {
    return (network.nodesByName.screen?.possibleValues ?? []).filter((value) => {
        const screen = JSON.parse(value.slice(value.indexOf(STRINGIFIED_PREFIX) + STRINGIFIED_PREFIX.length)) as { width: number; height: number };
        return (
            screen.width >= (limits.minWidth ?? 0) &&
            screen.width <= (limits.maxWidth ?? Infinity) &&
            screen.height >= (limits.minHeight ?? 0) &&
            screen.height <= (limits.maxHeight ?? Infinity)
        );
    });
}

/** The identity's headers with the two fingerprint-generator needs (`user-agent`, `accept-language`) always present. */
function identityHeaders(identity: FingerprintIdentity): Record<string, string> {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(identity.headers)) headers[name.toLowerCase()] = value;
    headers['user-agent'] = identity.userAgent;
    headers['accept-language'] ??= 'en-US,en;q=0.9';
    return headers;
}

/**
 * The headers a browser context should send on every request: the identity's browser-wide headers, without the
 * ones that depend on each request (accept, sec-fetch-*, ...) or that Chromium manages itself.
 */
export function browserWideHeaders(headers: Record<string, string>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers)) {
        if (!REQUEST_DEPENDENT_HEADERS.has(name.toLowerCase())) out[name.toLowerCase()] = value;
    }
    return out;
}

const REQUEST_DEPENDENT_HEADERS = new Set([
    'accept',
    'accept-encoding',
    'cache-control',
    'connection',
    'content-length',
    'content-type',
    'cookie',
    'host',
    'pragma',
    'priority',
    'referer',
    'sec-fetch-dest',
    'sec-fetch-mode',
    'sec-fetch-site',
    'sec-fetch-user',
    'te',
    'upgrade-insecure-requests',
]);

/** CDP's `userAgentMetadata` from the fingerprint's `navigator.userAgentData` (Chromium user agents only). */
export function userAgentMetadata(fp: BrowserFingerprintWithHeaders): Record<string, unknown> | undefined {
    const data = fp.fingerprint.navigator.userAgentData as Partial<BrowserFingerprintWithHeaders['fingerprint']['navigator']['userAgentData']> | null | undefined;
    if (!data?.brands?.length) return undefined;
    return {
        brands: data.brands,
        fullVersionList: data.fullVersionList ?? data.brands,
        fullVersion: data.uaFullVersion ?? '',
        platform: data.platform ?? '',
        platformVersion: data.platformVersion ?? '',
        architecture: data.architecture ?? '',
        model: data.model ?? '',
        mobile: Boolean(data.mobile),
        bitness: data.bitness ?? '',
    };
}

