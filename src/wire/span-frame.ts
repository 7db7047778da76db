/**
 * SpanFrameBuilder: the sender's pass-through. A batch the cost model would send all raw is
 * written as a frame of glue only (page count 0, docs/frame-format.md "Frames of glue only"):
 * the stream span verbatim, between the 24-byte header and the checksum. Built on the producer's
 * own thread straight from QEMU's chunks: one copy, no page table, no worker round
 * trip, and with a chained checksum (src/wire/stream-chain.ts) no hash of its own; and the
 * receiver passes the verified span on as a view of the frame, without a copy.
 *
 * On a link faster than the codecs, the CPU per byte is what limits a migration, and an all-raw
 * frame through the worker pool cost about three copies and two thread hops per byte on the
 * sender and two copies on the receiver.
 */
import { xxh64 } from '@node-rs/xxhash';
import { PAGE_SIZE } from '../codec/ids.js';
import {
  FLAG_STREAM_CHAIN, FRAME_CHECKSUM_LENGTH, FRAME_HEADER_LENGTH, FRAME_MAGIC_U32, FRAME_MAX_GLUE, FRAME_VERSION,
  OFF_FLAGS, OFF_GLUE_LENGTH, OFF_GLUE_STORED, OFF_LENGTH, OFF_MAGIC, OFF_PAGE_COUNT, OFF_RESERVED, OFF_VERSION,
} from './frame-format.js';
import { WireCodes, WireError } from './errors.js';
import type { BufferPool } from './buffer-pool.js';
import { chainedChecksum } from './stream-chain.js';

/** Room for a batch's pages plus QEMU's page headers (8 bytes each, more for a block name). */
function initialCapacity(maxPages: number): number {
  return FRAME_HEADER_LENGTH + maxPages * (PAGE_SIZE + 64) + FRAME_CHECKSUM_LENGTH;
}

export class SpanFrameBuilder {
  readonly maxPages: number;
  /** Span bytes at which a frame is full, pages or not (a batch's worth of pages). */
  readonly maxSpan: number;
  /** Size of each new frame buffer: a batch of pages with their headers (it grows when glue runs long). */
  private readonly capacity: number;
  private readonly pool: BufferPool | undefined;
  private buf: Buffer;
  /** Span bytes held (the frame's glue length), `written` of them copied, the rest pending. */
  private len = 0;
  private written = 0;
  private pages = 0;
  /**
   * The caller's chunk that stays intact until `endChunk` (see `beginChunk`), and the run of it
   * not copied yet: QEMU's page headers and pages lie back to back in it, so one copy per run
   * replaces two small copies per page.
   */
  private stable: Uint8Array | null = null;
  private pendStart = 0;
  private pendEnd = 0;

  /** `pool`: where frame buffers come from; hand taken frames back to it once written. */
  constructor(maxPages: number, pool?: BufferPool) {
    if (!Number.isInteger(maxPages) || maxPages < 1) throw new RangeError(`maxPages must be a positive integer, got ${maxPages}`);
    this.maxPages = maxPages;
    this.maxSpan = maxPages * PAGE_SIZE;
    this.capacity = initialCapacity(maxPages);
    this.pool = pool;
    this.buf = this.newBuffer();
  }

  get pageCount(): number {
    return this.pages;
  }
  /** Stream bytes held. */
  get spanLength(): number {
    return this.len;
  }
  isEmpty(): boolean {
    return this.len === 0;
  }
  /**
   * Full at `maxPages` pages or `maxSpan` bytes: a run of zero-page records is all glue (9 bytes
   * a page), and a frame that outgrew its buffer would be copied into a bigger one.
   */
  isFull(): boolean {
    return this.pages >= this.maxPages || this.len >= this.maxSpan;
  }
  /** Span bytes that still fit before the frame is full. */
  room(): number {
    return Math.max(0, this.maxSpan - this.len);
  }

  /**
   * `chunk` will not change until `endChunk`: appends from it may be copied later, in runs.
   * Bytes from any other buffer are copied at once.
   */
  beginChunk(chunk: Uint8Array): void {
    this.flushPending();
    this.stable = chunk;
  }

  /** The chunk from `beginChunk` may change now: copy what is pending of it. */
  endChunk(): void {
    this.flushPending();
    this.stable = null;
  }

  /** Copy stream bytes src[start..end) that are not a page payload. */
  appendGlue(src: Uint8Array, start: number, end: number): void {
    this.append(src, start, end);
  }

