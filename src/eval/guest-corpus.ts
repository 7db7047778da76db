/**
 * A corpus source from a live guest's RAM: boot the test guest with the `compile` workload
 * (many small files written and read in tmpfs: text, binaries, page cache, kernel data), let it
 * run, and dump its RAM with QMP `pmemsave`. Needs QEMU and the guest kit (`make guest`).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PAGE_SIZE } from '../codec/ids.js';
import { launchGuest } from '../guest/vm.js';
import { QmpClient } from '../qemu/qmp.js';
import type { CorpusSource } from './corpus.js';

export const GUEST_CORPUS_MIB = 256;
/** How long the workload runs before the dump: long enough to fill tmpfs and the page cache. */
const SETTLE_MS = 8000;
/** Pages are taken in runs of this many at even strides when the dump holds more than asked. */
const RUN_PAGES = 64;

export function guestSource(memMiB: number = GUEST_CORPUS_MIB): CorpusSource {
  return {
    name: 'guest-ram',
    async load(maxPages: number): Promise<Uint8Array> {
      const dir = mkdtempSync(path.join(tmpdir(), 'mecom-corpus-'));
      const vm = await launchGuest({ name: 'corpus', dir, memMiB, workload: 'compile' });
      try {
        await sleep(SETTLE_MS);
        const qmp = await QmpClient.connect(vm.qmpPath);
        const file = path.join(dir, 'ram.bin');
        try {
          await qmp.execute('stop');
          await qmp.execute('pmemsave', { val: 0, size: memMiB * 1024 * 1024, filename: file }, { timeoutMs: 60000 });
        } finally {
          qmp.close();
        }
        return evenRuns(new Uint8Array(readFileSync(file)), maxPages);
      } finally {
        await vm.kill();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** At most maxPages pages of `dump`, as runs of RUN_PAGES spread evenly over the whole dump. */
export function evenRuns(dump: Uint8Array, maxPages: number): Uint8Array {
  const total = Math.floor(dump.length / PAGE_SIZE);
  if (total <= maxPages) return dump.subarray(0, total * PAGE_SIZE);
  const runs = Math.max(1, Math.floor(maxPages / RUN_PAGES));
  const stride = Math.floor(total / runs);
  const out = new Uint8Array(runs * RUN_PAGES * PAGE_SIZE);
  for (let r = 0; r < runs; r++) {
    const from = r * stride * PAGE_SIZE;
    out.set(dump.subarray(from, from + RUN_PAGES * PAGE_SIZE), r * RUN_PAGES * PAGE_SIZE);
  }
  return out;
}
