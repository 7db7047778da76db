// Interleaved A/B of transports on the evaluation's shaped link (src/eval), one JSON line per run.
// Usage (root): node scripts/ab-live.mjs WORKLOAD LINK RUNS VARIANT...
//   WORKLOAD: idle, memwrite, memwrite-slow, compile, random, hog; LINK: 100mbit, 1gbit, 10gbit
//   VARIANT: plain (QEMU direct), relay (plain QEMU through two scripts/min-relay.mjs, placed as mecom's
//            agents: the least a Node relay pair costs), mecom (adaptive + cost model), mecom-trials (mecom send --trials),
//            mecom-unix (QEMU -> mecom send over a unix-domain socket),
//            VARIANT:N runs the agents at nice N (default 10; mecom:0 = QEMU's priority),
//            or a fixed codec policy (zero, wkdm, lz4, zstd, lz4-group, zstd-group).
// Set MECOM_MIN_RELAY=FILE to run another relay script (same arguments and output) for `relay`.
// Set MECOM_AB_PREFAULT=1 to preallocate every destination's RAM first (mecom migrate --prefault).
// Set MECOM_MODEL_TRACE=FILE to trace the cost model of every mecom run into FILE.
import { liveRun } from '../dist/src/eval/live-run.js';
import { EvalNetns } from '../dist/src/eval/netns.js';
import { findLink } from '../dist/src/eval/links.js';
import { findWorkload } from '../dist/src/eval/workloads.js';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MIN_RELAY = process.env.MECOM_MIN_RELAY ?? fileURLToPath(new URL('./min-relay.mjs', import.meta.url));

/** Start a min-relay (inside `netns` if given) forwarding to `to`; resolves with its port and its CPU report. */
function startRelay(host, to, nice, netns) {
  const argv = [process.execPath, MIN_RELAY, host, '0', to.host, String(to.port), String(nice)];
  const p = netns ? spawn('ip', ['netns', 'exec', netns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] }) : spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  p.stderr.on('data', (d) => (err += d));
  const cpu = new Promise((resolve) => p.on('exit', () => { try { resolve(JSON.parse(err.trim().split('\n').pop())); } catch { resolve(undefined); } }));
  const port = new Promise((resolve, reject) => {
    let out = '';
    p.stdout.on('data', (d) => { out += d; const nl = out.indexOf('\n'); if (nl >= 0) resolve(JSON.parse(out.slice(0, nl)).port); });
    p.on('exit', () => reject(new Error(`min-relay exited: ${err}`)));
  });
  return { proc: p, port, cpu };
}

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
const transportOfName = (v) => (v === 'plain' || v === 'relay' ? { kind: 'direct' }
  : v === 'mecom' || v === 'mecom-trials' ? { kind: 'mecom', policy: 'adaptive', trials: v === 'mecom-trials' }
  : v === 'mecom-unix' ? { kind: 'mecom', policy: 'adaptive', sourceHop: 'unix' }
  : { kind: 'mecom', policy: v });
const ns = link.rate !== undefined ? EvalNetns.create() : undefined;
ns?.shape(link.rate);
try {
  for (let r = 1; r <= Number(runs); r++) {
    for (const v of variants) {
      const before = ns?.counters();
      const relays = [];
      const [name, niceArg] = v.split(':');
      const via = name !== 'relay' ? undefined : async (far) => {
        const farRelay = startRelay(far.host, far, niceArg ?? 10, ns?.ns);
        relays.push(farRelay);
        const nearRelay = startRelay('127.0.0.1', { host: far.host, port: await farRelay.port }, niceArg ?? 10);
        relays.push(nearRelay);
        return { host: '127.0.0.1', port: await nearRelay.port };
      };
      // The relays have exited once the stream ended; their CPU reports come with the exit.
      const relayCpu = async () => {
        for (const x of relays) setTimeout(() => x.proc.kill(), 3000).unref();
        return relays.length ? { relayCpu: await Promise.all(relays.map((x) => x.cpu)) } : {};
      };
      try {
        const res = await liveRun({ via, workload: workload.guest, workloadArgs: workload.args, memMiB: 512, transport: transportOf(v), warmupMs: 4000, timeoutMs: 60_000, prefaultDestination: process.env.MECOM_AB_PREFAULT === '1', destNetns: ns?.ns, destHost: ns?.nsIp });
        const wire = ns && before ? EvalNetns.crossed(before, ns.counters()) : res.wireBytes;
        console.log(JSON.stringify({ variant: v, run: r, totalMs: res.totalMs, downtimeMs: res.downtimeMs, rounds: res.rounds, wireMB: +(wire / 1e6).toFixed(1), ok: res.verified && res.guest.checkerOk, choice: res.model?.choice, bound: res.model?.bound, trials: res.model?.trials, agentCpuSeconds: res.agentCpuSeconds, streamCpu: res.agentStreamCpuSeconds, qemuReads: res.qemuReads, ...(await relayCpu()), guestPauseMs: res.guest.guestPauseMs, switchover: res.switchover }));
      } catch (e) {
        console.log(JSON.stringify({ variant: v, run: r, ok: false, error: String(e?.message ?? e), ...(await relayCpu()) }));
      }
    }
  }
} finally {
  ns?.destroy();
}
