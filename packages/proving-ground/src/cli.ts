#!/usr/bin/env node
import { CliUsageError, formatBanner, formatScenarios, formatTotals, parseCliArgs, redactProxyUrl, USAGE } from './cli-args.js';
import { startProvingGround } from './proving-ground.js';
import { ProvingGroundOptionsError } from './validate.js';

async function main(): Promise<void> {
    const command = parseCliArgs(process.argv.slice(2));
    if (command.kind === 'help') {
        console.log(USAGE);
        return;
    }
    if (command.kind === 'list-scenarios') {
        console.log(formatScenarios());
        return;
    }
    const pg = await startProvingGround(command.options);
    const scenario = command.options.scenario;
    const label = typeof scenario === 'string' ? `scenario ${scenario}` : scenario ? 'scenario from file' : 'custom options';
    if (command.json) {
        console.log(JSON.stringify({
            siteUrl: pg.siteUrl,
            directUrl: pg.directUrl,
            proxies: pg.proxies.map((p) => ({ url: redactProxyUrl(p.url, command.showCredentials), ip: p.ip, subnet: p.subnet, dead: p.dead, banned: p.banned })),
        }));
    } else {
        console.log(formatBanner(pg, label, command.showCredentials));
    }

    let lastRequests = 0;
    const timer = command.statsIntervalMs > 0
        ? setInterval(() => {
            const { totals } = pg.stats();
            if (totals.requests === lastRequests) return;
            lastRequests = totals.requests;
            console.log(`[${new Date().toISOString()}] ${formatTotals(totals)}`);
        }, command.statsIntervalMs)
        : undefined;

    let stopping = false;
    const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        if (timer) clearInterval(timer);
        console.log(`\n${signal}: closing. Totals: ${formatTotals(pg.stats().totals)}`);
        pg.close().then(() => process.exit(0), (error: unknown) => {
            console.error(error);
            process.exit(1);
        });
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
    if (error instanceof CliUsageError) {
        console.error(`${error.message}\n\n${USAGE}`);
        process.exit(2);
    }
    if (error instanceof ProvingGroundOptionsError) {
        console.error(error.message);
        process.exit(2);
    }
    console.error(error);
    process.exit(1);
});
