/**
 * Probes (docs/codec.md "Cost model"): on a batch already encoded with the plan, measure the
 * choices the plan did not use, on a sample of each page class, and the whole-batch groups.
 * The results go into the batch's EncodeMeasure only; the frame is not touched (the probe's
 * group blocks live in a GroupCompressor of their own, never the frame's).
 */
import { performance } from 'node:perf_hooks';
import { CodecId, GROUP_LZ4, GROUP_ZSTD, PAGE_SIZE } from '../codec/ids.js';
import type { PageEncoder } from '../codec/page-encoder.js';
import { GROUP_CHOICES, N_CHOICES, N_CLASSES, UNIFORM_WIDTH, cellIndex, type EncodeMeasure, type Plan } from '../codec/choices.js';
import type { Batch } from './batch.js';
import { GROUP_BLOCK_PREFIX } from './frame-format.js';
import type { GroupCompressor } from './group-compress.js';

/** Pages per class measured with every alternative when probing. */
export const PROBE_PAGES = 8;
/** Pages per class for probing the group settings. */
export const PROBE_GROUP_PAGES = 32;

const CHOICE_RAW = 0, CHOICE_LZ4G = 4, CHOICE_ZSTDG = 5;
const CHOICE_CODEC = [CodecId.Raw, CodecId.Wkdm, CodecId.Lz4, CodecId.Zstd];

/** What a probe works with: the frame encoder's page encoder, the page classes it found, group buffers. */
export interface ProbeContext {
  pe: PageEncoder;
  /** Page class of each page of the batch (-1 zero/fill, -2 unclassified). */
  cls: Int8Array;
  groups: GroupCompressor;
}

/** Record a whole-batch group measurement (see EncodeMeasure.uniform). */
export function noteUniform(m: EncodeMeasure, k: number, pages: number, outBytes: number, seconds: number): void {
  const g = GROUP_CHOICES.indexOf(k as 4 | 5);
  if (g < 0) return;
  m.uniform ??= new Array(GROUP_CHOICES.length * UNIFORM_WIDTH).fill(0);
  const o = g * UNIFORM_WIDTH;
  m.uniform[o] += pages;
  m.uniform[o + 1] += outBytes;
  m.uniform[o + 2] += seconds;
}

/**
 * Measure the choices the plan did not use, on up to PROBE_PAGES pages of each class (groups on
 * up to `groupPages`), then every classified page in one group per group codec. Returns the
 * seconds it took.
 */
export function probeAlternatives(ctx: ProbeContext, batch: Batch, plan: Plan, m: EncodeMeasure, groupPages: number): number {
  const t0 = performance.now();
  const { pe, cls, groups } = ctx;
  for (let c = 0; c < N_CLASSES; c++) {
    // Group settings gain from a wide window, so they are probed on more pages than per-page
    // codecs (a group of 8 pages would understate what a batch-wide group achieves).
    const all: number[] = [];
    for (let i = 0; i < batch.pageCount && all.length < groupPages; i++) if (cls[i] === c) all.push(i);
    if (all.length === 0) continue;
    const idx = all.slice(0, PROBE_PAGES);
    for (let k = 0; k < N_CHOICES; k++) {
      if (k === plan[c]) continue;
      const cell = cellIndex(c, k);
      if (k === CHOICE_RAW) {
        m.cells[cell] += idx.length;
        m.cells[cell + 1] += idx.length * PAGE_SIZE;
        continue;
      }
      if (k === CHOICE_LZ4G || k === CHOICE_ZSTDG) {
        const set = new Set(all);
        const ts = performance.now();
        const src = groups.gather(batch, all.length, (i) => set.has(i));
        const stored = groups.compress(k === CHOICE_LZ4G ? GROUP_LZ4 : GROUP_ZSTD, src);
        const dt = (performance.now() - ts) / 1000;
        const ok = stored > 0 && stored + GROUP_BLOCK_PREFIX < src.length;
        m.cells[cell] += all.length;
        m.cells[cell + 1] += ok ? stored + GROUP_BLOCK_PREFIX : src.length;
        m.cells[cell + 2] += dt;
        continue;
      }
      for (const i of idx) {
        pe.classify(batch.pages, i * PAGE_SIZE);
        const ts = performance.now();
        pe.encodeAs(CHOICE_CODEC[k]);
        const dt = (performance.now() - ts) / 1000;
        m.cells[cell] += 1;
        m.cells[cell + 1] += pe.length;
        m.cells[cell + 2] += dt;
      }
    }
  }
  // Whole-batch groups (every classified page of the batch: a sample would understate the
  // window's gain, and the estimate must match what the plan would send), unless the plan is
  // already one. Costs a batch's worth of group compression; the probe budget rations it.
  let total = 0;
  for (let i = 0; i < batch.pageCount; i++) if (cls[i] >= 0) total++;
  for (const k of GROUP_CHOICES) {
    if (total === 0 || plan.every((p, c) => p === k || m.classPages[c] === 0)) continue;
    const ts = performance.now();
    const src = groups.gather(batch, total, (i) => cls[i] >= 0);
    const stored = groups.compress(k === CHOICE_LZ4G ? GROUP_LZ4 : GROUP_ZSTD, src);
    const dt = (performance.now() - ts) / 1000;
    const ok = stored > 0 && stored + GROUP_BLOCK_PREFIX < src.length;
    noteUniform(m, k, src.length / PAGE_SIZE, ok ? stored + GROUP_BLOCK_PREFIX : src.length, dt);
  }
  return (performance.now() - t0) / 1000;
}
