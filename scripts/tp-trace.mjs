// Diagnostic: the throughput bench's loop (src/eval/bench-throughput.ts runOne) for one
// configuration, with the cost model's plan, efficiency and whole-batch estimates sampled every
// 200 ms (TRACE_MS=n to change). Needs a quiet machine to mean anything.
// Usage: node scripts/tp-trace.mjs POLICY THREADS GBIT [SECONDS]   (after `make build`)
const [policy, threadsS, gbitS, secS] = process.argv.slice(2);
if (!policy || !(Number(threadsS) > 0) || !(Number(gbitS) > 0)) {
  console.error("usage: node scripts/tp-trace.mjs POLICY THREADS GBIT [SECONDS]");
  process.exit(2);
}
const dist = new URL("../dist", import.meta.url).href;
const { loadCorpus, builtinSources } = await import(`${dist}/src/eval/corpus.js`);
const { SimLink, LINK_BUFFER } = await import(`${dist}/src/eval/bench-throughput.js`);
const { EncodePool } = await import(`${dist}/src/wire/codec-pool.js`);
const { LinkMeter } = await import(`${dist}/src/codec/meters.js`);
const { copyBatch } = await import(`${dist}/src/wire/batch.js`);
const { evaluatePlan } = await import(`${dist}/src/codec/plan.js`);
// PLANS=4.4.4,5.5.0 prints the model's prediction (MB/s, bound) for those plans at every sample.
const plans = (process.env.PLANS ?? '').split(',').filter(Boolean).map((p) => p.split('.').map(Number));
const sources = builtinSources();
const corpus = await loadCorpus(sources, Math.ceil(8192 / sources.length));
const PAGE = 4096, BP = 256, G = 8;
const batches = [];
for (let p = 0; p < corpus.pageCount; p += BP) {
  const n = Math.min(BP, corpus.pageCount - p);
  const glue = new Uint8Array(n * G);
  batches.push({ pageCount: n, pages: corpus.pages.subarray(p * PAGE, (p + n) * PAGE), addrs: Float64Array.from({ length: n }, (_, i) => (p + i) * PAGE), glue, glueLength: glue.length, glueBefore: new Uint32Array(n).fill(G) });
}
const threads = Number(threadsS), gbit = Number(gbitS), runMs = Number(secS ?? 2.5) * 1000;
const link = new SimLink(gbit * 1e9 / 8);
const pool = new EncodePool({ policy, threads, maxInFlight: threads + 2, ...(process.env.ALLOWED ? { allowed: process.env.ALLOWED.split(",") } : {}) });
await Promise.all(Array.from({ length: threads }, () => pool.submit(batches[0], { transfer: false })));
const ring = batches.map(copyBatch);
const meter = new LinkMeter();
const sampleLink = () => { if (meter.sample(performance.now(), link.acked(), link.queued()) && pool.model) pool.model.setLink(meter.bytesPerSecond, meter.measured); };
const timer = setInterval(sampleLink, 10);
const t0 = performance.now(), tEnd = t0 + runMs;
let ram = 0, lastRam = 0, lastT = t0;
const trace = setInterval(() => {
  const now = performance.now();
  const s = pool.modelSnapshot();
  const rate = (ram - lastRam) / ((now - lastT) / 1000) / 1e6;
  lastRam = ram; lastT = now;
  const ev = pool.model ? plans.map((p) => { const r = evaluatePlan(pool.model.estimates(), p, pool.model.link, pool.model.effectiveCpus); return `${p.join('.')}=${(r.bytesPerSecond / 1e6).toFixed(0)}${r.bound[0]}`; }).join(' ') : '';
  const u = s ? Object.entries(s.measured).filter(([k]) => k.startsWith('all/')).map(([k, v]) => `${k}:${v.ratio}@${v.MBps}`).join(' ') : '';
  console.log(`${(now - t0).toFixed(0).padStart(5)} ms ${rate.toFixed(0).padStart(5)} MB/s` + (s ? ` ${Object.values(s.choice).join('/')} eff ${s.cpuEfficiency} pred ${s.predictedMBps} ${s.bound} probes ${s.probes}/${s.batches} ${u} ${ev}` : ''));
}, Number(process.env.TRACE_MS ?? 200));
let i = 0;
const pending = [];
while (performance.now() < tEnd) {
  while (pool.full || link.queued() > LINK_BUFFER) {
    if (pool.full) await pool.whenAvailable(); else await link.waitBelow(LINK_BUFFER);
    sampleLink();
  }
  const slot = i++ % ring.length;
  const b = ring[slot];
  const r = b.pageCount * PAGE + b.glueLength;
  pending.push(pool.submitReturning(b, { transfer: true }).then(({ frame, batch }) => { ring[slot] = batch; link.write(frame.byteLength); ram += r; }));
  if (pending.length > 64) pending.splice(0, 32);
  sampleLink();
}
await Promise.all(pending); await pool.drained();
clearInterval(timer); clearInterval(trace);
console.log(`total ${(ram / (runMs / 1000) / 1e6).toFixed(0)} MB/s sent (not link-delivered); pages ${JSON.stringify(pool.pagesByCodec())}`);
if (pool.model) console.log(JSON.stringify(pool.modelSnapshot()));
await pool.close();
