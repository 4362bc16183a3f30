/**
 * Draws a {@link ReportData} as one self-contained HTML page: tables are plain HTML (readable without JavaScript),
 * charts are drawn by Chart.js, whose UMD build is inlined so the file works offline.
 */
import { chartJsSource } from './chartjs.js';
import { REPORT_OUTCOMES, type ReportData, type ReportPool, type ReportProxyHealth } from './types.js';

/** Pools drawn in full (most used first); the data keeps them all. */
const MAX_POOLS = 40;
/** Proxy rows per pool table (most used first). */
const MAX_PROXY_ROWS = 200;

/** Colors of the outcomes, in the stacking order of {@link REPORT_OUTCOMES}. */
const OUTCOME_COLORS: Record<string, string> = {
    ok: '#2e9d5b',
    blocked: '#d64545',
    'check-failed': '#a83279',
    'rate-limited': '#e0a030',
    'proxy-failure': '#6b5bd6',
    'target-error': '#8a8a8a',
    'handler-error': '#3a86c8',
};

const escapeHtml = (s: string): string =>
    s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** JSON that is safe inside a `<script>` element. */
const scriptJson = (value: unknown): string => JSON.stringify(value).replace(/</g, '\\u003c');

const cell = (v: unknown, attrs = ''): string => `<td${attrs}>${escapeHtml(v === undefined ? '' : String(v))}</td>`;
const pct = (part: number, whole: number): string => (whole > 0 ? `${((100 * part) / whole).toFixed(1)} %` : '–');
const secs = (ms: number): string => (ms >= 10_000 ? `${(ms / 1000).toFixed(0)} s` : `${(ms / 1000).toFixed(1)} s`);
const slug = (s: string): string => s.replace(/[^a-zA-Z0-9]+/g, '-');

function table(head: string[], rows: string[], attrs = ''): string {
    const th = head.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
    const body = rows.length ? rows.join('') : `<tr><td colspan="${head.length}" class="none">none</td></tr>`;
    return `<table${attrs}><thead><tr>${th}</tr></thead><tbody>${body}</tbody></table>`;
}

/** Background of a success-rate cell: red at 0 %, green at 100 %. */
function heat(rate: number | undefined): string {
    if (rate === undefined) return '';
    return ` style="background:hsl(${Math.round(rate * 120)},65%,82%)"`;
}

function usesTable(pool: ReportPool): string {
    const c = pool.counters;
    const rows = REPORT_OUTCOMES.map((o) => `<tr>${cell(o)}${cell(c[`use/${o}`] ?? 0, ` data-counter="use/${o}"`)}</tr>`);
    const others = ['init/passed', 'init/failed', 'session/created', 'session/retired', 'proxy/backoff', 'pool/paused'];
    for (const name of others) rows.push(`<tr>${cell(name)}${cell(c[name] ?? 0, ` data-counter="${name}"`)}</tr>`);
    return table(['counter', 'count'], rows, ' class="counters"');
}

function poolFacts(pool: ReportPool): string {
    const c = pool.counters;
    const live = ['new', 'initializing', 'ready', 'cooling'].reduce((n, k) => n + (pool.sessions[k] ?? 0), 0);
    const initTotal = (c['init/passed'] ?? 0) + (c['init/failed'] ?? 0);
    const facts: [string, string | number, string][] = [
        ['pool size (ceiling)', pool.size, 'size'],
        ['live sessions', live, 'live'],
        ['in use', pool.sessions.inUse ?? 0, 'inUse'],
        ['init passed / failed', `${c['init/passed'] ?? 0} / ${c['init/failed'] ?? 0} (${pct(c['init/passed'] ?? 0, initTotal)} passed)`, 'init'],
    ];
    for (const [name, value] of Object.entries(pool.extra ?? {})) facts.push([name, value, `extra-${slug(name)}`]);
    return `<dl class="facts">${facts.map(([k, v, id]) => `<dt>${escapeHtml(k)}</dt><dd data-fact="${escapeHtml(id)}">${escapeHtml(String(v))}</dd>`).join('')}</dl>`;
}

