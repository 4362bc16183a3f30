import ow, { ArgumentError } from 'ow';
import type { ProvingGroundOptions } from './options.js';

const blockResponse = ow.string.oneOf(['forbidden', 'soft-block', 'challenge', 'captcha'] as const);
const nonNegativeInt = ow.number.integer.greaterThanOrEqual(0);
const positiveInt = ow.number.integer.positive;
const ipv4 = ow.string.matches(/^\d{1,3}(\.\d{1,3}){3}$/);

const rateLimit = ow.optional.object.exactShape({
    requests: positiveInt,
    windowMs: positiveInt,
    penaltyMs: ow.optional.number.integer.positive,
});

const optionsShape = ow.object.exactShape({
    scenario: ow.optional.any(ow.string.nonEmpty, ow.object.hasKeys('options')),
    seed: ow.optional.number.integer,
    exposeDirect: ow.optional.boolean,
    maxLogEntries: ow.optional.number.integer.positive,
    clock: ow.optional.object.is((c) => typeof (c as { now?: unknown }).now === 'function' || 'an object with a `now()` method (epoch milliseconds)'),
    proxies: ow.optional.object.exactShape({
        count: ow.optional.number.integer.inRange(1, 5000),
        subnetSize: ow.optional.number.integer.inRange(1, 244),
        auth: ow.optional.object.exactShape({ username: ow.string.nonEmpty, password: ow.string }),
        dead: ow.optional.object.exactShape({
            refuse: ow.optional.number.integer.greaterThanOrEqual(0),
            tunnelError: ow.optional.number.integer.greaterThanOrEqual(0),
            status: ow.optional.number.integer.inRange(400, 999),
        }),
        basePort: ow.optional.number.integer.inRange(0, 65535),
    }),
    gateway: ow.optional.object.exactShape({
        exits: ow.optional.number.integer.inRange(1, 2440),
        subnetSize: ow.optional.number.integer.inRange(1, 244),
        bannedFraction: ow.optional.number.inRange(0, 1),
        password: ow.optional.string,
        port: ow.optional.number.integer.inRange(0, 65535),
    }),
    site: ow.optional.object.exactShape({
        host: ow.optional.string.matches(/^[a-z0-9-]+(\.[a-z0-9-]+)*\.test$/i),
        port: ow.optional.number.integer.inRange(0, 65535),
        categories: ow.optional.number.integer.inRange(1, 10_000),
        productsPerCategory: ow.optional.number.integer.inRange(1, 10_000),
        locations: ow.optional.array.nonEmpty.ofType(ow.string.matches(/^[A-Z]{2}$/)),
        latencyMs: ow.optional.number.integer.greaterThanOrEqual(0),
        bans: ow.optional.object.exactShape({
            fraction: ow.optional.number.inRange(0, 1),
            subnets: ow.optional.any(nonNegativeInt, ow.array.ofType(ow.string.matches(/^\d{1,3}\.\d{1,3}\.\d{1,3}$/))),
            ips: ow.optional.array.ofType(ipv4),
            response: ow.optional.any(blockResponse, ow.array.nonEmpty.ofType(blockResponse)),
        }),
        rateLimits: ow.optional.object.exactShape({ perIp: rateLimit, perSession: rateLimit }),
        usageCap: ow.optional.number.integer.positive,
        challenges: ow.optional.object.exactShape({
            userAgents: ow.optional.array.ofType(ow.any(ow.string, ow.regExp)),
            fraction: ow.optional.number.inRange(0, 1),
            ips: ow.optional.array.ofType(ipv4),
            response: ow.optional.string.oneOf(['challenge', 'captcha'] as const),
        }),
        challengeStyle: ow.optional.string.oneOf(['cloudflare', 'datadome', 'perimeterx', 'imperva'] as const),
        sessionRequired: ow.optional.boolean,
        csrf: ow.optional.boolean,
        identity: ow.optional.object.exactShape({ block: ow.optional.boolean, response: ow.optional.any(blockResponse) }),
        drift: ow.optional.object.exactShape({
            banAfterRequests: ow.optional.number.integer.positive,
            banAfterMs: ow.optional.number.integer.positive,
            recoverAfterMs: ow.optional.number.integer.positive,
            jitter: ow.optional.number.inRange(0, 1),
        }),
    }),
});

/** Thrown for invalid options; the message names the option and what was expected. */
export class ProvingGroundOptionsError extends Error {
    override name = 'ProvingGroundOptionsError';
}

/**
 * Validates options (shape with `ow`, then the rules that span several options). Throws a
 * {@link ProvingGroundOptionsError} naming the option.
 */
export function validateOptions(options: unknown): asserts options is ProvingGroundOptions {
    try {
        ow(options, 'options', optionsShape);
    } catch (error) {
        if (error instanceof ArgumentError) {
            throw new ProvingGroundOptionsError(`Invalid proving-ground options: ${error.message}`);
        }
        throw error;
    }
    const o = options as ProvingGroundOptions;
    const count = o.proxies?.count ?? 10;
    const subnetSize = o.proxies?.subnetSize ?? 10;
    const dead = (o.proxies?.dead?.refuse ?? 0) + (o.proxies?.dead?.tunnelError ?? 0);
    if (dead > count) {
        fail(`options.proxies.dead asks for ${dead} dead proxies but options.proxies.count is ${count}`);
    }
    const subnetCount = Math.ceil(count / subnetSize);
    if (subnetCount > 254) {
        fail(`options.proxies.count / options.proxies.subnetSize needs ${subnetCount} subnets; at most 254 fit in 127.0.1-254.x`);
    }
    const basePort = o.proxies?.basePort ?? 0;
    if (basePort > 0 && basePort + count - 1 > 65535) {
        fail(`options.proxies.basePort ${basePort} + options.proxies.count ${count} runs past port 65535`);
    }
    if (o.gateway && Math.ceil((o.gateway.exits ?? 20) / (o.gateway.subnetSize ?? 10)) > 254) {
        fail('options.gateway.exits / options.gateway.subnetSize needs more than 254 subnets of 127.1.1-254.x');
    }
    const bannedSubnets = o.site?.bans?.subnets;
    if (typeof bannedSubnets === 'number' && bannedSubnets > subnetCount) {
        fail(`options.site.bans.subnets is ${bannedSubnets} but the farm has only ${subnetCount} subnets`);
    }
    for (const pattern of o.site?.challenges?.userAgents ?? []) {
        if (typeof pattern === 'string') {
            try {
                new RegExp(pattern);
            } catch {
                fail(`options.site.challenges.userAgents has an invalid regular expression: ${JSON.stringify(pattern)}`);
            }
        }
    }
}

function fail(message: string): never {
    throw new ProvingGroundOptionsError(`Invalid proving-ground options: ${message}`);
}
