/** The sender's warm-up runs the real parser and batcher over the synthetic stream, both batch forms. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { warmUpStreamPath } from '../../../src/agent/warmup.js';

test('warmUpStreamPath: whole passes over the stream, frames out, within about its budget', async () => {
  const r = await warmUpStreamPath(256, 20);
  assert.ok(r.passes >= 1);
  assert.equal(r.bytes % r.passes, 0, 'whole passes only');
  assert.ok(r.bytes / r.passes > 4e6, `a pass is the ~4.3 MB stream: ${r.bytes / r.passes}`);
  // 1040 pages a pass, at most 256 to a frame or a batch.
  assert.ok(r.frames >= 5 * r.passes, `frames: ${r.frames} in ${r.passes} passes`);
});
