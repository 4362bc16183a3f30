import { Configuration, log, LogLevel, SessionPool } from '@crawlee/core';
import { SessionManager } from '@sessionpack/core';
log.setLevel(LogLevel.OFF);
const PROXIES = Array.from({ length: 100 }, (_, i) => `http://127.0.0.1:${20000 + i}`);
const n = Number(process.argv[2]), pools = Number(process.argv[3]);
const m = await SessionManager.open({ proxyUrls: PROXIES, pool: { size: n / pools }, store: false, statsIntervalSecs: 0, config: new Configuration({ persistStorage: false }) });
const reqs = Array.from({ length: pools }, (_, i) => ({ url: 'http://site.test/', userData: { sessionPool: `pool-${i}` } }));
let t = performance.now();
for (const r of reqs) { const held = []; for (let i = 0; i < n / pools; i++) held.push(await m.acquire(r)); for (const s of held) m.report(s, { type: 'ok' }); }
const fill = (performance.now() - t) / 1000;
const config = new Configuration({ persistStorage: false });
const cp = []; for (let i = 0; i < pools; i++) cp.push(await SessionPool.open({ maxPoolSize: n / pools, persistStateKey: 'P' + i, persistenceOptions: { enable: false } }, config));
t = performance.now();
for (const p of cp) { const held = []; for (let i = 0; i < n / pools; i++) held.push(await p.getSession()); for (const s of held) s.markGood(); }
const cfill = (performance.now() - t) / 1000;
for (let round = 0; round < 3; round++) {
  const ops = 20000;
  t = performance.now(); for (let i = 0; i < ops; i++) { const s = await m.acquire(reqs[i % pools]); m.report(s, { type: 'ok' }); } const ours = (performance.now() - t) * 1000 / ops;
  t = performance.now(); for (let i = 0; i < ops; i++) { (await cp[i % pools].getSession()).markGood(); } const theirs = (performance.now() - t) * 1000 / ops;
  console.log(n, pools, 'fill', fill.toFixed(2), cfill.toFixed(2), 'ours', ours.toFixed(2), 'crawlee', theirs.toFixed(2));
}
