/** ThreadCpuShare: wall time to CPU time for the encoder's timings. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ThreadCpuShare } from '../../../src/wire/thread-cpu.js';
import { scaleMeasureSeconds, emptyCells, cellIndex } from '../../../src/codec/choices.js';

test('the share pools jobs over a window: tick-quantised readings average out', () => {
  // A thread that runs 40% of the time; the clock advances in 4 ms ticks, as the kernel's does.
  let trueCpu = 0;
  const s = new ThreadCpuShare(() => Math.floor(trueCpu / 0.004) * 0.004);
  const shares: number[] = [];
  for (let i = 0; i < 400; i++) {
    const wall = 0.0015 + (i % 3) * 0.001; // 1.5-3.5 ms jobs
    trueCpu += 0.4 * wall;
    shares.push(s.note(wall));
  }
  assert.equal(shares[0], 1, 'too little wall time pooled yet: wall time as is');
  for (const x of shares.slice(100)) assert.ok(x > 0.3 && x < 0.5, `share ${x}`);
});

test('no readable CPU clock: the share is 1', () => {
  const s = new ThreadCpuShare(() => undefined);
  for (let i = 0; i < 50; i++) assert.equal(s.note(0.01), 1);
});

test('the real clock of this thread: a busy loop runs most of its wall time', () => {
  const s = new ThreadCpuShare();
  let share = 1;
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    while (performance.now() - t0 < 5);
    share = s.note((performance.now() - t0) / 1000);
  }
  // A loaded CI host may preempt us, but a busy thread is on a CPU far more than 5% of the time.
  assert.ok(share > 0.05 && share <= 1, `share ${share}`);
});

test('scaleMeasureSeconds scales every time in a measurement and nothing else', () => {
  const cells = emptyCells();
  const i = cellIndex(1, 2);
  cells[i] = 10; cells[i + 1] = 5000; cells[i + 2] = 0.002;
  const m = { pages: 256, classPages: [0, 10, 0], bytesIn: 1 << 20, seconds: 0.01, baseSeconds: 0.004, probeSeconds: 0.003, classifySeconds: 0.001, cells, uniform: [5, 100, 0.002, 5, 90, 0.004], groups: [4, 900, 0.006, 1, 2, 3] };
  scaleMeasureSeconds(m, 0.5);
  assert.equal(m.seconds, 0.005);
  assert.equal(m.baseSeconds, 0.002);
  assert.equal(m.probeSeconds, 0.0015);
  assert.equal(m.classifySeconds, 0.0005);
  assert.deepEqual([cells[i], cells[i + 1], cells[i + 2]], [10, 5000, 0.001]);
  assert.deepEqual(m.uniform, [5, 100, 0.001, 5, 90, 0.002]);
  assert.deepEqual(m.groups, [4, 900, 0.003, 1, 2, 3]);
});
