// Decision trace of core under a ManualClock and seeded streams, for checking that a change keeps every choice:
//   node bench/ab/core-trace.mjs <core dist dir>...
// 17 scenarios (policies x 1 or 7 pools x concurrency 1 or 3, mixed outcomes, cool-downs, expiry, exploration):
// one hash per scenario over every session handed out (id and proxy), every acquire error, the final snapshot
// (header sets excluded: header-generator draws from Math.random), the crawl report's tallies and the stats.
// Equal hashes for two builds: the same decisions and the same state.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
const req = createRequire(import.meta.url);
const { Configuration, log, LogLevel } = await import(req.resolve('@crawlee/core'));
log.setLevel(LogLevel.OFF);
function mulberry32(a) { return () => { a |= 0; a = (a + 0x6d2b79f5) | 0; let t = Math.imul(a ^ (a >>> 15), 1 | a); t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t; return ((t ^ (t >>> 14)) >>> 0) / 4294967296; }; }
const quiet = { child: () => quiet, info() {}, warning() {}, debug() {}, error() {}, exception() {}, perf() {}, warningOnce() {}, deprecated() {}, softFail() {}, internal() {}, getLevel: () => 0, setLevel() {}, getOptions: () => ({}), setOptions() {} };
const PROXIES = Array.from({ length: 40 }, (_, i) => `http://127.0.0.1:${20000 + i}`);
const OUT = [['ok', 93], ['blocked', 2], ['rate-limited', 2], ['target-error', 1], ['proxy-failure', 0.3], ['handler-error', 1.7]];
const scenarios = [];
for (const policy of ['scored', 'round-robin', 'use-until-failure', 'random']) for (const pools of [1, 7]) for (const conc of [1, 3]) scenarios.push({ policy, pools, conc, exploration: 0 });
scenarios.push({ policy: 'scored', pools: 3, conc: 2, exploration: 0.2 });
for (const dist of process.argv.slice(2)) {
  const { SessionManager, ManualClock } = await import(`${dist}/index.js`);
  const line = [];
  for (const sc of scenarios) {
    const clock = new ManualClock(1_700_000_000_000);
    const random = mulberry32(99 + sc.pools * 13 + sc.conc);
    const drive = mulberry32(5 + sc.pools);
    const m = await SessionManager.open({ proxyUrls: PROXIES, policy: sc.policy, pool: { size: 30, maxUses: 40, maxConcurrentUses: sc.conc, acquireTimeoutSecs: 0, minDelayBetweenUsesMillis: 50, maxAgeSecs: 150, explorationRate: sc.exploration }, store: false, statsIntervalSecs: 0, random, clock, log: quiet, config: new Configuration({ persistStorage: false }) });
    const reqs = Array.from({ length: sc.pools }, (_, i) => ({ url: `http://site${i}.test/` }));
    const h = createHash('sha1'); const held = [];
    let acquired = 0, errors = 0;
    for (let i = 0; i < 6000; i++) {
      const x = drive();
      if (x < 0.5 || held.length === 0) {
        try { const s = await m.acquire(reqs[Math.floor(drive() * sc.pools)]); held.push(s); h.update(`${s.id}@${s.identity.proxy?.id};`); acquired++; }
        catch (e) { h.update(`E${e.name};`); errors++; if (errors === 1 && process.env.SHOWERR) console.log(sc, e.message); }
        if (held.length > 20) { const s = held.shift(); m.report(s, { type: 'ok' }); }
      } else if (x < 0.9) {
        const s = held.splice(Math.floor(drive() * held.length), 1)[0];
        let r = drive() * 100, type = 'ok';
        for (const [t, w] of OUT) { if (r < w) { type = t; break; } r -= w; }
        m.report(s, { type, retryAfterMillis: type === 'rate-limited' ? Math.floor(drive() * 3000) : undefined });
      } else await clock.advance(Math.floor(drive() * 3000));
    }
    h.update(JSON.stringify(m.snapshot(), (k, v) => (k === "headers" || k === "headerSets" || k === "fingerprint" ? undefined : v))); h.update(JSON.stringify([...m.health.outcomeTallies()].map(([p, t]) => [p, [...t]]))); h.update(JSON.stringify(m.stats().pools ?? m.stats()));
    line.push(`${sc.policy}/${sc.pools}/${sc.conc}/${sc.exploration}:${h.digest('hex').slice(0, 8)}(${acquired},${errors})`);
    await m.close();
  }
  console.log(dist.split('/').slice(-2).join('/'), '\n  ' + line.join('\n  '));
}
