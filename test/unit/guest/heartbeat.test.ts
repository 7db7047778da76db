import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseHeartbeats, heartbeatStats, waitForHeartbeat } from '../../../src/guest/heartbeat.js';
import { kernelCmdline } from '../../../src/guest/kit.js';
import { MecomError } from '../../../src/errors.js';

const LOG = [
  '\x1b[?7l\x1b[2JSeaBIOS (version 1.16.3)',
  'Booting from ROM...',
  'MECOM init workload=memwrite args=',
  'CHK start region=8192 KiB period=10 ms',
  'HB 1 2721 OK',
  'WL memwrite start size=64 MiB rate=32768 KiB/s',
  'HB 2 2731 OK\r',
  '[    3.1] some kernel warning HB 9 9 OK trailing',
  'HB 3 2790 OK',
  'HB 4 2800 BAD',
].join('\n');

test('parses heartbeats among firmware, kernel and workload lines', () => {
  assert.deepEqual(parseHeartbeats(LOG), [
    { counter: 1, ms: 2721, ok: true },
    { counter: 2, ms: 2731, ok: true },
    { counter: 3, ms: 2790, ok: true },
    { counter: 4, ms: 2800, ok: false },
  ]);
});

test('a last line cut short is not a heartbeat; a complete one without newline is', () => {
  for (const cut of ['HB', 'HB 5', 'HB 5 28', 'HB 5 2810', 'HB 5 2810 O', 'HB 5 2810 BA']) {
    assert.equal(parseHeartbeats(`HB 4 2800 OK\n${cut}`).length, 1, cut);
  }
  assert.equal(parseHeartbeats('HB 4 2800 OK\nHB 5 2810 OK').length, 2);
});

test('leading junk on a line is tolerated, junk glued to the word HB is not', () => {
  assert.equal(parseHeartbeats('\x1b[0mHB 7 100 OK').length, 1);
  assert.equal(parseHeartbeats('XHB 7 100 OK').length, 0);
  assert.equal(parseHeartbeats('HB 7 100 OKAY').length, 0);
  assert.equal(parseHeartbeats('HB -7 100 OK').length, 0);
});

test('stats: last counter, all OK, increasing, largest guest gap', () => {
  const s = heartbeatStats(parseHeartbeats(LOG));
  assert.deepEqual(s, { count: 4, firstCounter: 1, lastCounter: 4, allOk: false, increasing: true, largestGapMs: 59 });
  const restarted = heartbeatStats([
    { counter: 10, ms: 100, ok: true },
    { counter: 1, ms: 110, ok: true },
  ]);
  assert.equal(restarted.increasing, false);
  assert.deepEqual(heartbeatStats([]), { count: 0, firstCounter: undefined, lastCounter: undefined, allOk: true, increasing: true, largestGapMs: 0 });
});

test('waitForHeartbeat follows a growing file and times out with a typed error', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mecom-hb-'));
  const f = path.join(dir, 'g.serial');
  try {
    const p = waitForHeartbeat(f, (b) => b.counter >= 3, 5000, { pollMs: 5 });
    await new Promise((r) => setTimeout(r, 30));
    fs.writeFileSync(f, 'noise\nHB 1 10 OK\nHB 2 2');
    await new Promise((r) => setTimeout(r, 30));
    fs.appendFileSync(f, '0 OK\nHB 3 30 OK\n');
    assert.deepEqual(await p, { counter: 3, ms: 30, ok: true });
    await assert.rejects(waitForHeartbeat(f, (b) => b.counter > 100, 50, { pollMs: 5 }), (e: unknown) => e instanceof MecomError && e.code === 'MECOM_GUEST_TIMEOUT');
    await assert.rejects(
      waitForHeartbeat(f, (b) => b.counter > 100, 5000, { pollMs: 5, abort: Promise.resolve('gone') }),
      (e: unknown) => e instanceof MecomError && e.code === 'MECOM_GUEST_EXITED',
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('kernel command line carries the workload and its arguments, refuses bad ones', () => {
  assert.match(kernelCmdline('memwrite', { size: '64M', rate: 32 }), /mecom\.workload=memwrite mecom\.size=64M mecom\.rate=32$/);
  for (const [w, a] of [['nope', {}], ['idle', { size: '1 M' }], ['idle', { workload: 'hog' }], ['idle', { 'Bad-Key': '1' }]] as const) {
    assert.throws(() => kernelCmdline(w, a), (e: unknown) => e instanceof MecomError && /^MECOM_GUEST_BAD_/.test(e.code));
  }
});
