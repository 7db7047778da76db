/** SpanFrameBuilder (the sender's pass-through): frames of glue only, the span verbatim. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { BufferPool } from '../../../src/wire/buffer-pool.js';
import { SpanFrameBuilder } from '../../../src/wire/span-frame.js';
import { FrameDecoder } from '../../../src/wire/frame-decode.js';
import { DecodePool } from '../../../src/wire/codec-pool.js';
import { WireCodes, WireError } from '../../../src/wire/errors.js';
import { FLAG_STREAM_CHAIN, FRAME_CHECKSUM_LENGTH, FRAME_HEADER_LENGTH, OFF_PAGE_COUNT, OFF_GLUE_LENGTH, OFF_GLUE_STORED, OFF_FLAGS } from '../../../src/wire/frame-format.js';
import { Xxh64, xxh64 } from '@node-rs/xxhash';
import { verifyChained } from '../../../src/wire/stream-chain.js';

/** A span of `pages` pages, each after a QEMU-like 8-byte header, plus a tail; built from one shared buffer. */
function fill(b: SpanFrameBuilder, pages: number): Buffer {
  const parts: Buffer[] = [];
  const shared = Buffer.alloc(4096 + 8);
  for (let i = 0; i < pages; i++) {
    const hdr = randomBytes(8);
    const page = randomBytes(4096);
    hdr.copy(shared, 0); page.copy(shared, 8);
    b.appendGlue(shared, 0, 8);
    b.appendPage(shared, 8);
    shared.fill(0x5a); // the builder must have copied what it keeps
    parts.push(hdr, page);
  }
  const tail = Buffer.from('tail bytes of a section');
  b.appendGlue(tail, 0, tail.length);
  parts.push(tail);
  return Buffer.concat(parts);
}

test('a pass-through frame is a frame of glue only that decodes to the span verbatim', () => {
  const b = new SpanFrameBuilder(4);
  const span = fill(b, 4);
  assert.ok(b.isFull());
  assert.equal(b.pageCount, 4);
  assert.equal(b.spanLength, span.length);
  const frame = b.take();
  assert.ok(b.isEmpty(), 'take starts a fresh frame');
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  assert.equal(frame.length, FRAME_HEADER_LENGTH + span.length + FRAME_CHECKSUM_LENGTH);
  assert.equal(dv.getUint32(OFF_PAGE_COUNT, true), 0);
  assert.equal(dv.getUint32(OFF_GLUE_LENGTH, true), span.length);
  assert.equal(dv.getUint32(OFF_GLUE_STORED, true), span.length);
  assert.equal(frame[OFF_FLAGS], 0);
  const d = new FrameDecoder().decode(frame);
  assert.equal(d.pageCount, 0);
  assert.deepEqual(Buffer.from(d.span), span);
  assert.equal(d.span.buffer, frame.buffer, 'the span is a view of the frame, not a copy');
  // The next frame is independent of the first (its buffer was not reused under it).
  const span2 = fill(b, 2);
  const frame2 = b.take();
  assert.deepEqual(Buffer.from(new FrameDecoder().decode(frame2).span), span2);
  assert.deepEqual(Buffer.from(new FrameDecoder().decode(frame).span), span);
});

test('a pass-through frame grows past its first buffer for long glue', () => {
  const b = new SpanFrameBuilder(1);
  const glue = randomBytes(3 << 20);
  b.appendGlue(glue, 0, glue.length);
  assert.deepEqual(Buffer.from(new FrameDecoder().decode(b.take()).span), glue);
});

test('a flipped byte anywhere in a pass-through frame is refused before its span is used', () => {
  const b = new SpanFrameBuilder(2);
  fill(b, 2);
  const frame = b.take();
  for (const at of [FRAME_HEADER_LENGTH, FRAME_HEADER_LENGTH + 4100, frame.length - FRAME_CHECKSUM_LENGTH - 1, frame.length - 1]) {
    const bad = Uint8Array.from(frame);
    bad[at] ^= 0x40;
    assert.throws(() => new FrameDecoder().decode(bad), (e: unknown) => e instanceof WireError && e.code === WireCodes.checksum, `offset ${at}`);
  }
});

test('DecodePool: an owned frame of glue only resolves with a view, anything else with a copy', async () => {
  const pool = new DecodePool({ threads: 1 });
  try {
    const b = new SpanFrameBuilder(2);
    const span = fill(b, 2);
    const frame = b.take();
    const owned = await pool.submit(frame, { owned: true });
    assert.equal(owned.span.buffer, frame.buffer);
    assert.deepEqual(Buffer.from(owned.span), span);
    const copied = await pool.submit(frame);
    assert.notEqual(copied.span.buffer, frame.buffer, 'without owned the caller may reuse the frame');
    assert.deepEqual(Buffer.from(copied.span), span);
  } finally {
    await pool.close();
  }
});