function healthTable(pool: ReportPool, addresses: Map<string, string | undefined>, now: number): string {
    const extraNames = [...new Set(pool.proxies.flatMap((p) => Object.keys(p.extra ?? {})))].sort();
    const head = ['proxy', 'host:port', 'state', 'success rate', 'ok', 'blocked (uses + inits)', 'proxy failures', 'rate-limited', 'target errors', 'backoffs', 'paced for', ...extraNames];
    const sorted = [...pool.proxies].sort((a, b) => b.successes + b.blocked - (a.successes + a.blocked) || a.proxyId.localeCompare(b.proxyId));
    const hidden = sorted.length - MAX_PROXY_ROWS;
    const rows = sorted.slice(0, MAX_PROXY_ROWS).map((p: ReportProxyHealth) => {
        const judged = p.successes + p.blocked + p.proxyFailures;
        const rate = judged > 0 ? p.successes / judged : undefined;
        const paced = p.pacedUntil !== undefined && p.pacedUntil > now ? secs(p.pacedUntil - now) : '';
        return (
            `<tr data-proxy="${escapeHtml(p.proxyId)}">${cell(p.proxyId)}${cell(addresses.get(p.proxyId) ?? '')}` +
            `${cell(p.state, ` class="state-${p.state}"`)}${cell(rate === undefined ? '–' : pct(p.successes, judged), heat(rate))}` +
            `${cell(p.successes, ' data-field="successes"')}${cell(p.blocked, ' data-field="blocked"')}${cell(p.proxyFailures, ' data-field="proxyFailures"')}` +
            `${cell(p.rateLimited, ' data-field="rateLimited"')}${cell(p.targetErrors, ' data-field="targetErrors"')}${cell(p.backoffs, ' data-field="backoffs"')}` +
            `${cell(paced)}${extraNames.map((n) => cell(p.extra?.[n] ?? '')).join('')}</tr>`
        );
    });
    return table(head, rows, ' class="health"') + (hidden > 0 ? `<p class="none">${hidden} less used proxies not shown.</p>` : '');
}

function endingsTable(pool: ReportPool): string {
    const rows = [...pool.endings]
        .sort((a, b) => b.count - a.count)
        .map(
            (e) =>
                `<tr>${cell(e.reason)}${cell(e.count, ' data-field="count"')}${cell(e.meanUses?.toFixed(1) ?? '–')}${cell(e.maxUses ?? '–')}` +
                `${cell(e.meanAgeMillis === undefined ? '–' : secs(e.meanAgeMillis))}${cell(e.maxAgeMillis === undefined ? '–' : secs(e.maxAgeMillis))}</tr>`,
        );
    return table(['why it ended', 'sessions', 'mean uses', 'max uses', 'mean age', 'max age'], rows, ' class="endings"');
}

function reasonsTable(pool: ReportPool): string {
    const rows = [...pool.reasons]
        .sort((a, b) => b.count - a.count)
        .slice(0, 15)
        .map((r) => `<tr>${cell(r.outcome)}${cell(r.reason)}${cell(r.count, ' data-field="count"')}<td class="url">${escapeHtml(r.exampleUrl ?? '')}</td></tr>`);
    return table(['outcome', 'reason', 'uses', 'example URL'], rows, ' class="reasons"');
}

function poolSection(pool: ReportPool, addresses: Map<string, string | undefined>, now: number, index: number): string {
    const chart = pool.series
        ? `<div class="chart"><canvas id="outcomes-${index}" data-series="${index}" role="img" aria-label="uses per outcome over time"></canvas></div>`
        : '<p class="none">No time series for this pool (drawn from stored state).</p>';
    const endingsChart = pool.endings.length ? `<div class="chart small"><canvas id="endings-${index}" data-endings="${index}" role="img" aria-label="why sessions ended"></canvas></div>` : '';
    return `<section class="pool" data-pool="${escapeHtml(pool.key)}">
<h2>Pool <code>${escapeHtml(pool.key)}</code></h2>
<div class="row">${poolFacts(pool)}${usesTable(pool)}</div>
<h3>Outcomes over time</h3>${chart}
<h3>Proxy health on this pool</h3>${healthTable(pool, addresses, now)}
<h3>Session lifetimes and why they ended</h3><div class="row">${endingsTable(pool)}${endingsChart}</div>
<h3>Top block and failure reasons</h3>${reasonsTable(pool)}
</section>`;
}

