/**
 * Live guests migrate through mecom end to end (the adaptive codec with its cost model, the
 * default): the destination resumes only after verification, its heartbeat continues the
 * source's counter, the checker stays OK, and the wire carries no more than the cost model
 * can justify.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { liveRun } from '../../../src/eval/live-run.js';

const cases = [
  // Loopback outruns the codecs: the model may send everything raw (pass-through frames), but
  // never much more than QEMU's own stream (32 bytes of frame per batch).
  // This one also preallocates the destination's RAM first (mecom migrate --prefault).
  { workload: 'memwrite', workloadArgs: undefined, bandwidthMBps: undefined, maxWirePerStream: 1.02, prefault: true },
  // QEMU capped at 40 MB/s is the limit: every plan keeps up, and the model must take the one
  // with the fewest wire bytes, i.e. compress (memwrite's mixed content shrinks 1.6-2x). Its
  // working set is rewritten at 8 MiB/s (the eval's memwrite-slow): at the default 32 MiB/s a
  // 40 MB/s migration takes many rounds. Not idle: the first 40% of its stream (compressed
  // kernel and initramfs, random check data) does not shrink. How much of the rest is
  // compressed depends on the host's free CPU: measured near the tie rule's whole-core line
  // (0.88-0.98 of a core, docs/codec.md "Cost model"), the model moves in and out of
  // compression: 12 runs of this case in session 12 (4 with the build of its start, 4 with its
  // end, 4 with its end less the fast link-test prior) sent 0.66-0.87x the stream, and 0.8
  // failed one to two runs in four with each.
  // 0.9 still proves the model compressed a sizeable share of it.
  { workload: 'memwrite', workloadArgs: { size: '64M', rate: '8M' }, bandwidthMBps: 40, maxWirePerStream: 0.9, prefault: false },
];

for (const c of cases) {
  test(`a ${c.workload}${c.workloadArgs ? ` (rewriting at ${c.workloadArgs.rate}/s)` : ''} guest migrates through mecom${c.bandwidthMBps ? ` (QEMU capped at ${c.bandwidthMBps} MB/s)` : ''}${c.prefault ? ' onto a preallocated destination' : ''}, verified, and runs on`, { timeout: 240_000 }, async () => {
    const r = await liveRun({ workload: c.workload, workloadArgs: c.workloadArgs, memMiB: 256, transport: { kind: 'mecom', policy: 'adaptive' }, warmupMs: 2000, timeoutMs: 120_000, bandwidthMBps: c.bandwidthMBps, prefaultDestination: c.prefault });
    assert.equal(r.verified, true);
    assert.equal(r.prefaultMs !== undefined, c.prefault, `prefaultMs ${r.prefaultMs}`);
    // Stream CPU is counted from each agent's first stream byte on, so start-up is not in it.
    const sc = r.agentStreamCpuSeconds;
    assert.ok(sc?.send && sc.receive && r.agentCpuSeconds, `stream CPU ${JSON.stringify(sc)}`);
    for (const side of ['send', 'receive'] as const) {
      const stream = sc[side]!.user + sc[side]!.system;
      assert.ok(stream > 0 && stream < r.agentCpuSeconds[side], `${side} ${JSON.stringify(sc[side])} vs ${r.agentCpuSeconds[side]}`);
    }
    assert.equal(r.guest.checkerOk, true, 'checker printed BAD or the destination printed nothing');
    assert.equal(r.guest.continued, true, `destination counter ${r.guest.destFirstCounter} does not continue source ${r.guest.sourceLastCounter}`);
    assert.ok(r.ramBytes >= 256 * 1024 * 1024, `RAM ${r.ramBytes}`);
    assert.ok(r.wireBytes < r.ramBytes, `wire ${r.wireBytes} not below RAM ${r.ramBytes}`);
    assert.ok(r.wireBytes < r.qemuBytes * c.maxWirePerStream, `wire ${r.wireBytes} not below ${c.maxWirePerStream} x QEMU's stream ${r.qemuBytes} (${JSON.stringify(r.pagesByCodec)})`);
    const pages = Object.values(r.pagesByCodec).reduce((a, b) => a + b, 0);
    assert.ok(pages > 1000, `only ${pages} pages went through the codec`);
    // The switchover waited for the receiver's proof and the destination's load before resuming.
    const sw = r.switchover;
    assert.ok(sw.receiverVerified !== undefined && sw.senderDone !== undefined, `switchover ${JSON.stringify(sw)}`);
    assert.ok(sw.resumed >= Math.max(sw.receiverVerified, sw.senderDone, sw.destLoaded) && sw.destLoaded >= 0, `switchover ${JSON.stringify(sw)}`);
  });
}
