/** Result tables: what every part returns, printed as Markdown so a run can be pasted into BENCHMARKS.md. */

export type Cell = string | number;

export interface Table {
    /** One line above the table. */
    title: string;
    columns: string[];
    rows: Cell[][];
    /** Lines printed under the table (what a column means, caveats). */
    notes?: string[];
}

/** The result of one benchmark part. */
export interface PartResult {
    part: string;
    /** Seeds used (printed). */
    seeds: number[];
    /** Wall time of the part, in seconds. */
    seconds: number;
    tables: Table[];
    /** Findings the part computed (bars met or missed), printed after the tables. */
    verdicts: string[];
}

/** A number for a table: integers as is, others with `digits` decimals; NaN/Infinity as text. */
export function fmt(value: number, digits = 1): string {
    if (Number.isNaN(value)) return 'n/a';
    if (!Number.isFinite(value)) return value > 0 ? '∞' : '-∞';
    if (Number.isInteger(value) && digits <= 1) return String(value);
    return value.toFixed(digits);
}

/** `a ÷ b` as "2.50x"; "–" when both are 0, "∞" when only `b` is. */
export function times(a: number, b: number, digits = 2): string {
    if (b === 0) return a === 0 ? '–' : '∞';
    return `${fmt(a / b, digits)}x`;
}

/** Thousands with a thin grouping, e.g. 123456 → "123,456". */
export function int(value: number): string {
    if (!Number.isFinite(value)) return fmt(value);
    return Math.round(value).toLocaleString('en-US');
}

export function renderTable(table: Table): string {
    const cells = table.rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)));
    const widths = table.columns.map((c, i) => Math.max(c.length, ...cells.map((r) => (r[i] ?? '').length)));
    const numeric = table.columns.map((_, i) => table.rows.every((r) => typeof r[i] === 'number' || /^[\d.,x×∞n/a%+-]+$/.test(String(r[i] ?? ''))));
    const line = (values: string[]) =>
        `| ${values.map((v, i) => (numeric[i] && i > 0 ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join(' | ')} |`;
    const out = [`**${table.title}**`, '', line(table.columns), `|${widths.map((w, i) => (numeric[i] && i > 0 ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`];
    for (const r of cells) out.push(line(r));
    if (table.notes?.length) out.push('', ...table.notes.map((n) => `${n}`));
    return out.join('\n');
}

export function renderPart(result: PartResult): string {
    const out = [`### ${result.part}`, '', `Seeds: ${result.seeds.join(', ')}. Wall time: ${result.seconds.toFixed(1)} s.`, ''];
    for (const t of result.tables) out.push(renderTable(t), '');
    if (result.verdicts.length) out.push(...result.verdicts.map((v) => `- ${v}`), '');
    return out.join('\n');
}
