/** The Chart.js UMD build, read once from the installed `chart.js` package, to inline into reports. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

let source: string | undefined;

/** Source of `chart.js/dist/chart.umd.min.js` (the package exports no subpath, so it is found next to its main file). */
export function chartJsSource(): string {
    if (source === undefined) {
        const main = createRequire(import.meta.url).resolve('chart.js');
        source = readFileSync(join(dirname(main), 'chart.umd.min.js'), 'utf8');
    }
    return source;
}
