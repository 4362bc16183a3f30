// Last-level cache misses (and instructions) per acquire + report under cachegrind's simulated caches: a count that
// the machine's load does not move, for comparing builds of core where paired timings scatter too much:
//   node bench/ab/core-cachegrind.mjs <sessions> <pools> <ops> <core dist dir>...
// For each dist it runs valgrind twice (the fill alone, then the fill and <ops> pairs) and prints the difference per
// pair. The simulated last-level cache is 1 MiB (--LL), so 10k sessions in 100 pools (100 per pool, as the bench's
// 100k in 1,000) are already cold the way 100k are on real hardware. Each run takes minutes (valgrind: ~50x slower);
// the fill's counts vary by ~1% between runs (JIT and GC timing), so use enough ops: at 200k, ±5 misses and ±1k
// instructions per pair (a few thousand ops give nonsense).
// JIT code has no symbols: this says how much, not where (use --cpu-prof for that). No prefetcher is simulated: a
// linear pass over an array counts every line, which real hardware mostly hides.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { filledManager } from './fill.mjs';
const [nS, nP, opsS, ...dists] = process.argv.slice(2);
if (process.env.CORE_CACHEGRIND_CHILD) {
  const req = createRequire(import.meta.url);
  const { Configuration, log, LogLevel } = await import(req.resolve('@crawlee/core'));
  log.setLevel(LogLevel.OFF);
  const sessions = Number(nS), pools = Number(nP), ops = Number(opsS);
  const { m, random, reqs } = await filledManager(dists[0], Configuration, sessions, pools);
  const pick = () => (pools === 1 ? 0 : Math.min(pools - 1, Math.floor(random() * pools)));
  for (let i = 0; i < ops; i++) { const s = await m.acquire(reqs[pick()]); m.report(s, { type: 'ok' }); }
  process.exit(0);
}
const self = fileURLToPath(import.meta.url);
function run(dist, ops) {
  const r = spawnSync('valgrind', ['--tool=cachegrind', '--cache-sim=yes', '--LL=1048576,16,64', '--cachegrind-out-file=/dev/null', process.execPath, '--single-threaded', '--max-semi-space-size=16', self, nS, nP, String(ops), dist], { env: { ...process.env, CORE_CACHEGRIND_CHILD: '1' }, encoding: 'utf8' });
  const num = (label) => Number((r.stderr.match(new RegExp(`${label}:\\s+([\\d,]+)`)) ?? [])[1]?.replaceAll(',', '') ?? NaN);
  return { instr: num('I   refs'), ll: num('LL misses') };
}
for (const dist of dists) {
  const base = run(dist, 0), full = run(dist, Number(opsS));
  const per = (k) => ((full[k] - base[k]) / Number(opsS)).toFixed(1);
  console.log(`${dist.split('/').slice(-2).join('/').padEnd(16)} ${nS}x${nP}: ${per('ll')} LL misses, ${per('instr')} instructions per pair (fill alone: ${(base.ll / 1e6).toFixed(1)}M LL misses)`);
}
