export { renderReport, type RenderOptions } from './render.js';
export { reportDataFromState } from './from-state.js';
export { readReportData, DEFAULT_REPORT_KEY, DEFAULT_REPORT_DATA_KEY, type FoundReportData } from './read-storage.js';
export { endingCategory } from './endings.js';
export {
    REPORT_OUTCOMES,
    type ReportOutcome,
    type ReportSeries,
    type ReportReason,
    type ReportEnding,
    type ReportProxyHealth,
    type ReportPool,
    type ReportProxy,
    type ReportData,
} from './types.js';
