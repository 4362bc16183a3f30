// Why `pnpm bench core` (before its contestants had a process each) and core-ab.mjs disagreed on sessionpack vs
// Crawlee at 100k sessions: where GC work lands. One process, sessionpack's SessionManager and/or Crawlee's
// SessionPool filled, then timed rounds (CPU µs per pair, and the GCs seen in each round):
//   node --expose-gc bench/ab/core-gc-debt.mjs <sessions> <pools> <mode> <ops> <rounds>
// mode: both (both alive, rounds alternating, as core-ab), seq (sessionpack timed, then Crawlee with it still alive),
// seqc (Crawlee first), calone / oalone (one contestant alone). GC=1: a forced GC before each round; IDLE=<ms>: then
// idle that long (background GC threads finish off the clock); MAXUSES (default 50); SEEDMATH=1 (alone modes):
// Math.random seeded, as the bench does for Crawlee. DIST: a build of packages/core (default packages/core/dist).
import { createRequire } from 'node:module';
import { PerformanceObserver } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
const req = createRequire(import.meta.url);
const { Configuration, log, LogLevel, SessionPool } = await import(req.resolve('@crawlee/core'));
log.setLevel(LogLevel.OFF);
const { SessionManager } = await import(process.env.DIST ?? '../../packages/core/dist/index.js');
function mulberry32(a) { return () => { a |= 0; a = (a + 0x6d2b79f5) | 0; let t = Math.imul(a ^ (a >>> 15), 1 | a); t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t; return ((t ^ (t >>> 14)) >>> 0) / 4294967296; }; }
const [nS, nP, mode, opsS, roundsS] = process.argv.slice(2);
const sessions = +nS, pools = +nP, ops = +opsS, rounds = +roundsS;
const GC = process.env.GC === '1', IDLE = +(process.env.IDLE ?? 0), MAXUSES = +(process.env.MAXUSES ?? 50);
const PROXIES = Array.from({ length: 100 }, (_, i) => `http://127.0.0.1:${20000 + i}`);
const perPool = Math.max(1, Math.round(sessions / pools));
const reqs = Array.from({ length: pools }, (_, i) => ({ url: 'http://site.test/', userData: { sessionPool: `pool-${i}` } }));
let gcCount = 0, gcMs = 0;
new PerformanceObserver((l) => { for (const e of l.getEntries()) { gcCount++; gcMs += e.duration; } }).observe({ entryTypes: ['gc'] });
async function ours() {
  const random = mulberry32(7919 + sessions + pools);
  const m = await SessionManager.open({ proxyUrls: PROXIES, pool: { size: perPool, maxUses: MAXUSES }, store: false, statsIntervalSecs: 0, random, config: new Configuration({ persistStorage: false }) });
  for (const r of reqs) { const held = []; for (let i = 0; i < perPool; i++) held.push(await m.acquire(r)); for (const s of held) m.report(s, { type: 'ok' }); }
  return { name: 'ours', m, random, cpu: [], gcs: [] };
}
async function crawlee() {
  const config = new Configuration({ persistStorage: false });
  const cp = []; for (let i = 0; i < pools; i++) cp.push(await SessionPool.open({ maxPoolSize: perPool, persistStateKey: 'P' + i, persistenceOptions: { enable: false }, sessionOptions: { maxUsageCount: MAXUSES } }, config));
  for (const p of cp) { const held = []; for (let i = 0; i < perPool; i++) held.push(await p.getSession()); for (const s of held) s.markGood(); }
  return { name: 'crawlee', cp, random: mulberry32(7919 + sessions + pools), cpu: [], gcs: [] };
}
async function round(v, record) {
  if (GC) { global.gc(); if (IDLE) await sleep(IDLE); }
  const pick = () => (pools === 1 ? 0 : Math.min(pools - 1, Math.floor(v.random() * pools)));
  const g0 = gcCount, gm0 = gcMs;
  const c0 = process.cpuUsage();
  if (v.cp) for (let i = 0; i < ops; i++) (await v.cp[pick()].getSession()).markGood();
  else for (let i = 0; i < ops; i++) { const s = await v.m.acquire(reqs[pick()]); v.m.report(s, { type: 'ok' }); }
  const cu = process.cpuUsage(c0);
  await sleep(0); // let gc observer entries arrive
  if (record) { v.cpu.push((cu.user + cu.system) / ops); v.gcs.push(`${gcCount - g0}/${(gcMs - gm0).toFixed(0)}ms`); }
}
const med = (a) => { const b = [...a].sort((x, y) => x - y); return b[Math.floor(b.length / 2)]; };
const out = [];
if (mode === 'calone' || mode === 'oalone') {
  if (process.env.SEEDMATH === '1') { const r = mulberry32(12345); Math.random = r; }
  const v = mode === 'calone' ? await crawlee() : await ours(); for (let r = 0; r <= rounds; r++) await round(v, r > 0); out.push(v);
} else if (mode === 'seq' || mode === 'seqc') {
  const order = mode === 'seq' ? [ours, crawlee] : [crawlee, ours];
  for (const make of order) { const v = await make(); for (let r = 0; r <= rounds; r++) await round(v, r > 0); out.push(v); if (v.m) await v.m.close(); }
} else {
  const vs = [await ours(), await crawlee()];
  for (let r = 0; r <= rounds; r++) for (const v of r % 2 ? vs : [...vs].reverse()) await round(v, r > 0);
  out.push(...vs);
  await vs[0].m.close();
}
for (const v of out) console.log(`${mode} GC=${GC} IDLE=${IDLE} ${v.name.padEnd(8)} ${sessions}x${pools} med ${med(v.cpu).toFixed(2)} | ${v.cpu.map((x) => x.toFixed(2)).join(' ')} | gc ${v.gcs.join(' ')}`);
