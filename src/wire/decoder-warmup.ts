/**
 * Start-up warm-up of the receiver's decode paths, the counterpart of src/wire/encoder-warmup.ts.
 *
 * Why: a decode worker otherwise meets its first compressed frame cold, in the middle of the
 * migration: V8 compiles the frame decoder and the codecs on the same two cores as both QEMUs.
 * On a 10 Gbit/s link the sender compresses only its first few batches (or none), so on that
 * link this was all the decoding there was, paid at full price (docs/benchmarks.md "Session 12").
 */
import { xxh64 } from '@node-rs/xxhash';
import { N_CHOICES } from '../codec/choices.js';
import { warmupBatch } from './encoder-warmup.js';
import { FrameEncoder, encodeJob } from './frame-encode.js';
import { FrameDecoder } from './frame-decode.js';
import { SpanFrameBuilder } from './span-frame.js';
import { verifyChained } from './stream-chain.js';

/** Decode frames of every codec choice (and a raw one) with `dec` until V8 has optimised its paths; a few tens of ms. */
export function warmUpDecoder(dec: FrameDecoder, rounds = 60): void {
  const batch = warmupBatch();
  const e = new FrameEncoder({ policy: 'adaptive' });
  const frames: Uint8Array[] = [];
  for (let k = 0; k < N_CHOICES; k++) frames.push(Uint8Array.from(encodeJob(e, { batch, plan: [k, (k + 1) % N_CHOICES, (k + 2) % N_CHOICES], probe: false })));
  frames.push(Uint8Array.from(encodeJob(e, { batch, plan: [0, 0, 0], probe: false })));
  for (let r = 0; r < rounds; r++) dec.decode(frames[r % frames.length]);
}

/**
 * The receiver's own thread decodes frames of glue only (pass-through frames, nearly every frame
 * on a fast link) and checks their chained checksums: run that path on synthetic frames.
 */
export function warmUpChainedDecode(rounds = 200): void {
  const b = new SpanFrameBuilder(4);
  const span = new Uint8Array(4 * 4104);
  for (let i = 0; i < span.length; i++) span[i] = (i * 31) & 0xff;
  const dec = new FrameDecoder();
  for (let r = 0; r < rounds; r++) {
    b.appendGlue(span, 0, span.length);
    const digest = xxh64(span, BigInt(r));
    const d = dec.decode(b.take(digest), { deferChained: true });
    verifyChained(d.chained!, digest);
  }
}
