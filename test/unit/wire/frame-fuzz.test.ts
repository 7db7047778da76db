import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameEncoder } from '../../../src/wire/frame-encode.js';
import { FrameDecoder } from '../../../src/wire/frame-decode.js';
import { MecomError } from '../../../src/errors.js';
import { sampleBatch } from './helpers.js';

const ITERATIONS = Number(process.env.MECOM_FUZZ_ITERATIONS ?? 100000);

/** xorshift32, deterministic so a failure can be replayed from its iteration number. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s; };
}

test(`fuzz: ${ITERATIONS} mutated frames throw a MecomError or return the exact span`, () => {
  const { batch, span } = sampleBatch(6);
  const frames = (['adaptive', 'raw', 'wkdm', 'lz4', 'zstd', 'lz4-group', 'zstd-group'] as const).map((policy) => new FrameEncoder({ policy }).encode(batch));
  // Mixed: per-page codecs and both group blocks in one frame.
  frames.push(new FrameEncoder({ policy: 'adaptive' }).encode(batch, { plan: [4, 5, 0] }));
  frames.push(new FrameEncoder({ policy: 'adaptive' }).encode(batch, { plan: [5, 1, 4] }));
  const dec = new FrameDecoder();
  const r = rng(0x5eed);
  const expected = Buffer.from(span);
  let ok = 0;
  let rejected = 0;
  for (let it = 0; it < ITERATIONS; it++) {
    const base = frames[it % frames.length];
    const kind = r() % 6;
    let f: Uint8Array;
    if (kind === 0) {
      f = base.subarray(0, r() % base.length); // truncation
    } else {
      f = Uint8Array.from(base);
      const flips = 1 + (r() % 4);
      for (let k = 0; k < flips; k++) {
        // Bias mutations towards the header and page table, where the rules live.
        const pos = kind <= 2 ? r() % Math.min(f.length, 24 + 16 * 9) : r() % f.length;
        if (kind === 3) f[pos] = r() & 0xff;
        else if (kind === 4) f[pos] ^= 1 << (r() & 7);
        else f[pos] = [0, 0xff, 0x80, 1, 0x7f][r() % 5];
      }
    }
    try {
      const d = dec.decode(f);
      assert.ok(Buffer.from(d.span.buffer, d.span.byteOffset, d.span.length).equals(expected), `iteration ${it} returned wrong bytes`);
      ok++;
    } catch (err) {
      if (!(err instanceof MecomError)) assert.fail(`iteration ${it}: ${String((err as Error)?.stack ?? err)}`);
      rejected++;
    }
  }
  assert.equal(ok + rejected, ITERATIONS);
});
