import { test } from 'node:test';
import assert from 'node:assert/strict';
import { schedule } from '../../../src/eval/harness.js';
import { EVAL_WORKLOADS } from '../../../src/eval/workloads.js';
import { EVAL_LINKS } from '../../../src/eval/links.js';

test('schedule interleaves modes within each run and rotates their order', () => {
  const plan = schedule({ workloads: [EVAL_WORKLOADS[0]], links: [EVAL_LINKS[1]], modes: ['plain', 'xen', 'mecom'], runs: 3 });
  assert.deepEqual(plan.map((p) => `${p.run}:${p.mode}`), ['1:plain', '1:xen', '1:mecom', '2:xen', '2:mecom', '2:plain', '3:mecom', '3:plain', '3:xen']);
});

test('schedule covers every cell runs times', () => {
  const plan = schedule({ workloads: EVAL_WORKLOADS.slice(0, 2), links: EVAL_LINKS.slice(0, 2), modes: ['plain', 'mecom'], runs: 2 });
  assert.equal(plan.length, 2 * 2 * 2 * 2);
  const keys = new Set(plan.map((p) => `${p.run} ${p.link.name} ${p.workload.name} ${p.mode}`));
  assert.equal(keys.size, plan.length);
});
