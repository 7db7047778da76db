/**
 * Warm-up of the sender's per-page path (parser, batcher, pass-through frame builder) before
 * QEMU connects, the way the workers warm up their encoders (src/wire/encoder-warmup.ts).
 *
 * Why: V8 optimises a hot function on background threads while the program runs. Without a
 * warm-up, that compilation happens during the migration's first hundred megabytes, on the
 * same two cores as both QEMUs: measured on a 10 Gbit/s link, idle guest, 100 MB stream, about
 * 0.1 s of CPU on V8's threads while the sender's main thread used 0.16 s
 * (docs/benchmarks.md "Session 8").
 *
 * The run uses its own parser and batcher and a stand-in for the encode pool that sends most
 * batches as pass-through frames, some with a probe copy, and some as worker batches (resolved
 * at once, not encoded), so
 * nothing of it reaches the real pool, its counters or the cost model.
 */
import { QemuStreamParser } from '../qemu/stream-parser.js';
import { synthStream } from '../qemu/stream-synth.js';
import type { Batch } from '../wire/batch.js';
import type { BatchRoute } from '../wire/codec-pool.js';
import { Batcher, type FrameSubmitter } from './batcher.js';
import { StreamDigest } from './stream-digest.js';
import { settleDetachProtector } from '../wire/detach-protector.js';
import { CostModel } from '../codec/cost-model.js';

/**
 * A stand-in pool: every `poolEvery`-th batch goes the worker way, every `poolEvery`-th + 1
 * passes through with a probe copy, the rest pass through.
 */
class WarmupSubmitter implements FrameSubmitter {
  private n = 0;
  constructor(private readonly poolEvery: number) {}
  nextRoute(): BatchRoute {
    const k = ++this.n % this.poolEvery;
    return k === 0 ? 'pool' : k === 1 ? 'pass-probe' : 'pass';
  }
  submitAside(batch: Batch): Promise<Batch | undefined> {
    return Promise.resolve(batch);
  }
  submitFrame(frame: Uint8Array): Promise<Uint8Array> {
    return Promise.resolve(frame);
  }
  submitReturning(batch: Batch): Promise<{ frame: Uint8Array; batch: Batch }> {
    return Promise.resolve({ frame: batch.glue, batch });
  }
}

export interface WarmupResult {
  passes: number;
  bytes: number;
  frames: number;
  ms: number;
}

/**
 * A PC guest's RAM blocks as QEMU 10 names them (a recorded memwrite migration's MEM_SIZE list):
 * records that switch block name one of these, of several lengths.
 */
const WARMUP_BLOCKS = ['pc.ram', '0000:00:02.0/vga.vram', '/rom@etc/acpi/tables', 'pc.bios', '0000:00:03.0/e1000.rom', 'pc.rom'];

/**
 * Push a synthetic stream through the sender's path in chunks of several sizes (a page split
 * across chunks included) for about `budgetMs`, at least one pass. Resolves once the frames
 * of the last pass were delivered.
 */
export async function warmUpStreamPath(batchPages: number, budgetMs = 60): Promise<WarmupResult> {
  // Batches will move to workers (detached here): see src/wire/detach-protector.ts.
  settleDetachProtector();
  // Runs of pages and zero pages of mixed lengths over several blocks, as in a live stream (a
  // recorded one names nine blocks and mixes lone pages with long runs). The first pass over a
  // recorded stream still costs ~1.5-2x the next after this warm-up, as after the one-block,
  // fixed-run stream before it; a longer warm-up did not change that (docs/benchmarks.md
  // "Session 12").
  // A Buffer, as the socket's reads are: code optimised for Uint8Array chunks is thrown away
  // (a "wrong map" deopt) at the first real one.
  const synth = synthStream({ sections: 4, recordsPerSection: 512, pageRun: 64, zeroRun: 96, blocks: WARMUP_BLOCKS, blockEvery: 173, mixedRuns: true });
  const stream = Buffer.from(synth.buffer, synth.byteOffset, synth.byteLength);
  const chunkSizes = [800 * 1024, 65536 + 4100, 1 << 20, 12_345, 256 * 1024 + 17];
  const t0 = performance.now();
  let bytes = 0;
  let frames = 0;
  let pass = 0;
  for (; pass === 0 || performance.now() - t0 < budgetMs; pass++) {
    const digest = new StreamDigest();
    let batcher: Batcher;
    const deliveredAll = new Promise<void>((resolve, reject) => {
      batcher = new Batcher(new WarmupSubmitter(8), batchPages, () => batcher.submit(), (f) => {
        frames++;
        batcher.release(f);
      }, reject, digest);
      const parser = new QemuStreamParser(batcher);
      const size = chunkSizes[pass % chunkSizes.length];
      for (let at = 0; at < stream.length; at += size) {
        const chunk = stream.subarray(at, Math.min(stream.length, at + size));
        digest.beginChunk(chunk);
        batcher.beginChunk(chunk);
        parser.push(chunk);
        digest.endChunk(batcher.handedOut);
        batcher.endChunk();
      }
      parser.end();
      batcher.submit();
      // Frames resolve in submission order; one more turn settles the last of them.
      setImmediate(resolve);
    });
    await deliveredAll;
    digest.final();
    bytes += stream.length;
  }
  return { passes: pass, bytes, frames, ms: performance.now() - t0 };
}

/**
 * Run the cost model's re-planning the way the sender's meters drive it (link, QEMU's rate, the
 * host's cores, the receiver's load, every 10 ms), on a throwaway model, so its plan search is
 * compiled before QEMU connects: measured on a 10 Gbit/s memwrite migration, V8's threads
 * compiled it during the migration (evaluatePlan, forEachPlan, ... in `--trace-opt`).
 */
export function warmUpCostModel(threads: number, rounds = 200): void {
  const m = new CostModel({ threads });
  for (let i = 0; i < rounds; i++) {
    const k = i % 8;
    m.setLink(10 ** (6 + (i % 5)) * (1 + k / 8), i % 3 !== 0);
    m.setSource(k < 4 ? Infinity : 50e6 * (k + 1));
    m.setCpuAvailable(0.2 + (i % 9) / 10);
    m.setReceiverLoad(k < 5 ? 0.1 : 0.9, k === 7 ? 0.5 : 0);
    m.noteSubmitted(m.shouldProbe());
    m.plan();
    if (k === 0) m.snapshot();
  }
}
