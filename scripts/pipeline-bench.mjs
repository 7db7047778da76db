// Pipeline throughput of the agents without QEMU: a recorded stream file -> mecom send -> mecom receive -> a sink,
// on loopback. Prints MB/s, the agents' CPU seconds (whole life, and from the first stream byte on) and pages by codec.
// Usage: node scripts/pipeline-bench.mjs FILE [mecom send options]
// MECOM_PACE_MBPS=N paces the source at N MB/s (64 KiB writes on a timer), as QEMU's migration thread paces a live
// stream: the agents then see QEMU-sized reads over a migration's duration instead of one burst.
import net from 'node:net';
import fs from 'node:fs';
import { ChildAgent } from '../dist/src/agent/spawn.js';
const [file, ...extra] = process.argv.slice(2);
const data = fs.readFileSync(file);
let got = 0; let tEnd;
const sink = net.createServer((s) => { s.on('data', (c) => { got += c.length; if (got === data.length) tEnd = performance.now(); }); });
await new Promise((r) => sink.listen(0, '127.0.0.1', r));
const sinkPort = sink.address().port;
const recv = new ChildAgent('receive', ['--listen', '127.0.0.1:0', '--to', `127.0.0.1:${sinkPort}`]);
const rport = (await recv.waitFor('listening', 10000)).port;
const send = new ChildAgent('send', ['--listen', '127.0.0.1:0', '--to', `127.0.0.1:${rport}`, ...extra]);
const sport = (await send.waitFor('listening', 10000)).port;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const c = net.connect(sport, '127.0.0.1');
await new Promise((r) => c.on('connect', r));
let off = 0; const CH = 256 * 1024;
let tWritten;
const pace = Number(process.env.MECOM_PACE_MBPS ?? 0);
const pump = () => { while (off < data.length) { const ok = c.write(data.subarray(off, off + CH)); off += CH; if (!ok) return c.once('drain', pump); } tWritten = performance.now(); c.end(); };
const PCH = 64 * 1024;
const paced = () => {
  // Write what the pace allows by now, then come back in 1 ms.
  const due = Math.min(data.length, ((performance.now() - t0) / 1000) * pace * 1e6);
  while (off < due) { c.write(data.subarray(off, Math.min(off + PCH, data.length))); off += PCH; }
  if (off < data.length) return setTimeout(paced, 1);
  tWritten = performance.now(); c.end();
};
if (pace > 0) paced(); else pump();
const done = await send.waitFor('done', 60000);
const rdone = await recv.waitFor('done', 60000);
const t = (tEnd ?? performance.now()) - t0;
console.log(JSON.stringify({ MBps: +(data.length / t / 1000).toFixed(1), ms: Math.round(t), sourceWrittenMs: Math.round(tWritten - t0), wireMB: +(done.wireBytes / 1e6).toFixed(1), sendCpu: done.cpuSeconds, recvCpu: rdone.cpuSeconds, sendStream: done.streamCpuSeconds, recvStream: rdone.streamCpuSeconds, reads: done.qemuReads, pages: done.pagesByCodec }));
sink.close(); send.kill('SIGTERM'); recv.kill('SIGTERM');
