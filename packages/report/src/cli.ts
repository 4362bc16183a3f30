#!/usr/bin/env node
/**
 * `npx sessionpack-report [storage dir] [--out file.html] [--open]`: draws the report of a finished crawl from what it
 * stored (report data, else the session state) and writes it as one HTML file (default:
 * `<storage dir>/sessionpack-report.html`); `--open` opens it in the default browser. The storage directory defaults to
 * `$CRAWLEE_STORAGE_DIR`, else `./storage`.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

import { readReportData } from './read-storage.js';
import { renderReport } from './render.js';

const USAGE = 'usage: sessionpack-report [storage dir] [--out file.html] [--open]';

function main(argv: string[]): number {
    let dir: string | undefined;
    let out: string | undefined;
    let open = false;
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i]!;
        if (a === '--open') open = true;
        else if (a === '--out') out = argv[++i];
        else if (a === '--help' || a === '-h') {
            console.log(USAGE);
            return 0;
        } else if (a.startsWith('-') || dir !== undefined) {
            console.error(`sessionpack-report: unexpected argument ${a}\n${USAGE}`);
            return 2;
        } else dir = a;
    }
    const storageDir = resolve(dir ?? process.env.CRAWLEE_STORAGE_DIR ?? 'storage');
    let found;
    try {
        found = readReportData(storageDir);
    } catch (error) {
        console.error(`sessionpack-report: ${(error as Error).message}`);
        return 1;
    }
    const file = resolve(out ?? resolve(storageDir, 'sessionpack-report.html'));
    writeFileSync(file, renderReport(found.data));
    console.log(`sessionpack report (${found.data.pools.length} pools, from ${found.from === 'state' ? 'the stored state' : 'the report data'} in ${found.storeDir}): ${file}`);
    if (open) {
        const opener = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
        spawn(opener, [file], { detached: true, stdio: 'ignore' }).on('error', (e) => console.error(`sessionpack-report: could not open it (${e.message})`)).unref();
    }
    return 0;
}

process.exitCode = main(process.argv.slice(2));
