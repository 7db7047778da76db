/** ModelView: the cost model as mecom send reports it, in full or in brief. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ModelView } from '../../../src/agent/model-view.js';
import { CostModel } from '../../../src/codec/cost-model.js';

test('ModelView: full carries the measurements; brief drops them and is rebuilt at most every 100 ms', () => {
  const m = new CostModel({ threads: 1, priorLinkBps: 12.5e6 });
  let calls = 0;
  const trials = { trials: 0 } as never;
  const v = new ModelView(() => { calls++; return m.snapshot(); }, () => trials);
  const full = v.full()!;
  assert.equal(full.linkMBps, 12.5);
  assert.ok('measured' in full);
  assert.equal(full.trials, trials);
  calls = 0;
  const b1 = v.brief(1000)!;
  assert.deepEqual(b1.measured, {}, 'no per-codec measurements in brief');
  assert.equal(b1.linkMBps, 12.5);
  m.setLink(125e6);
  assert.equal(v.brief(1050), b1, 'within 100 ms: the same view, no new snapshot');
  assert.equal(calls, 1);
  assert.equal(v.brief(1100)!.linkMBps, 125, 'after 100 ms: rebuilt');
  assert.equal(calls, 2);
  assert.equal(new ModelView(() => undefined, () => undefined).brief(0), undefined, 'no model, no view');
});
