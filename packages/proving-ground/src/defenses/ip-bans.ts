import type { BlockResponse, IpBanOptions } from '../options.js';
import { derive, shuffled, unit } from '../prng.js';

/** A farm address as the ban picker needs it. */
export interface AddressInfo {
    ip: string;
    /** First three octets, e.g. `'127.0.1'`. */
    subnet: string;
}

/**
 * The IPs banned from the start: the banned subnets (a count picked by seed, or the ones named),
 * then further IPs picked by seed until `fraction` of the farm is banned, then `ips`.
 */
export function pickInitialBans(addresses: readonly AddressInfo[], bans: IpBanOptions | undefined, seed: number): Set<string> {
    const banned = new Set<string>();
    if (!bans) return banned;
    const subnets = [...new Set(addresses.map((a) => a.subnet))];
    const bannedSubnets = typeof bans.subnets === 'number'
        ? shuffled(subnets, derive(seed, 'ban-subnets')).slice(0, bans.subnets)
        : (bans.subnets ?? []);
    for (const address of addresses) {
        if (bannedSubnets.includes(address.subnet)) banned.add(address.ip);
    }
    const target = Math.round((bans.fraction ?? 0) * addresses.length);
    const rest = shuffled(addresses.filter((a) => !banned.has(a.ip)), derive(seed, 'ban-ips'));
    for (const address of rest) {
        if (banned.size >= target) break;
        banned.add(address.ip);
    }
    for (const ip of bans.ips ?? []) banned.add(ip);
    return banned;
}

/**
 * What each banned IP gets. With a single response, everyone gets it. With a list, the IPs banned
 * from the start are dealt the entries in turn (in a seeded order, so every entry is used once
 * there are enough of them); IPs banned later (drift) get an entry picked by seed and IP. An IP
 * keeps its entry.
 */
export class BanResponses {
    private readonly dealt = new Map<string, BlockResponse>();

    constructor(private readonly bans: IpBanOptions | undefined, initialBans: ReadonlySet<string>, private readonly seed: number) {
        const response = bans?.response;
        if (Array.isArray(response)) {
            shuffled([...initialBans].sort(), derive(seed, 'ban-responses')).forEach((ip, i) => {
                this.dealt.set(ip, response[i % response.length]!);
            });
        }
    }

    for(ip: string): BlockResponse {
        const response = this.bans?.response ?? 'forbidden';
        if (!Array.isArray(response)) return response;
        return this.dealt.get(ip) ?? response[Math.floor(unit(this.seed, 'ban-response', ip) * response.length)]!;
    }
}