/** The page's own script: draws the charts from the embedded data. */
const PAGE_SCRIPT = `
(function () {
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var colors = JSON.parse(document.getElementById('report-colors').textContent);
  var outcomes = ${scriptJson(REPORT_OUTCOMES)};
  document.querySelectorAll('canvas[data-series]').forEach(function (canvas) {
    var pool = data.pools[Number(canvas.dataset.series)];
    var s = pool.series;
    var n = 0;
    outcomes.forEach(function (o) { n = Math.max(n, (s.counts[o] || []).length); });
    var labels = [];
    for (var i = 0; i < n; i++) labels.push(((i * s.bucketMillis) / 1000).toFixed(s.bucketMillis < 1000 ? 1 : 0) + ' s');
    var datasets = outcomes.filter(function (o) { return (s.counts[o] || []).some(function (v) { return v > 0; }); })
      .map(function (o) { return { label: o, data: s.counts[o], backgroundColor: colors[o] }; });
    new Chart(canvas, { type: 'bar', data: { labels: labels, datasets: datasets }, options: {
      animation: false, maintainAspectRatio: false,
      scales: { x: { stacked: true, title: { display: true, text: 'time since the first use' } }, y: { stacked: true, title: { display: true, text: 'uses' } } } } });
  });
  document.querySelectorAll('canvas[data-endings]').forEach(function (canvas) {
    var pool = data.pools[Number(canvas.dataset.endings)];
    var e = pool.endings.slice().sort(function (a, b) { return b.count - a.count; });
    new Chart(canvas, { type: 'bar', data: { labels: e.map(function (x) { return x.reason; }),
      datasets: [{ label: 'sessions', data: e.map(function (x) { return x.count; }), backgroundColor: '#5b7bd6' }] },
      options: { animation: false, maintainAspectRatio: false, indexAxis: 'y', plugins: { legend: { display: false } } } });
  });
})();`;

const STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;background:#fafafa}
h1{margin:0 0 4px}h2{margin:32px 0 8px;border-top:2px solid #ddd;padding-top:16px}h3{margin:20px 0 6px;font-size:15px}
table{border-collapse:collapse;background:#fff;margin:4px 16px 4px 0}th,td{border:1px solid #ddd;padding:3px 8px;text-align:right}
th{background:#f0f0f0}td:first-child,th:first-child,td.url,table.reasons td{text-align:left}td.url{font-family:monospace;font-size:12px;word-break:break-all}
.row{display:flex;flex-wrap:wrap;align-items:flex-start}.facts{display:grid;grid-template-columns:auto auto;gap:2px 12px;margin:4px 24px 4px 0}
dt{color:#666}dd{margin:0;font-weight:600}.chart{position:relative;height:260px;max-width:1100px;background:#fff}.chart.small{height:200px;width:420px}
.none{color:#888;font-style:italic}.state-banned{color:#b00;font-weight:600}.state-backoff{color:#b60}.state-probing{color:#36c}.notes{color:#555}`;

/** Options of {@link renderReport}. */
export interface RenderOptions {
    /** Time the "paced for" column is measured from (epoch millis). @default Date.parse(data.generatedAt) */
    now?: number;
}

/** The report as one HTML document (UTF-8), Chart.js included. */
export function renderReport(data: ReportData, options: RenderOptions = {}): string {
    const now = options.now ?? (Date.parse(data.generatedAt) || Date.now());
    const addresses = new Map(data.proxies.map((p) => [p.id, p.address]));
    const title = data.title ?? 'sessionpack crawl report';
    const s = data.proxySummary;
    const summary = s
        ? `<p class="summary">Proxies: <b data-summary="configured">${escapeHtml(String(s.configured))}</b> configured, <b data-summary="tracked">${s.tracked}</b> tracked, ` +
          `<b data-summary="backoff">${s.backoff}</b> in backoff, <b data-summary="bannedOnSites">${s.bannedOnSites}</b> banned on a pool.</p>`
        : '';
    const notes = (data.notes ?? []).map((n) => `<p class="notes">${escapeHtml(n)}</p>`).join('');
    const uses = (p: ReportPool) => REPORT_OUTCOMES.reduce((n, o) => n + (p.counters[`use/${o}`] ?? 0), 0);
    const shown = data.pools
        .map((p, i) => ({ p, i }))
        .sort((a, b) => uses(b.p) - uses(a.p))
        .slice(0, MAX_POOLS);
    const more = data.pools.length - shown.length;
    const pools = data.pools.length
        ? shown.map(({ p, i }) => poolSection(p, addresses, now, i)).join('\n') + (more > 0 ? `<p class="none">${more} less used pools not shown (they are in the report data).</p>` : '')
        : '<p class="none">No pool was used.</p>';
    return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body>
<h1>${escapeHtml(title)}</h1>
<p>Generated ${escapeHtml(data.generatedAt)}, ${data.pools.length} pool${data.pools.length === 1 ? '' : 's'}.</p>
${summary}${notes}
${pools}
<script type="application/json" id="report-data">${scriptJson(data)}</script>
<script type="application/json" id="report-colors">${scriptJson(OUTCOME_COLORS)}</script>
<script>${chartJsSource().replace(/<\/script/gi, '<\\/script')}</script>
<script>${PAGE_SCRIPT}</script>
</body></html>
`;
}
