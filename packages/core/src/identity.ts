/**
 * Identities: what a site sees of a session. A session's proxy is chosen by the pool's policy; its user agent and
 * header set come from Apify's `header-generator` and stay the same for the session's life.
 *
 * Generating one header set costs ~0.15 ms, too slow to do for every one of 100k sessions, so the factory keeps a
 * small cache of `variants` generated sets (filled lazily) and gives each new session one of them at random.
 */
import { HeaderGenerator, type HeaderGeneratorOptions } from 'header-generator';

import type { Identity, ProxyRef } from './types.js';

/** Options of {@link IdentityFactory}. */
export interface IdentityFactoryOptions {
    /** Passed to `header-generator` (browsers, operatingSystems, devices, locales). @default desktop Chrome/Firefox/Safari/Edge */
    headerGeneratorOptions?: Partial<HeaderGeneratorOptions>;
    /** How many distinct header sets to generate and rotate among. @default 64 */
    variants?: number;
    /** Random source (seedable in tests). @default Math.random */
    random?: () => number;
}

export const DEFAULT_HEADER_GENERATOR_OPTIONS: Partial<HeaderGeneratorOptions> = {
    browsers: ['chrome', 'firefox', 'safari', 'edge'],
    devices: ['desktop'],
    operatingSystems: ['windows', 'macos', 'linux'],
    locales: ['en-US'],
};

/**
 * Generated header sets per header-generator options, shared by every factory in the process: building a
 * HeaderGenerator costs ~20 ms and each set ~0.15 ms, and the sets are frozen, so managers can share them.
 */
const sharedCaches = new Map<string, { generator?: HeaderGenerator; sets: Readonly<Record<string, string>>[] }>();

/** Makes identities; one per manager. */
export class IdentityFactory {
    private readonly shared: { generator?: HeaderGenerator; sets: Readonly<Record<string, string>>[] };
    private readonly variants: number;
    private readonly random: () => number;
    readonly headerGeneratorOptions: Partial<HeaderGeneratorOptions>;

    constructor(options: IdentityFactoryOptions = {}) {
        this.headerGeneratorOptions = options.headerGeneratorOptions ?? DEFAULT_HEADER_GENERATOR_OPTIONS;
        this.variants = Math.max(1, options.variants ?? 64);
        this.random = options.random ?? Math.random;
        const key = JSON.stringify(this.headerGeneratorOptions);
        let shared = sharedCaches.get(key);
        if (!shared) {
            shared = { sets: [] };
            sharedCaches.set(key, shared);
        }
        this.shared = shared;
    }

    /** The factory a manager's options ask for; rejects bad `headerGeneratorOptions` at once, naming the option. */
    static forOptions(
        options: { headerGeneratorOptions?: Partial<HeaderGeneratorOptions>; identityVariants?: number },
        random: () => number,
    ): IdentityFactory {
        const factory = new IdentityFactory({ headerGeneratorOptions: options.headerGeneratorOptions, variants: options.identityVariants, random });
        if (options.headerGeneratorOptions) {
            try {
                factory.validate();
            } catch (error) {
                throw new TypeError(`SessionManager options: \`headerGeneratorOptions\` was rejected by header-generator: ${(error as Error).message}`, { cause: error });
            }
        }
        return factory;
    }

    /**
     * Builds the header generator and one header set now: throws if header-generator rejects the options, or if no
     * header set fits them (e.g. a browser version that does not exist). The set is kept for the first sessions.
     */
    validate(): void {
        this.shared.generator ??= new HeaderGenerator(this.headerGeneratorOptions);
        if (this.shared.sets.length === 0) this.shared.sets.push(Object.freeze(lowerCaseKeys(this.shared.generator.getHeaders())));
    }

    /** A header set for a new session: a cached one, or a freshly generated one while the cache is not full. */
    headers(): Readonly<Record<string, string>> {
        const index = Math.floor(this.random() * this.variants);
        const sets = this.shared.sets;
        if (index < sets.length) return sets[index]!;
        this.shared.generator ??= new HeaderGenerator(this.headerGeneratorOptions);
        const generated = Object.freeze(lowerCaseKeys(this.shared.generator.getHeaders()));
        sets.push(generated);
        return generated;
    }

    /** A new identity bound to `proxy` (undefined = direct). */
    create(proxy: ProxyRef | undefined): Identity {
        const headers = this.headers();
        return this.restore(proxy, headers);
    }

    /** An identity with known headers (restored from the store). */
    restore(proxy: ProxyRef | undefined, headers: Readonly<Record<string, string>>): Identity {
        return {
            proxy,
            userAgent: headers['user-agent'] ?? '',
            headers: headers as Record<string, string>,
            headerGeneratorOptions: this.headerGeneratorOptions as Record<string, unknown>,
        };
    }
}

function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = v;
    return out;
}
