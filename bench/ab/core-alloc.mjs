// Bytes allocated per acquire + report by allocating function (V8's sampling heap profiler, collected objects included):
//   node --max-old-space-size=6000 bench/ab/core-alloc.mjs <sessions> <pools> <ops> <core dist dir>
// Fills like core-ab.mjs, runs <ops> pairs unsampled (warm-up), then <ops> sampled. Inlined callees count under their caller;
// --no-turbo-inlining splits them (and adds the boxing of every number a call returns).
import { createRequire } from 'node:module';
import { Session } from 'node:inspector/promises';
import fs from 'node:fs';
import { filledManager } from './fill.mjs';
const [nS, nP, opsS, dist] = process.argv.slice(2);
const req = createRequire(import.meta.url);
const { Configuration, log, LogLevel } = await import(req.resolve('@crawlee/core'));
log.setLevel(LogLevel.OFF);
const sessions = Number(nS), pools = Number(nP), ops = Number(opsS);
const { m, random, reqs } = await filledManager(dist, Configuration, sessions, pools);
const pick = () => (pools === 1 ? 0 : Math.min(pools - 1, Math.floor(random() * pools)));
for (let i = 0; i < ops; i++) { const s = await m.acquire(reqs[pick()]); m.report(s, { type: 'ok' }); }
const ses = new Session(); ses.connect();
await ses.post('HeapProfiler.enable');
await ses.post('HeapProfiler.startSampling', { samplingInterval: 256, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
for (let i = 0; i < ops; i++) { const s = await m.acquire(reqs[pick()]); m.report(s, { type: 'ok' }); }
const { profile } = await ses.post('HeapProfiler.stopSampling');
const self = new Map(); let total = 0;
const walk = (n, stack) => { const k = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').pop()}:${n.callFrame.lineNumber + 1}`; const s = n.selfSize; total += s; if (s) self.set(k, (self.get(k) ?? 0) + s); for (const c of n.children) walk(c, k); };
walk(profile.head);
console.log('bytes/op', (total / ops).toFixed(0));
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log((v / ops).toFixed(1).padStart(7), k);
await m.close();