  /** Copy the 4096-byte page at src[start..). Its address is in the glue before it (QEMU's header). */
  appendPage(src: Uint8Array, start: number): void {
    this.append(src, start, start + PAGE_SIZE);
    this.pages++;
  }

  /**
   * Finish the frame: header, checksum. The returned bytes are the caller's (a fresh buffer is
   * started for the next frame, since the socket may still hold this one).
   *
   * `streamDigest`: the digest of the whole stream through this frame's last byte. Given, the
   * frame gets a chained checksum (src/wire/stream-chain.ts) and this builds it without a pass
   * over the span; without it, the checksum hashes the frame.
   */
  take(streamDigest?: bigint): Uint8Array {
    this.flushPending();
    const total = FRAME_HEADER_LENGTH + this.len + FRAME_CHECKSUM_LENGTH;
    const out = this.buf;
    const dv = new DataView(out.buffer, out.byteOffset, total);
    dv.setUint32(OFF_MAGIC, FRAME_MAGIC_U32, true);
    dv.setUint32(OFF_LENGTH, total, true);
    out[OFF_VERSION] = FRAME_VERSION;
    out[OFF_FLAGS] = streamDigest === undefined ? 0 : FLAG_STREAM_CHAIN;
    dv.setUint16(OFF_RESERVED, 0, true);
    dv.setUint32(OFF_PAGE_COUNT, 0, true);
    dv.setUint32(OFF_GLUE_LENGTH, this.len, true);
    dv.setUint32(OFF_GLUE_STORED, this.len, true);
    const sumAt = total - FRAME_CHECKSUM_LENGTH;
    const sum = streamDigest === undefined ? xxh64(out.subarray(0, sumAt), 0n) : chainedChecksum(out, streamDigest);
    dv.setBigUint64(sumAt, sum, true);
    this.buf = this.newBuffer();
    this.len = 0;
    this.written = 0;
    this.pages = 0;
    return out.subarray(0, total);
  }

  /** A pooled buffer at the pool's size (never below `capacity`: it grows once if a span ran long). */
  private newBuffer(): Buffer {
    return this.pool ? this.pool.acquire(Math.max(this.capacity, this.pool.bufferSize)) : Buffer.allocUnsafe(this.capacity);
  }

  private append(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    if (n <= 0) return;
    if (start < 0 || end > src.length) throw new WireError(WireCodes.truncated, `bytes ${start}..${end} run past the ${src.length}-byte buffer`);
    const need = this.len + n;
    // "Limits": a frame's glue is at most FRAME_MAX_GLUE; the sender flushes long before that
    // (every maxPages pages and at every section boundary), so this guards against a stream
    // that is all glue, such as a huge device state.
    if (need > FRAME_MAX_GLUE) throw new WireError(WireCodes.length, `a frame's span would exceed ${FRAME_MAX_GLUE} bytes`, { expected: FRAME_MAX_GLUE, received: need });
    if (FRAME_HEADER_LENGTH + need + FRAME_CHECKSUM_LENGTH > this.buf.length) this.grow(FRAME_HEADER_LENGTH + need + FRAME_CHECKSUM_LENGTH);
    if (src === this.stable) {
      if (this.pendEnd === start && this.pendEnd > this.pendStart) {
        this.pendEnd = end;
      } else {
        this.flushPending();
        this.pendStart = start;
        this.pendEnd = end;
      }
    } else {
      this.flushPending();
      this.buf.set(src.subarray(start, end), FRAME_HEADER_LENGTH + this.written);
      this.written += n;
    }
    this.len = need;
  }

  private flushPending(): void {
    if (this.pendEnd === this.pendStart) return;
    this.buf.set(this.stable!.subarray(this.pendStart, this.pendEnd), FRAME_HEADER_LENGTH + this.written);
    this.written += this.pendEnd - this.pendStart;
    this.pendStart = this.pendEnd = 0;
  }

  /**
   * A larger buffer for a span that outgrew its room (glue appended past `maxSpan` in one go);
   * from the pool, which then hands out buffers of that size.
   */
  private grow(atLeast: number): void {
    let cap = this.buf.length * 2;
    while (cap < atLeast) cap *= 2;
    const b = this.pool ? this.pool.acquire(cap) : Buffer.allocUnsafe(cap);
    b.set(this.buf.subarray(FRAME_HEADER_LENGTH, FRAME_HEADER_LENGTH + this.written), FRAME_HEADER_LENGTH);
    this.pool?.release(this.buf);
    this.buf = b;
  }
}
