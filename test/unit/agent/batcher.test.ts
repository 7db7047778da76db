/** Batcher: batches go to the workers or pass through, and frames come out in stream order. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Batcher } from '../../../src/agent/batcher.js';
import { EncodePool } from '../../../src/wire/codec-pool.js';
import { FrameDecoder } from '../../../src/wire/frame-decode.js';

test('Batcher: a pass-through frame submitted after a worker batch is delivered after it; spans exact', async () => {
  // A slow link at first, so batch 0 goes to a worker (compressed); then a fast one.
  const pool = new EncodePool({ policy: 'adaptive', threads: 1, priorLinkBps: 1e6 });
  try {
    const frames: Uint8Array[] = [];
    const errors: unknown[] = [];
    const b = new Batcher(pool, 4, () => b.submit(), (f) => frames.push(f), (e) => errors.push(e));
    const spans: Buffer[] = [];
    const batch = () => {
      const parts: Buffer[] = [];
      for (let i = 0; i < 4; i++) {
        const hdr = randomBytes(8);
        const page = Buffer.concat([Buffer.alloc(2048), randomBytes(2048)]);
        b.glue(hdr, 0, 8);
        b.page(page, 0, i * 4096); // the 4th page fills the batch: onFull submits it
        parts.push(hdr, page);
      }
      spans.push(Buffer.concat(parts));
    };
    batch(); // batch 0: a plan that compresses, so it goes to a worker
    pool.model!.setLink(1e12);
    batch(); // batch 1: all raw on this link, no probe due: a pass-through frame, ready at once
    await pool.drained();
    assert.deepEqual(errors, []);
    assert.equal(pool.passThroughFrames, 1);
    assert.equal(frames.length, 2);
    const dec = new FrameDecoder();
    const d0 = dec.decode(frames[0]);
    assert.equal(d0.pageCount, 4, 'the worker frame first (it has a page table)');
    assert.deepEqual(Buffer.from(d0.span), spans[0]);
    const d1 = dec.decode(frames[1]);
    assert.equal(d1.pageCount, 0, 'then the pass-through frame (glue only)');
    assert.deepEqual(Buffer.from(d1.span), spans[1]);
    assert.equal(b.pending, false);
  } finally {
    await pool.close();
  }
});

test('Batcher: a pass-through batch with a probe due goes out at once, and a copy of it is probed beside it', async () => {
  const pool = new EncodePool({ policy: 'adaptive', threads: 1, priorLinkBps: 300e6 });
  try {
    await pool.ready();
    pool.model!.setReceiverLoad(1, 0); // the receiver sets the pace: all raw, probes still due
    const frames: Uint8Array[] = [];
    const errors: unknown[] = [];
    const b = new Batcher(pool, 4, () => b.submit(), (f) => frames.push(f), (e) => errors.push(e));
    const parts: Buffer[] = [];
    for (let i = 0; i < 4; i++) {
      const hdr = randomBytes(8);
      const page = Buffer.concat([Buffer.alloc(2048), randomBytes(2048)]);
      b.glue(hdr, 0, 8);
      b.page(page, 0, i * 4096);
      parts.push(hdr, page);
    }
    await pool.drained();
    assert.equal(frames.length, 1);
    const d = new FrameDecoder().decode(frames[0]);
    assert.equal(d.pageCount, 0, 'a pass-through frame (glue only)');
    assert.deepEqual(Buffer.from(d.span), Buffer.concat(parts));
    // The probe copy reaches the model once the worker is done with it.
    for (let i = 0; i < 200 && Object.keys(pool.model!.snapshot().measured).length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    assert.ok(Object.keys(pool.model!.snapshot().measured).length > 0, 'measurements from the probe');
    assert.equal(pool.model!.snapshot().probes, 1);
    assert.deepEqual(errors, []);
  } finally {
    await pool.close();
  }
});

test('Batcher: pass-through frames are cut at a batch\'s bytes inside one long run of glue (zero-page records)', async () => {
  const pool = new EncodePool({ policy: 'raw', threads: 1 });
  try {
    const frames: Uint8Array[] = [];
    const errors: unknown[] = [];
    const b = new Batcher(pool, 4, () => b.submit(), (f) => frames.push(f), (e) => errors.push(e));
    const glue = randomBytes(Math.round(3.5 * 4 * 4096)); // 3.5 frames' worth of span, one call
    const page = randomBytes(4096);
    b.glue(glue, 0, glue.length);
    b.page(page, 0, 0);
    b.submit();
    await pool.drained();
    assert.deepEqual(errors, []);
    const dec = new FrameDecoder();
    const spans = frames.map((f) => Buffer.from(dec.decode(f).span));
    assert.equal(frames.length, 4);
    for (const sp of spans.slice(0, 3)) assert.equal(sp.length, 4 * 4096, 'full frames hold exactly a batch\'s bytes');
    assert.deepEqual(Buffer.concat(spans), Buffer.concat([glue, page]), 'the stream, byte for byte, in order');
  } finally {
    await pool.close();
  }
});

test('Batcher + StreamDigest: chained pass-through frames verify against the receiver\'s running digest, whatever the chunking', async () => {
  const { synthStream } = await import('../../../src/qemu/stream-synth.js');
  const { QemuStreamParser } = await import('../../../src/qemu/stream-parser.js');
  const { StreamDigest } = await import('../../../src/agent/stream-digest.js');
  const { verifyChained } = await import('../../../src/wire/stream-chain.js');
  const { Xxh64, xxh64 } = await import('@node-rs/xxhash');
  const stream = synthStream({ sections: 3, recordsPerSection: 200, pageRun: 5, zeroRun: 7 });
  for (const size of [4097, 65536 + 3, 12_345, 1 << 20]) {
    const pool = new EncodePool({ policy: 'raw', threads: 1 });
    try {
      const frames: Uint8Array[] = [];
      const errors: unknown[] = [];
      const digest = new StreamDigest();
      const b = new Batcher(pool, 16, () => b.submit(), (f) => frames.push(Uint8Array.from(f)), (e) => errors.push(e), digest);
      const parser = new QemuStreamParser(b);
      const read = Buffer.alloc(size); // QEMU's socket's reused read buffer
      for (let at = 0, k = 0; at < stream.length; at += size, k++) {
        const n = Math.min(size, stream.length - at);
        read.set(stream.subarray(at, at + n));
        const chunk = read.subarray(0, n);
        digest.beginChunk(chunk);
        b.beginChunk(chunk);
        parser.push(chunk);
        digest.endChunk(b.handedOut);
        b.endChunk();
        read.fill(0x5a);
        if (k % 2 === 1) b.submit(); // the flush timer between chunks, the parser maybe holding a page
      }
      parser.end();
      b.submit();
      await pool.drained();
      assert.deepEqual(errors, []);
      // The receiver's side: decode, add the span to the running digest, then check the chain.
      const dec = new FrameDecoder();
      const running = new Xxh64();
      const spans: Buffer[] = [];
      for (const f of frames) {
        const d = dec.decode(f, { deferChained: true });
        assert.ok(d.chained, 'a pass-through frame carries a chained checksum');
        running.update(d.span);
        verifyChained(d.chained, running.digest());
        spans.push(Buffer.from(d.span));
      }
      assert.deepEqual(Buffer.concat(spans), Buffer.from(stream), `chunks of ${size}: the stream, byte for byte`);
      assert.equal(digest.final(), xxh64(stream, 0n));
    } finally {
      await pool.close();
    }
  }
});
