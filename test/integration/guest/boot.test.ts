/**
 * Boots a 256 MiB guest per workload: the checker's heartbeat appears, keeps its 10 ms rhythm
 * closely enough (>= 20 beats), says OK, counts up, and the guest is killed cleanly.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launchGuest, type GuestVm, type ExitInfo } from '../../../src/guest/vm.js';
import { readHeartbeats, heartbeatStats, waitForHeartbeat } from '../../../src/guest/heartbeat.js';
import { guestKit } from '../../../src/guest/kit.js';
import { MecomError } from '../../../src/errors.js';

let dir: string;
before(() => {
  guestKit(); // MECOM_GUEST_MISSING with "run `make guest`" when the kit is not built
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mecom-guest-boot-'));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const cases: { workload: string; args?: Record<string, string> }[] = [
  { workload: 'idle' },
  { workload: 'memwrite', args: { size: '32M', rate: '32M' } },
  { workload: 'hog', args: { size: '64M' } },
  { workload: 'random', args: { size: '16M', rate: '16M' } },
  { workload: 'compile', args: { size: '16M' } },
];

for (const c of cases) {
  test(`a ${c.workload} guest boots and its checker beats OK`, { timeout: 120_000 }, async () => {
    let vm: GuestVm | undefined;
    let exit: ExitInfo | undefined;
    try {
      vm = await launchGuest({ name: c.workload, dir, memMiB: 256, workload: c.workload, workloadArgs: c.args });
      assert.ok(fs.existsSync(vm.qmpPath), 'QMP socket exists');
      const first = readHeartbeats(vm.serialPath)[0];
      await waitForHeartbeat(vm.serialPath, (b) => b.counter >= first.counter + 25, 30_000);
      const beats = readHeartbeats(vm.serialPath);
      const s = heartbeatStats(beats);
      assert.ok(s.count >= 20, `${s.count} heartbeats`);
      assert.equal(s.allOk, true, 'checker printed BAD');
      assert.equal(s.increasing, true, 'counters do not increase');
      assert.equal(s.lastCounter! - s.firstCounter! + 1, s.count, 'a heartbeat line is missing or mangled');
      // The workload announces itself; on a busy host that can trail the first heartbeats.
      const deadline = Date.now() + 30_000;
      let log = fs.readFileSync(vm.serialPath, 'latin1');
      while (c.workload !== 'idle' && !log.includes(`WL ${c.workload} start`) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        log = fs.readFileSync(vm.serialPath, 'latin1');
      }
      assert.doesNotMatch(log, /WL ERROR|CHK BAD|Kernel panic/);
      if (c.workload !== 'idle') assert.match(log, new RegExp(`WL ${c.workload} start`));
    } finally {
      if (vm) exit = await vm.kill();
    }
    assert.equal(exit?.signal, 'SIGKILL');
    // After kill the process is gone.
    assert.throws(() => process.kill(vm!.pid, 0));
  });
}

test('a destination boots paused: QMP up, no heartbeat', { timeout: 60_000 }, async () => {
  const vm = await launchGuest({ name: 'dest', dir, memMiB: 256, workload: 'memwrite', incoming: true });
  try {
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(readHeartbeats(vm.serialPath).length, 0);
    assert.ok(vm.argv.includes('-incoming') && vm.argv.includes('-S'));
  } finally {
    const e = await vm.stop();
    assert.ok(e.signal === 'SIGTERM' || e.code === 0, JSON.stringify(e));
  }
});

test('an unknown workload is refused before QEMU starts', async () => {
  await assert.rejects(
    launchGuest({ name: 'bad', dir, workload: 'mine-bitcoin' }),
    (e: unknown) => e instanceof MecomError && e.code === 'MECOM_GUEST_BAD_WORKLOAD',
  );
});
