/**
 * Finding a crawl's report data in a Crawlee storage directory (`./storage` by default): the report data record a
 * crawl saved (`SESSIONPACK_REPORT_DATA.json` in any key-value store), else the sessionpack state and stats records.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { reportDataFromState } from './from-state.js';
import type { ReportData } from './types.js';

/** Default record keys, as `@sessionpack/core` writes them. */
export const DEFAULT_REPORT_KEY = 'SESSIONPACK_REPORT';
export const DEFAULT_REPORT_DATA_KEY = 'SESSIONPACK_REPORT_DATA';
const STATE_KEY = 'SESSIONPACK_STATE';
const STATS_KEY = 'SESSIONPACK_STATS';

/** Where {@link readReportData} found its data. */
export interface FoundReportData {
    data: ReportData;
    /** The key-value store directory it came from. */
    storeDir: string;
    from: 'report-data' | 'state';
}

function newest(paths: string[]): string | undefined {
    return paths.filter((p) => existsSync(p)).sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
}

const readJson = (path: string): unknown => JSON.parse(readFileSync(path, 'utf8'));

/**
 * Reads report data from `storageDir` (the newest one if several stores hold some).
 *
 * @throws Error naming the directory when it holds neither report data nor a sessionpack state.
 */
export function readReportData(storageDir: string, dataKey = DEFAULT_REPORT_DATA_KEY): FoundReportData {
    const kvDir = join(storageDir, 'key_value_stores');
    const stores = existsSync(kvDir) ? readdirSync(kvDir).map((d) => join(kvDir, d)).filter((d) => statSync(d).isDirectory()) : [];
    const data = newest(stores.map((d) => join(d, `${dataKey}.json`)));
    if (data) {
        const parsed = readJson(data) as ReportData;
        if (parsed?.format !== 'sessionpack-report') throw new Error(`${data} is not sessionpack report data`);
        return { data: parsed, storeDir: join(data, '..'), from: 'report-data' };
    }
    const state = newest(stores.map((d) => join(d, `${STATE_KEY}.json`)));
    if (state) {
        const dir = join(state, '..');
        const statsPath = newest(stores.map((d) => join(d, `${STATS_KEY}.json`)));
        return { data: reportDataFromState(readJson(state), statsPath ? readJson(statsPath) : undefined), storeDir: dir, from: 'state' };
    }
    throw new Error(
        `No sessionpack report data or state under ${kvDir} (looked for ${dataKey}.json and ${STATE_KEY}.json in every key-value store).`,
    );
}
