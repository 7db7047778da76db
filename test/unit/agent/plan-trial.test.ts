/** PlanTrial: the model's plan against its whole-CPU plan, settled by how fast the stream moves. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PlanTrial, type TrialModel } from '../../../src/agent/plan-trial.js';
import type { Plan } from '../../../src/codec/choices.js';

const RAW: Plan = [0, 0, 0];
const LZ4: Plan = [2, 2, 0];

/** A model whose own plan is M and optimistic plan O; records what is sent. */
class FakeModel implements TrialModel {
  forced: Plan | null = null;
  linkMeasured = true;
  constructor(public m: Plan, public o: Plan) {}
  modelPlan(): Plan { return this.m; }
  optimisticPlan(): Plan { return this.o; }
  override(plan: Plan | null): void { this.forced = plan; }
  sent(): Plan { return this.forced ?? this.m; }
}

/** Drive `ms` of 10 ms samples; the stream moves at rate(plan sent) MB/s. */
function drive(trial: PlanTrial, model: FakeModel, from: number, ms: number, rate: (p: Plan) => number, state: { bytes: number }): Plan[] {
  const sent: Plan[] = [];
  for (let t = from; t < from + ms; t += 10) {
    trial.sample(t, state.bytes);
    const p = model.sent();
    sent.push(p);
    state.bytes += rate(p) * 1e6 * 0.01;
  }
  return sent;
}

const key = (p: Plan) => p.join('');

test('the optimistic plan is held when it moves the stream faster, for longer each time it wins again', () => {
  const model = new FakeModel(RAW, LZ4);
  const trial = new PlanTrial(model);
  const st = { bytes: 0 };
  // Raw at 1 Gbit/s: 120 MB/s; lz4 (ratio 2.5, cores to spare): 200 MB/s.
  const sent = drive(trial, model, 0, 3000, (p) => (key(p) === key(LZ4) ? 200 : 120), st);
  assert.ok(trial.record.trials >= 2, `trials ${trial.record.trials}`);
  assert.equal(trial.record.optimisticWins, trial.record.trials);
  assert.deepEqual(trial.record.last, { modelMBps: 120, optimisticMBps: 200 });
  const lz4Share = sent.filter((p) => key(p) === key(LZ4)).length / sent.length;
  assert.ok(lz4Share > 0.8, `lz4 sent ${(lz4Share * 100).toFixed(0)}% of the time`);
  // Holds double: the gaps between trials grow.
  const starts: number[] = [];
  for (let i = 1; i < sent.length; i++) if (key(sent[i]) === key(RAW) && key(sent[i - 1]) === key(LZ4)) starts.push(i);
  const gaps = starts.slice(1).map((s, i) => s - starts[i]);
  for (let i = 1; i < gaps.length; i++) assert.ok(gaps[i] >= gaps[i - 1], `gaps ${gaps}`);
  assert.ok(gaps.length >= 1 && gaps[gaps.length - 1] > gaps[0], `gaps ${gaps}`);
});

test('the model keeps its plan when the optimistic one is not clearly faster (a saturated host)', () => {
  const model = new FakeModel(RAW, LZ4);
  const trial = new PlanTrial(model);
  const st = { bytes: 0 };
  // Compressing steals the cores QEMU needs: the stream moves slower with lz4.
  const sent = drive(trial, model, 0, 3000, (p) => (key(p) === key(LZ4) ? 90 : 120), st);
  assert.ok(trial.record.trials >= 2);
  assert.equal(trial.record.optimisticWins, 0);
  assert.equal(model.forced, null, 'no override outside a trial');
  const lz4Share = sent.filter((p) => key(p) === key(LZ4)).length / sent.length;
  assert.ok(lz4Share < 0.35, `lz4 sent ${(lz4Share * 100).toFixed(0)}% of the time`);
  // Within the margin (5% faster) is not enough either.
  const m2 = new FakeModel(RAW, LZ4);
  const t2 = new PlanTrial(m2);
  drive(t2, m2, 0, 2000, (p) => (key(p) === key(LZ4) ? 126 : 120), { bytes: 0 });
  assert.equal(t2.record.optimisticWins, 0);
});

test('no trial while the link was never measured: only QEMU or the CPU can be the limit then', () => {
  const model = new FakeModel(RAW, LZ4);
  model.linkMeasured = false;
  const trial = new PlanTrial(model);
  const sent = drive(trial, model, 0, 2000, (p) => (key(p) === key(LZ4) ? 200 : 120), { bytes: 0 });
  assert.equal(trial.record.trials, 0);
  assert.ok(sent.every((p) => key(p) === key(RAW)));
});

test('an optimistic plan clearly losing is cut short, halfway through its window', () => {
  const model = new FakeModel(RAW, LZ4);
  const trial = new PlanTrial(model, { windowMs: 120, settleMs: 40 });
  const sent = drive(trial, model, 0, 400, (p) => (key(p) === key(LZ4) ? 50 : 120), { bytes: 0 });
  assert.equal(trial.record.trials, 1);
  const lz4Samples = sent.filter((p) => key(p) === key(LZ4)).length;
  // settle (40 ms) + half the measured part (40 ms), not the whole 120 ms window.
  assert.ok(lz4Samples <= 9, `lz4 sent for ${lz4Samples} samples`);
});

test('no trial while both plans agree; a stalled stream voids a trial instead of deciding it', () => {
  const model = new FakeModel(RAW, RAW);
  const trial = new PlanTrial(model);
  drive(trial, model, 0, 2000, () => 120, { bytes: 0 });
  assert.equal(trial.record.trials, 0);
  assert.equal(model.forced, null);
  // QEMU between rounds: nothing moves, under either plan.
  const m2 = new FakeModel(RAW, LZ4);
  const t2 = new PlanTrial(m2);
  const sent = drive(t2, m2, 0, 2000, () => 0, { bytes: 0 });
  assert.equal(t2.record.trials, 0);
  assert.ok(sent.every((p) => key(p) === key(RAW)), 'the model\'s plan throughout: a void window never reaches the optimistic arm');
});

test('a winner loses its hold when the optimistic plan stops paying (the link turned fast)', () => {
  const model = new FakeModel(RAW, LZ4);
  const trial = new PlanTrial(model);
  const st = { bytes: 0 };
  drive(trial, model, 0, 1500, (p) => (key(p) === key(LZ4) ? 200 : 120), st);
  assert.deepEqual(model.sent(), LZ4);
  // Now raw moves 600 MB/s and lz4 is CPU-bound at 200: the next trial goes back to the model.
  drive(trial, model, 1500, 6000, (p) => (key(p) === key(LZ4) ? 200 : 600), st);
  assert.equal(model.forced, null);
  assert.deepEqual(trial.record.last, { modelMBps: 600, optimisticMBps: 200 });
});
