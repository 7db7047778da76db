/**
 * Live guests migrate through mecom end to end: the destination resumes only after
 * verification, its heartbeat continues the source's counter, the checker stays OK, and fewer
 * bytes cross the wire than the guest has RAM.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { liveRun } from '../../../src/eval/live-run.js';

for (const workload of ['idle', 'memwrite']) {
  test(`a ${workload} guest migrates through mecom, verified, and runs on`, { timeout: 240_000 }, async () => {
    const r = await liveRun({ workload, memMiB: 256, transport: { kind: 'mecom', policy: 'adaptive' }, warmupMs: 2000, timeoutMs: 120_000 });
    assert.equal(r.verified, true);
    assert.equal(r.guest.checkerOk, true, 'checker printed BAD or the destination printed nothing');
    assert.equal(r.guest.continued, true, `destination counter ${r.guest.destFirstCounter} does not continue source ${r.guest.sourceLastCounter}`);
    assert.ok(r.ramBytes >= 256 * 1024 * 1024, `RAM ${r.ramBytes}`);
    assert.ok(r.wireBytes < r.ramBytes, `wire ${r.wireBytes} not below RAM ${r.ramBytes}`);
    assert.ok(r.wireBytes < r.qemuBytes, `wire ${r.wireBytes} not below QEMU's stream ${r.qemuBytes}`);
    const pages = Object.values(r.pagesByCodec).reduce((a, b) => a + b, 0);
    assert.ok(pages > 1000, `only ${pages} pages went through the codec`);
  });
}
