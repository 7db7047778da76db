/**
 * Start-up warm-up of the frame encoder's paths, so the cost model's first measurements time
 * optimised code (see `warmUpEncoders`).
 */
import { PAGE_SIZE } from '../codec/ids.js';
import { N_CHOICES } from '../codec/choices.js';
import type { Batch } from './batch.js';
import { FrameEncoder, encodeJob, type EncodeJob } from './frame-encode.js';

/**
 * Run every plan path (each codec choice, probes, and the all-raw path) on synthetic pages until
 * V8 has optimised them, so the cost model's first measurements time optimised code rather than
 * the interpreter: a codec the plan does not use runs only in probes and would otherwise stay
 * cold and look many times slower than it is. Takes a few tens of ms; worker threads call it at
 * start.
 */
export function warmUpEncoders(): void {
  const made = warmupBatch();
  // Jobs reach a worker through postMessage: a structured clone, whose objects (the job, its
  // batch, its plan) have maps of their own, and are encoded through `encodeJob`, as here. The
  // fields as the pool fills them (probeGroupPages undefined unless probing): code optimised for
  // other shapes was thrown away at the first real batch ("wrong map").
  const job = (plan: number[], probe: boolean): EncodeJob => structuredClone({ batch: made, plan, probe, probeGroupPages: probe ? 4096 : undefined });
  const e = new FrameEncoder({ policy: 'adaptive' });
  for (let r = 0; r < 24; r++) encodeJob(e, job([r % N_CHOICES, (r + 2) % N_CHOICES, (r + 4) % N_CHOICES], r % 4 === 0));
  const raw = [job([0, 0, 0], false), job([0, 0, 0], true)];
  for (let r = 0; r < 150; r++) encodeJob(e, raw[r % 15 === 0 ? 1 : 0]);
}

/** 64 synthetic pages of every class (zero, pointer-like, text-like, noise) with QEMU-like page headers as glue. */
export function warmupBatch(): Batch {
  const n = 64;
  const pages = new Uint8Array(n * PAGE_SIZE);
  const w = new Uint32Array(pages.buffer);
  let x = 0x9e3779b9;
  for (let i = 0; i < w.length; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    const page = i >> 10;
    // Zero pages, pointer-like words, text-like bytes and noise: every class appears.
    const k = page % 4;
    w[i] = k === 0 ? 0 : k === 1 ? 0x7f000000 + ((x >>> 0) & 0xfff0) : k === 2 ? (((x >>> 0) & 0x3f3f3f3f) | 0x20202020) >>> 0 : x >>> 0;
  }
  // QEMU's 8-byte page headers as glue, as in every real batch (the glue has a path of its own).
  const glue = new Uint8Array(n * 8);
  const gv = new DataView(glue.buffer);
  for (let i = 0; i < n; i++) gv.setUint32(i * 8 + 4, (i * PAGE_SIZE) | 0x28);
  return { pageCount: n, pages, addrs: Float64Array.from({ length: n }, (_, i) => i * PAGE_SIZE), glue, glueLength: glue.length, glueBefore: new Uint32Array(n).fill(8) };
}