test('appends from the chunk between beginChunk and endChunk are copied in runs; other buffers at once', () => {
  // The sender's pattern: a reused read buffer (scribbled over after each endChunk), and pages
  // that straddled two reads assembled in the parser's own reused page buffer.
  fc.assert(
    fc.property(
      fc.array(fc.record({ len: fc.integer({ min: 0, max: 9000 }), other: fc.boolean(), split: fc.boolean() }), { minLength: 1, maxLength: 40 }),
      fc.integer({ min: 1, max: 6 }),
      (pieces, maxPages) => {
        const pool = new BufferPool(1, 4);
        const b = new SpanFrameBuilder(maxPages, pool);
        const chunk = Buffer.alloc(64 * 1024);
        const other = Buffer.alloc(9000);
        const expected: Buffer[] = [];
        const frames: Buffer[] = [];
        let at = 0;
        b.beginChunk(chunk);
        const takeOne = () => {
          const f = b.take();
          frames.push(Buffer.from(new FrameDecoder().decode(f).span));
          pool.release(f); // reused for a later frame at once: frames already taken must not change
        };
        for (const p of pieces) {
          const bytes = randomBytes(p.len);
          if (p.other) {
            bytes.copy(other);
            b.appendGlue(other, 0, p.len);
            other.fill(0xee); // the parser reuses its page buffer
          } else {
            if (at + p.len > chunk.length) {
              b.endChunk();
              chunk.fill(0xcc); // the next read overwrites the chunk
              at = 0;
              b.beginChunk(chunk);
            }
            bytes.copy(chunk, at);
            b.appendGlue(chunk, at, at + p.len);
            at += p.len;
          }
          expected.push(bytes);
          if (p.split) takeOne();
        }
        b.endChunk();
        chunk.fill(0xdd);
        takeOne();
        assert.deepEqual(Buffer.concat(frames), Buffer.concat(expected));
      },
    ),
    { numRuns: 300 },
  );
});

test('pages appended from a chunk land in the frame after their headers, also past a buffer grown for long glue', () => {
  const b = new SpanFrameBuilder(2, new BufferPool(1));
  const chunk = randomBytes(3 * (4096 + 8) + (2 << 20));
  b.beginChunk(chunk);
  b.appendGlue(chunk, 0, 8);
  b.appendPage(chunk, 8);
  b.appendGlue(chunk, 4104, 4104 + (2 << 20)); // longer than the batch's room: the buffer grows mid-run
  b.appendGlue(chunk, 4104 + (2 << 20), 4112 + (2 << 20));
  b.appendPage(chunk, 4112 + (2 << 20));
  const frame = b.take();
  b.endChunk();
  const span = new FrameDecoder().decode(frame).span;
  assert.deepEqual(Buffer.from(span), chunk.subarray(0, 4112 + (2 << 20) + 4096));
});

test('a chained pass-through frame: its checksum binds the header to the stream digest through its span', () => {
  const before = randomBytes(777); // stream bytes of earlier frames
  const b = new SpanFrameBuilder(2);
  const span = fill(b, 2);
  const running = new Xxh64();
  running.update(before);
  running.update(span);
  const frame = b.take(running.digest());
  assert.equal(frame[OFF_FLAGS], FLAG_STREAM_CHAIN);
  assert.equal(frame.length, FRAME_HEADER_LENGTH + span.length + FRAME_CHECKSUM_LENGTH);
  // Without the stream's digest a decoder cannot check it, so it refuses to hand it out.
  assert.throws(() => new FrameDecoder().decode(frame), (e: unknown) => e instanceof WireError && e.code === WireCodes.checksum);
  const d = new FrameDecoder().decode(frame, { deferChained: true });
  assert.ok(d.chained);
  assert.deepEqual(Buffer.from(d.span), span);
  const rx = new Xxh64();
  rx.update(before);
  rx.update(d.span);
  verifyChained(d.chained, rx.digest());
  // A flipped span byte, or an earlier stream byte that differs, fails the check.
  const bad = Uint8Array.from(frame);
  bad[FRAME_HEADER_LENGTH + 4100] ^= 1;
  const db = new FrameDecoder().decode(bad, { deferChained: true });
  const rb = new Xxh64();
  rb.update(before);
  rb.update(db.span);
  assert.throws(() => verifyChained(db.chained!, rb.digest()), (e: unknown) => e instanceof WireError && e.code === WireCodes.checksum);
  assert.throws(() => verifyChained(d.chained!, xxh64(Buffer.concat([randomBytes(777), span]), 0n)), (e: unknown) => e instanceof WireError && e.code === WireCodes.checksum);
  // The checksum covers the header too.
  const header = Uint8Array.from(d.chained.header);
  header[OFF_GLUE_LENGTH] ^= 1;
  assert.throws(() => verifyChained({ header, checksum: d.chained!.checksum }, rx.digest()), (e: unknown) => e instanceof WireError && e.code === WireCodes.checksum);
});

test('STREAM_CHAIN is refused on a frame with pages or with zstd glue (R5)', () => {
  const b = new SpanFrameBuilder(2);
  fill(b, 2);
  const frame = Uint8Array.from(b.take(123n));
  const dv = new DataView(frame.buffer);
  // Claim pages: the flag check comes before the page table's.
  dv.setUint32(OFF_PAGE_COUNT, 1, true);
  assert.throws(() => new FrameDecoder().decode(frame, { deferChained: true }), (e: unknown) => e instanceof WireError && e.code === WireCodes.reserved);
});
