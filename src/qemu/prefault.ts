/**
 * Prefaulting a destination QEMU's RAM before the transfer starts.
 *
 * An incoming QEMU's guest RAM is untouched anonymous memory. Loading the stream faults it in
 * as it goes, and QEMU marks guest RAM MADV_HUGEPAGE, so the first page written in each 2 MiB
 * of guest-physical space makes the kernel allocate and clear a whole huge page — on the
 * loader's thread, in the middle of the migration. Measured on this project's 2-core test host
 * (docs/benchmarks.md "Session 11"): `clear_page_erms` was the destination QEMU's top symbol in
 * a plain migration, ~0.9 s of kernel time for a 512 MiB guest, more than its whole share of
 * the transfer. QEMU can do that work up front: a memory backend's `prealloc` property may be
 * switched on at run time (backends/hostmem.c), and the machine's RAM is such a backend
 * (`/objects/pc.ram` for `-m`, or the `-machine memory-backend=` the user named).
 *
 * The cost moves, it does not vanish: the destination's RAM is committed in full before the
 * migration (zero pages the loader would have skipped included), and the prealloc takes
 * about a second per 512 MiB on that host. It runs while the source VM keeps running, before
 * `migrate` is issued, so neither the guest's pause nor QEMU's total time contains it.
 */
import type { QmpClient } from './qmp.js';

interface QomProperty {
  name: string;
  type: string;
}

/** QOM paths of every memory backend under /objects (where -m and -object put them). */
export async function memoryBackends(qmp: QmpClient): Promise<string[]> {
  const children = (await qmp.execute('qom-list', { path: '/objects' })) as QomProperty[];
  return children.filter((c) => /^child<memory-backend-/.test(c.type)).map((c) => `/objects/${c.name}`);
}

export interface PrefaultResult {
  /** The backends switched to prealloc (those already preallocated included). */
  backends: string[];
  ms: number;
}

/** Switches every memory backend of `qmp`'s QEMU to prealloc, which touches all its pages. */
export async function prefaultRam(qmp: QmpClient, timeoutMs = 600_000): Promise<PrefaultResult> {
  const t0 = Date.now();
  const backends = await memoryBackends(qmp);
  for (const path of backends) {
    await qmp.execute('qom-set', { path, property: 'prealloc', value: true }, { timeoutMs });
  }
  return { backends, ms: Date.now() - t0 };
}
