import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PROBE_BUDGET, ProbeSchedule } from '../../../src/codec/probe-schedule.js';
import { RECEIVER_LEAVE_REPORTS, ReceiverLoad } from '../../../src/codec/receiver-load.js';

/** Submit `n` batches, probing whenever due; returns the batch indices that probed. */
function run(s: ProbeSchedule, n: number, idle = 0, onProbe?: () => void): number[] {
  const at: number[] = [];
  for (let i = 0; i < n; i++) {
    const p = s.due(idle);
    if (p) at.push(s.batches);
    s.noteSubmitted(p);
    if (p) onProbe?.();
  }
  return at;
}

test('ProbeSchedule: learns at batches 0, 2, 4, 8, then probes every probeEvery batches without timings', () => {
  const s = new ProbeSchedule({ probeEvery: 16 });
  assert.deepEqual(run(s, 64), [0, 2, 4, 8, 24, 40, 56]);
  assert.equal(s.probes, 7);
  assert.equal(s.batches, 64);
});

test('ProbeSchedule: a probe costing 4x a batch is spaced to keep within the budget, and idle CPU shortens it', () => {
  const busy = new ProbeSchedule({ probeEvery: 32 });
  busy.noteTimings({ seconds: 0.001 });
  busy.noteTimings({ seconds: 0.005, probeSeconds: 0.004 });
  // 0.004 / (0.02 * 0.001) = 200 batches after the last learning probe (batch 8).
  const gaps = run(busy, 32 + 600).filter((b) => b >= 32);
  assert.deepEqual(gaps, [208, 408, 608]);
  assert.equal(Math.ceil(0.004 / (PROBE_BUDGET * 0.001)), 200);

  const idle = new ProbeSchedule({ probeEvery: 32 });
  idle.noteTimings({ seconds: 0.001 });
  idle.noteTimings({ seconds: 0.005, probeSeconds: 0.004 });
  // Half of an 80% idle share: 0.004 / (0.4 * 0.001) = 10 batches (the floor is 8).
  const idleGaps = run(idle, 32 + 40, 0.8).filter((b) => b >= 32);
  assert.deepEqual(idleGaps, [32, 42, 52, 62]);
});

test('ProbeSchedule: confirming probes double the interval up to the cap; restart resets it; learning never stretches', () => {
  const s = new ProbeSchedule({ probeEvery: 8, maxBackoff: 4 });
  assert.deepEqual(run(s, 8, 0, () => s.confirmed()), [0, 2, 4]);
  assert.equal(s.stretch, 1, 'probes while learning do not stretch');
  // From batch 4: 8 batches, then 16 (stretch 2), then 32 (the cap, 4) from there on.
  const at = run(s, 200, 0, () => s.confirmed());
  assert.deepEqual(at, [12, 28, 60, 92, 124, 156, 188]);
  assert.equal(s.stretch, 4);
  s.restart();
  assert.equal(s.stretch, 1);
  assert.deepEqual(run(s, 20), [208, 216, 224], 'back to every 8 batches');
});

test('ReceiverLoad: enters on one busy or waiting report, leaves only after the quiet reports in a row', () => {
  const r = new ReceiverLoad();
  assert.equal(r.limited, false);
  assert.equal(r.report(0.5, 0.1), false);
  assert.equal(r.report(0.7, 0), true, 'busy 0.7 enters');
  assert.equal(r.limited, true);
  for (let i = 1; i < RECEIVER_LEAVE_REPORTS; i++) assert.equal(r.report(0.3, 0), false);
  assert.equal(r.report(0.3, 0.3), false, 'a QEMU wait restarts the count');
  for (let i = 1; i < RECEIVER_LEAVE_REPORTS; i++) assert.equal(r.report(0.3, 0), false);
  assert.equal(r.limited, true);
  assert.equal(r.report(0.3, 0), true, 'the sixth quiet report in a row clears it');
  assert.equal(r.limited, false);
  assert.equal(r.busy, 0.3);
  assert.equal(r.report(Number.NaN, 0), false, 'non-finite reports are ignored');
  assert.equal(r.busy, 0.3);
});
