// What the core A/B scripts share: the seeded stream, the bench's layout (100 proxies, `sessions` spread over `pools`
// pools of one site) and a manager filled the way `bench core` fills it (every session created acquire by acquire).
export function mulberry32(a) { return () => { a |= 0; a = (a + 0x6d2b79f5) | 0; let t = Math.imul(a ^ (a >>> 15), 1 | a); t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t; return ((t ^ (t >>> 14)) >>> 0) / 4294967296; }; }
export const PROXIES = Array.from({ length: 100 }, (_, i) => `http://127.0.0.1:${20000 + i}`);
export function layout(sessions, pools) {
  const perPool = Math.max(1, Math.round(sessions / pools));
  const reqs = Array.from({ length: pools }, (_, i) => ({ url: 'http://site.test/', userData: { sessionPool: `pool-${i}` } }));
  return { perPool, reqs };
}
/** A SessionManager of `dist` (a core dist folder) with every pool full; `pool`: extra pool options. */
export async function filledManager(dist, Configuration, sessions, pools, pool = {}) {
  const { SessionManager } = await import(`${dist}/index.js`);
  const { perPool, reqs } = layout(sessions, pools);
  const random = mulberry32(7919 + sessions + pools);
  const m = await SessionManager.open({ proxyUrls: PROXIES, pool: { size: perPool, ...pool }, store: false, statsIntervalSecs: 0, random, config: new Configuration({ persistStorage: false }) });
  for (const r of reqs) { const held = []; for (let i = 0; i < perPool; i++) held.push(await m.acquire(r)); for (const s of held) m.report(s, { type: 'ok' }); }
  return { m, random, reqs };
}
