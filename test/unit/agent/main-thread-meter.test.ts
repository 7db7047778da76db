import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { MainThreadMeter } from '../../../src/agent/main-thread-meter.js';

const tick = () => new Promise((r) => setTimeout(r, 0));
function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

test('MainThreadMeter: bytes per busy second of the event loop, not per wall second', async () => {
  const m = new MainThreadMeter(100);
  assert.equal(m.bytesPerSecond, Infinity);
  assert.equal(m.sample(performance.now(), 0), false); // first sample only starts the window
  await tick();
  await new Promise<void>((r) => setTimeout(() => { spin(150); r(); }, 0));
  await new Promise((r) => setTimeout(r, 150)); // idle time must not count
  await tick();
  assert.equal(m.sample(performance.now(), 30e6), true);
  // 30 MB over ~150 ms busy (of ~300 ms wall): ~200 MB/s, well above 30e6 / 0.3 s = 100 MB/s.
  assert.ok(m.bytesPerSecond > 120e6 && m.bytesPerSecond < 400e6, `rate ${m.bytesPerSecond}`);
});

test('MainThreadMeter: a window with little traffic leaves the estimate alone', async () => {
  const m = new MainThreadMeter(10);
  m.sample(performance.now(), 0);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(m.sample(performance.now(), 1000), false);
  assert.equal(m.bytesPerSecond, Infinity);
});
