import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XenStopTracker, xenStopDecision, XEN_MAX_ROUNDS } from '../../../src/eval/xen-rules.js';

const RAM = 512 * 1024 * 1024;

test('xenStopDecision: each of Xen 3.1 rules, in its order', () => {
  assert.equal(xenStopDecision({ roundsDone: 0, sentBytes: 0, ramBytes: RAM }), undefined);
  assert.equal(xenStopDecision({ roundsDone: 3, sentBytes: RAM, ramBytes: RAM, pagesLastRound: 5000 }), undefined);
  assert.equal(xenStopDecision({ roundsDone: 28, sentBytes: RAM, ramBytes: RAM, pagesLastRound: 5000 }), undefined);
  assert.equal(xenStopDecision({ roundsDone: XEN_MAX_ROUNDS, sentBytes: RAM, ramBytes: RAM, pagesLastRound: 5000 }), 'max-rounds');
  assert.equal(xenStopDecision({ roundsDone: 5, sentBytes: 3 * RAM - 1, ramBytes: RAM, pagesLastRound: 5000 }), undefined);
  assert.equal(xenStopDecision({ roundsDone: 5, sentBytes: 3 * RAM, ramBytes: RAM, pagesLastRound: 5000 }), 'max-data');
  assert.equal(xenStopDecision({ roundsDone: 2, sentBytes: RAM, ramBytes: RAM, pagesLastRound: 50 }), undefined);
  assert.equal(xenStopDecision({ roundsDone: 2, sentBytes: RAM, ramBytes: RAM, pagesLastRound: 49 }), 'few-dirty');
  // Rounds first, when several hold.
  assert.equal(xenStopDecision({ roundsDone: 30, sentBytes: 4 * RAM, ramBytes: RAM, pagesLastRound: 1 }), 'max-rounds');
});

test('XenStopTracker: pages of a round are the bytes between round starts', () => {
  const t = new XenStopTracker(RAM);
  assert.equal(t.observe({ round: 1, qemuBytes: 0 }), undefined);
  assert.equal(t.observe({ round: 1, qemuBytes: 300e6 }), undefined);
  assert.equal(t.observe({ round: 2, qemuBytes: RAM }), undefined); // round 1 sent 131072 pages
  assert.equal(t.observe({ round: 3, qemuBytes: RAM + 4096 * 1000 }), undefined); // round 2: 1000 pages
  assert.equal(t.observe({ round: 4, qemuBytes: RAM + 4096 * 1040 }), 'few-dirty'); // round 3: 40 pages
  assert.equal(t.reason, 'few-dirty');
  assert.deepEqual(t.decidedAt, { roundsDone: 3, sentBytes: RAM + 4096 * 1040, ramBytes: RAM, pagesLastRound: 40 });
  // Decided once.
  assert.equal(t.observe({ round: 5, qemuBytes: RAM + 4096 * 1041 }), undefined);
});

test('XenStopTracker: several rounds between two polls share the bytes', () => {
  const t = new XenStopTracker(RAM);
  t.observe({ round: 1, qemuBytes: 0 });
  t.observe({ round: 2, qemuBytes: RAM });
  // Rounds 2..5 passed between polls with 120 pages in all: 30 per round, under 50.
  assert.equal(t.observe({ round: 6, qemuBytes: RAM + 4096 * 120 }), 'few-dirty');
});

test('XenStopTracker: a busy guest stops at 3x RAM, a long one at round 30', () => {
  const busy = new XenStopTracker(RAM);
  let sent = 0;
  let reason;
  for (let round = 1; !reason; round++) {
    reason = busy.observe({ round, qemuBytes: sent });
    sent += RAM / 2; // half the RAM dirty per round
  }
  assert.equal(reason, 'max-data');
  const long = new XenStopTracker(100 * RAM);
  let r2;
  let round = 1;
  for (; !r2; round++) r2 = long.observe({ round, qemuBytes: round * 4096 * 1000 });
  assert.equal(r2, 'max-rounds');
  assert.equal(round - 1, 30, 'forced once 29 rounds were done, as round 30 begins');
});
