/**
 * The crawl report: a self-contained HTML page (drawn by `@sessionpack/report`) written to a Crawlee KeyValueStore at
 * the end of every crawl (`close()`), and on demand (`manager.crawlReport()`, `manager.writeCrawlReport()`).
 */
import { type Configuration, KeyValueStore, type Log } from '@crawlee/core';
import { DEFAULT_REPORT_DATA_KEY, DEFAULT_REPORT_KEY, renderReport, type ReportData } from '@sessionpack/report';
import ow from 'ow';

import type { Redactor } from './redact.js';
import { buildReportData, type ReportSources } from './report-data.js';
import { CrawlTimeline } from './timeline.js';

/** The `report` option of `SessionManager.open()`. */
export interface CrawlReportOptions {
    /**
     * Record key of the HTML report. Stored with content type `text/html`, so Crawlee's local storage writes it as
     * `<key>.html` (`storage/key_value_stores/default/SESSIONPACK_REPORT.html`). @default 'SESSIONPACK_REPORT'
     */
    key?: string;
    /** Record key of the report's data (JSON), which `npx sessionpack-report` draws again; `false` skips it. @default 'SESSIONPACK_REPORT_DATA' */
    dataKey?: string | false;
    /** KeyValueStore to write to. @default the default store (the one the Apify console shows for a run) */
    keyValueStoreName?: string;
    /** Write the report on `close()`. @default true */
    writeOnClose?: boolean;
    /**
     * Also write it on Crawlee's `persistState` event: periodically, and once when a crawler finishes (its teardown
     * emits one), so a crawl whose manager `withSessions()` opened and nobody closes still leaves its report. @default true
     */
    writeOnPersistState?: boolean;
    /** Title of the page. @default 'sessionpack crawl report' */
    title?: string;
}

/** Crawlee's allowed record keys. */
const KEY = /^[a-zA-Z0-9!\-_.'()]{1,256}$/;

/** ow shape of {@link CrawlReportOptions} (or `false`: no recording, no report). */
export const crawlReportOptionsShape = ow.optional.any(
    ow.boolean.false,
    ow.object.exactShape({
        key: ow.optional.string.matches(KEY),
        dataKey: ow.optional.any(ow.boolean.false, ow.string.matches(KEY)),
        keyValueStoreName: ow.optional.string.nonEmpty,
        writeOnClose: ow.optional.boolean,
        writeOnPersistState: ow.optional.boolean,
        title: ow.optional.string,
    }),
);

/** Where a report was written. */
export interface CrawlReportLocation {
    /** The store's name, `undefined` for the default store. */
    keyValueStoreName: string | undefined;
    key: string;
    /** The file on disk when Crawlee's local storage persists it (`CRAWLEE_STORAGE_DIR`, default `./storage`). */
    localPath?: string;
}

/** Crawlee's `EventType.PERSIST_STATE` (a const enum, so not importable under `verbatimModuleSyntax`). */
const PERSIST_STATE_EVENT = 'persistState' as never;

/**
 * The crawl report of one manager: owns the {@link CrawlTimeline} the manager feeds (none with `report: false`),
 * assembles the data from the manager's `sources`, draws it, and writes it on `close()` and persist-state events.
 */
export class CrawlReporter {
    /** What the manager records into as it runs; undefined with `report: false`. */
    readonly timeline: CrawlTimeline | undefined;
    private readonly options: CrawlReportOptions;
    private readonly enabled: boolean;
    private listener: (() => void) | undefined;

    constructor(
        options: CrawlReportOptions | false | undefined,
        private readonly config: Configuration,
        private readonly log: Log,
        private readonly redactor: Redactor,
        private readonly sources: () => Omit<ReportSources, 'timeline' | 'title'>,
    ) {
        this.enabled = options !== false;
        this.options = options || {};
        this.timeline = this.enabled ? new CrawlTimeline() : undefined;
    }

    /** The report's data now. */
    data(): ReportData {
        return buildReportData({ ...this.sources(), timeline: this.timeline, title: this.options.title });
    }

    /** The report as one self-contained HTML page. */
    html(): string {
        return renderReport(this.data());
    }

    /** Starts writing the report on every persist-state event (unless `report: false` or `writeOnPersistState: false`). */
    listen(): void {
        if (!this.enabled || this.options.writeOnPersistState === false || this.listener) return;
        this.listener = () => void this.write(true);
        this.config.getEventManager().on(PERSIST_STATE_EVENT, this.listener);
    }

    /** Stops listening and writes the report a last time (unless `writeOnClose: false`). */
    async close(): Promise<void> {
        if (this.listener) this.config.getEventManager().off(PERSIST_STATE_EVENT, this.listener);
        this.listener = undefined;
        if (this.options.writeOnClose !== false) await this.write();
    }

    /**
     * Writes the HTML (and the data, unless `dataKey: false`) to the store and logs where (`quiet`: at debug level). A
     * failed write is logged, not thrown. Returns where it went, or undefined (`report: false`, no pool yet, or failed).
     */
    async write(quiet = false): Promise<CrawlReportLocation | undefined> {
        if (!this.enabled) return undefined;
        const data = this.data();
        if (data.pools.length === 0) return undefined;
        try {
            const name = this.options.keyValueStoreName;
            const key = this.options.key ?? DEFAULT_REPORT_KEY;
            const store = await KeyValueStore.open(name ?? null, { config: this.config });
            await store.setValue(key, renderReport(data), { contentType: 'text/html; charset=utf-8' });
            const dataKey = this.options.dataKey === undefined ? DEFAULT_REPORT_DATA_KEY : this.options.dataKey;
            if (dataKey !== false) await store.setValue(dataKey, data);
            const where: CrawlReportLocation = { keyValueStoreName: name, key };
            if (this.config.get('persistStorage') !== false) {
                const fromConfig = (this.config.get('storageClientOptions') as { localDataDirectory?: string } | undefined)?.localDataDirectory;
                const dir = fromConfig ?? process.env.CRAWLEE_STORAGE_DIR ?? './storage';
                where.localPath = `${dir}/key_value_stores/${name ?? 'default'}/${key}.html`;
            }
            this.log[quiet ? 'debug' : 'info'](`Crawl report: record ${key} of key-value store ${name ?? 'default'}${where.localPath ? ` (${where.localPath})` : ''}`);
            return where;
        } catch (error) {
            this.log.warning(`Could not write the crawl report: ${this.redactor.error(error)}`);
            return undefined;
        }
    }
}
