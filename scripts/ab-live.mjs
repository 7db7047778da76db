// Interleaved A/B of transports on the evaluation's shaped link (src/eval), one JSON line per run.
// Usage (root): node scripts/ab-live.mjs WORKLOAD LINK RUNS VARIANT...
//   WORKLOAD: idle, memwrite, memwrite-slow, compile, random, hog; LINK: 100mbit, 1gbit, 10gbit
//   VARIANT: plain (QEMU direct), mecom (adaptive + cost model), mecom-trials (mecom send --trials),
//            mecom-unix (QEMU -> mecom send over a unix-domain socket),
//            VARIANT:N runs the agents at nice N (default 10; mecom:0 = QEMU's priority),
//            or a fixed codec policy (zero, wkdm, lz4, zstd, lz4-group, zstd-group).
// Set MECOM_MODEL_TRACE=FILE to trace the cost model of every mecom run into FILE.
import { liveRun } from '../dist/src/eval/live-run.js';
import { EvalNetns } from '../dist/src/eval/netns.js';
import { findLink } from '../dist/src/eval/links.js';
import { findWorkload } from '../dist/src/eval/workloads.js';

const [workloadName, linkName, runs, ...variants] = process.argv.slice(2);
const link = findLink(linkName ?? '');
const workload = findWorkload(workloadName ?? '');
if (!link || !workload || !(Number(runs) > 0) || variants.length === 0) {
  console.error('usage: node scripts/ab-live.mjs WORKLOAD LINK RUNS VARIANT...');
  process.exit(2);
}
const transportOf = (variant) => {
  const [v, nice] = variant.split(':');
  const t = transportOfName(v);
  return nice !== undefined && t.kind === 'mecom' ? { ...t, nice: Number(nice) } : t;
};
const transportOfName = (v) => (v === 'plain' ? { kind: 'direct' }
  : v === 'mecom' || v === 'mecom-trials' ? { kind: 'mecom', policy: 'adaptive', trials: v === 'mecom-trials' }
  : v === 'mecom-unix' ? { kind: 'mecom', policy: 'adaptive', sourceHop: 'unix' }
  : { kind: 'mecom', policy: v });
const ns = link.rate !== undefined ? EvalNetns.create() : undefined;
ns?.shape(link.rate);
try {
  for (let r = 1; r <= Number(runs); r++) {
    for (const v of variants) {
      const before = ns?.counters();
      try {
        const res = await liveRun({ workload: workload.guest, workloadArgs: workload.args, memMiB: 512, transport: transportOf(v), warmupMs: 4000, timeoutMs: 60_000, destNetns: ns?.ns, destHost: ns?.nsIp });
        const wire = ns && before ? EvalNetns.crossed(before, ns.counters()) : res.wireBytes;
        console.log(JSON.stringify({ variant: v, run: r, totalMs: res.totalMs, downtimeMs: res.downtimeMs, rounds: res.rounds, wireMB: +(wire / 1e6).toFixed(1), ok: res.verified && res.guest.checkerOk, choice: res.model?.choice, bound: res.model?.bound, trials: res.model?.trials, agentCpuSeconds: res.agentCpuSeconds, guestPauseMs: res.guest.guestPauseMs, switchover: res.switchover }));
      } catch (e) {
        console.log(JSON.stringify({ variant: v, run: r, ok: false, error: String(e?.message ?? e) }));
      }
    }
  }
} finally {
  ns?.destroy();
}
