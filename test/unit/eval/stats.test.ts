import { test } from 'node:test';
import assert from 'node:assert/strict';
import { median, percentChange, spread, summarise, type EvalRow } from '../../../src/eval/stats.js';

test('median of odd and even counts, and of nothing', () => {
  assert.equal(median([5, 1, 3]), 3);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([7]), 7);
  assert.equal(median([]), undefined);
});

test('spread ignores null, undefined and non-finite values', () => {
  assert.deepEqual(spread([10, null, 30, undefined, 20, Number.NaN]), { n: 3, median: 20, min: 10, max: 30 });
  assert.equal(spread([null, undefined]), undefined);
});

test('percentChange: (value - base) / base * 100, undefined without a usable base', () => {
  assert.equal(percentChange(75, 100), -25);
  assert.equal(percentChange(150, 100), 50);
  assert.ok(Math.abs(percentChange(31.2, 100)! - -68.8) < 1e-9);
  assert.equal(percentChange(10, 0), undefined);
  assert.equal(percentChange(undefined, 10), undefined);
  assert.equal(percentChange(10, undefined), undefined);
});

function row(mode: string, run: number, totalMs: number, downtimeMs: number, wireBytes: number, ok = true): EvalRow {
  return { workload: 'memwrite', mode, link: '1gbit', run, totalMs, downtimeMs, guestPauseMs: downtimeMs + 50, wireBytes, ramBytes: 1 << 29, rounds: 4, converged: ok, ok };
}

test('summarise: medians over ok runs only, with changes vs plain and xen', () => {
  const rows: EvalRow[] = [
    row('plain', 1, 2000, 100, 200e6),
    row('plain', 2, 1000, 300, 400e6),
    row('plain', 3, 3000, 200, 300e6),
    row('xen', 1, 4000, 400, 600e6),
    row('xen', 2, 4000, 400, 600e6),
    row('xen', 3, 4000, 400, 600e6),
    row('mecom', 1, 1000, 100, 60e6),
    row('mecom', 2, 1000, 100, 60e6),
    { ...row('mecom', 3, 60000, 0, 9e9, false), downtimeMs: null, error: 'did not converge' },
  ];
  const cells = summarise(rows);
  assert.deepEqual(cells.map((c) => c.mode), ['plain', 'xen', 'mecom']);
  const plain = cells[0];
  assert.deepEqual(plain.metrics.totalMs, { n: 3, median: 2000, min: 1000, max: 3000 });
  assert.deepEqual(plain.metrics.downtimeMs, { n: 3, median: 200, min: 100, max: 300 });
  assert.deepEqual(plain.vsPlain, { downtimeMs: 0, totalMs: 0, wireBytes: 0 });
  const mecom = cells[2];
  assert.equal(mecom.runs, 3);
  assert.equal(mecom.okRuns, 2);
  assert.equal(mecom.converged, 2);
  assert.deepEqual(mecom.metrics.wireBytes, { n: 2, median: 60e6, min: 60e6, max: 60e6 });
  assert.deepEqual(mecom.vsPlain, { downtimeMs: -50, totalMs: -50, wireBytes: -80 });
  assert.deepEqual(mecom.vsXen, { downtimeMs: -75, totalMs: -75, wireBytes: -90 });
  assert.deepEqual(mecom.errors, ['did not converge']);
});

test('summarise: no change vs a baseline with no ok run', () => {
  const cells = summarise([row('plain', 1, 60000, 0, 9e9, false), row('mecom', 1, 1000, 100, 60e6)]);
  assert.deepEqual(cells[1].vsPlain, {});
  assert.equal(cells[0].metrics.totalMs, undefined);
});

test('summarise keeps cells of different links and workloads apart', () => {
  const a = row('plain', 1, 1000, 10, 1e6);
  const cells = summarise([a, { ...a, link: '100mbit', totalMs: 5000 }, { ...a, workload: 'idle', totalMs: 7000 }]);
  assert.equal(cells.length, 3);
  assert.deepEqual(cells.map((c) => c.metrics.totalMs!.median), [1000, 5000, 7000]);
});
