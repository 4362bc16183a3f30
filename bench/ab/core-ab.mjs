// Same-process A/B of core's per-op cost (CPU time per acquire + report), against Crawlee's SessionPool too:
//   node --expose-gc --max-old-space-size=6000 bench/ab/core-ab.mjs <sessions> <pools> <ops> <rounds> <core dist dir>... [crawlee]
// Each dist dir is a build of packages/core (e.g. one of main, one of a branch: copy packages/core/dist of each to
// packages/core/base-<name>/dist, inside the package so that its dependencies resolve). Every variant is filled
// first, then timed rounds alternate between them (paired: the machine's load drifts alike for all); the median of
// the CPU times per op is the figure to quote on a loaded machine (wall time is printed too). Run it with --expose-gc:
// each round then starts after a forced GC and an idle wait for its background work, so that no round pays for GC work left by the fills or by
// another variant's round. All variants share one heap: fine for comparing builds of core with each other, but a
// major GC marks every variant's sessions on the clock of whoever is timed, so for sessionpack against Crawlee quote
// `pnpm bench core` (a process per contestant). With two variants it prints their paired ratio too (round by round: the
// first given over the second; median and range). The variant filled first has an edge (at 100k sessions in one pool,
// 2.61 vs 3.29 and 2.88 vs 3.62 µs for the same two builds in either order): run a comparison in both orders.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
const [nS, nP, opsS, roundsS, ...dists] = process.argv.slice(2);
const req = createRequire(import.meta.url);
const { Configuration, log, LogLevel, SessionPool } = await import(req.resolve('@crawlee/core'));
log.setLevel(LogLevel.OFF);
function mulberry32(a) { return () => { a |= 0; a = (a + 0x6d2b79f5) | 0; let t = Math.imul(a ^ (a >>> 15), 1 | a); t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t; return ((t ^ (t >>> 14)) >>> 0) / 4294967296; }; }
const sessions = Number(nS), pools = Number(nP), ops = Number(opsS), rounds = Number(roundsS);
const PROXIES = Array.from({ length: 100 }, (_, i) => `http://127.0.0.1:${20000 + i}`);
const perPool = Math.max(1, Math.round(sessions / pools));
const reqs = Array.from({ length: pools }, (_, i) => ({ url: 'http://site.test/', userData: { sessionPool: `pool-${i}` } }));
const variants = [];
for (const dist of dists.filter((d) => d !== 'crawlee')) {
  const { SessionManager } = await import(`${dist}/index.js`);
  const random = mulberry32(7919 + sessions + pools);
  const m = await SessionManager.open({ proxyUrls: PROXIES, pool: { size: perPool }, store: false, statsIntervalSecs: 0, random, config: new Configuration({ persistStorage: false }) });
  const t = performance.now();
  for (const r of reqs) { const held = []; for (let i = 0; i < perPool; i++) held.push(await m.acquire(r)); for (const s of held) m.report(s, { type: 'ok' }); }
  variants.push({ name: dist.split('/').slice(-2).join('/'), m, random, fill: (performance.now() - t) / 1000, hash: createHash('sha1'), cpu: [], wall: [] });
}
if (dists.includes('crawlee')) {
  const config = new Configuration({ persistStorage: false });
  const cp = []; for (let i = 0; i < pools; i++) cp.push(await SessionPool.open({ maxPoolSize: perPool, persistStateKey: 'P' + i, persistenceOptions: { enable: false } }, config));
  const t = performance.now();
  for (const p of cp) { const held = []; for (let i = 0; i < perPool; i++) held.push(await p.getSession()); for (const s of held) s.markGood(); }
  variants.push({ name: 'crawlee', cp, random: mulberry32(7919 + sessions + pools), fill: (performance.now() - t) / 1000, hash: createHash('sha1'), cpu: [], wall: [] });
}
for (let r = 0; r <= rounds; r++) {
  for (const v of (r % 2 ? variants : [...variants].reverse())) {
    if (globalThis.gc) await settle();
    const pick = () => (pools === 1 ? 0 : Math.min(pools - 1, Math.floor(v.random() * pools)));
    const c0 = process.cpuUsage(); const t = performance.now();
    if (v.cp) for (let i = 0; i < ops; i++) (await v.cp[pick()].getSession()).markGood();
    else for (let i = 0; i < ops; i++) { const s = await v.m.acquire(reqs[pick()]); if (r === 0) v.hash.update(s.id); v.m.report(s, { type: 'ok' }); }
    const cu = process.cpuUsage(c0);
    if (r > 0) { v.cpu.push((cu.user + cu.system) / ops); v.wall.push((performance.now() - t) * 1000 / ops); }
  }
}
// A forced GC, then idle until the process spends (almost) no CPU while idle (background sweeping done), at most 2 s.
async function settle() { globalThis.gc(); for (let i = 0; i < 80; i++) { const c = process.cpuUsage(); await new Promise((r) => setTimeout(r, 25)); const u = process.cpuUsage(c); if (u.user + u.system < 1000) return; } }
const med = (a) => { const b = [...a].sort((x, y) => x - y); return b[Math.floor(b.length / 2)]; };
for (const v of variants) console.log(`${v.name.padEnd(10)} ${sessions}x${pools} fill ${v.fill.toFixed(2)}s trace ${v.hash.digest('hex').slice(0, 12)} cpu med ${med(v.cpu).toFixed(2)} min ${Math.min(...v.cpu).toFixed(2)} | wall med ${med(v.wall).toFixed(2)} µs/op`);
if (variants.length === 2) { const r = variants[0].cpu.map((c, i) => c / variants[1].cpu[i]).sort((x, y) => x - y); console.log(`paired ${variants[0].name} / ${variants[1].name}: med ${med(r).toFixed(3)} range ${r[0].toFixed(3)}-${r[r.length - 1].toFixed(3)} (${r.map((x) => x.toFixed(2)).join(" ")})`); }
for (const v of variants) if (v.m) await v.m.close();
