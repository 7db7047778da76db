/**
 * Preallocating an incoming QEMU's RAM over QMP (src/qemu/prefault.ts) against a real QEMU 10:
 * every memory backend is found (the one -m makes and one the user names), switched to
 * prealloc, and its memory is then resident, before any migration stream arrives.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { QmpClient } from '../../../src/qemu/qmp.js';
import { memoryBackends, prefaultRam } from '../../../src/qemu/prefault.js';
import { startQemu } from './qemu-process.js';

const MiB = 1024 * 1024;

/** Resident bytes of a process (smaps_rollup's Rss). */
function rssBytes(pid: number): number {
  const m = /^Rss:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
  assert.ok(m, 'no Rss line in smaps_rollup');
  return Number(m[1]) * 1024;
}

const cases = [
  { what: "the machine's RAM from -m (/objects/pc.ram)", extra: [] as string[], backend: '/objects/pc.ram' },
  { what: 'a backend the user named (-machine memory-backend=)', extra: ['-object', 'memory-backend-ram,id=guestmem,size=256M', '-machine', 'memory-backend=guestmem'], backend: '/objects/guestmem' },
];

for (const c of cases) {
  test(`prefault: ${c.what} of an incoming QEMU is preallocated and resident`, { timeout: 60_000 }, async () => {
    const q = await startQemu(['-incoming', 'defer', '-S', ...c.extra], 256);
    const qmp = await QmpClient.connect(q.qmpPath, { timeoutMs: 5000 });
    try {
      assert.deepEqual(await memoryBackends(qmp), [c.backend]);
      assert.equal(await qmp.execute('qom-get', { path: c.backend, property: 'prealloc' }), false);
      const before = rssBytes(q.proc.pid!);
      assert.ok(before < 200 * MiB, `an untouched 256 MiB guest is already ${Math.round(before / MiB)} MiB resident`);
      const r = await prefaultRam(qmp);
      assert.deepEqual(r.backends, [c.backend]);
      assert.ok(r.ms >= 0);
      assert.equal(await qmp.execute('qom-get', { path: c.backend, property: 'prealloc' }), true);
      const after = rssBytes(q.proc.pid!);
      assert.ok(after - before >= 200 * MiB, `RSS grew only from ${Math.round(before / MiB)} to ${Math.round(after / MiB)} MiB`);
      // Still a destination waiting for its stream.
      assert.equal(((await qmp.execute('query-status')) as { status: string }).status, 'inmigrate');
      // A second call finds the backend already preallocated and succeeds.
      assert.deepEqual((await prefaultRam(qmp)).backends, [c.backend]);
    } finally {
      qmp.close();
      await q.stop();
    }
  });
}
