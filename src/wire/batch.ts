/**
 * Batches: a contiguous span of the migration stream, split into opaque glue
 * bytes and 4096-byte RAM pages: glue0 page0 glue1 page1 ... tail.
 * A Batch is plain data (typed arrays, each on its own ArrayBuffer), so it can
 * be posted or transferred to a worker thread.
 */
import { PAGE_SIZE } from '../codec/ids.js';
import { WireCodes, WireError } from './errors.js';

export interface Batch {
  pageCount: number;
  /** pageCount * 4096 bytes, page i at i * 4096. */
  pages: Uint8Array;
  /** Guest RAM offset of each page. */
  addrs: Float64Array;
  /** All glue bytes of the span in order; glue.length === glueLength. */
  glue: Uint8Array;
  glueLength: number;
  /** glueBefore[i]: glue bytes between page i-1 (or the span start) and page i. Trailing glue is the rest. */
  glueBefore: Uint32Array;
}

export const DEFAULT_BATCH_PAGES = 256;

/** A copy of the batch with every array on its own fresh ArrayBuffer (so it can be transferred). */
export function copyBatch(b: Batch): Batch {
  return { pageCount: b.pageCount, pages: b.pages.slice(), addrs: b.addrs.slice(), glue: b.glue.slice(), glueLength: b.glueLength, glueBefore: b.glueBefore.slice() };
}

/** The distinct, non-empty ArrayBuffers of a batch (its transfer list). */
export function batchBuffers(b: Batch): ArrayBuffer[] {
  const set = new Set<ArrayBuffer>();
  for (const a of [b.pages, b.addrs, b.glue, b.glueBefore]) if (a.buffer.byteLength > 0) set.add(a.buffer as ArrayBuffer);
  return [...set];
}

const MAX_SPARE = 8;

export class BatchBuilder {
  readonly maxPages: number;
  private pages: Uint8Array;
  private addrs: Float64Array;
  private glueBefore: Uint32Array;
  private glue: Uint8Array = new Uint8Array(4096);
  private count = 0;
  private glueLen = 0;
  /** Glue length at the last page boundary. */
  private glueMark = 0;
  /** Page buffers handed back by `recycle`, used before allocating new ones. */
  private readonly spare: Uint8Array[] = [];

  constructor(maxPages: number = DEFAULT_BATCH_PAGES) {
    if (!Number.isInteger(maxPages) || maxPages < 1) throw new RangeError(`maxPages must be a positive integer, got ${maxPages}`);
    this.maxPages = maxPages;
    this.pages = new Uint8Array(maxPages * PAGE_SIZE);
    this.addrs = new Float64Array(maxPages);
    this.glueBefore = new Uint32Array(maxPages);
  }

  get pageCount(): number {
    return this.count;
  }
  get glueLength(): number {
    return this.glueLen;
  }
  isFull(): boolean {
    return this.count >= this.maxPages;
  }

  /** Copy opaque stream bytes src[start..end). */
  appendGlue(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    if (n <= 0) return;
    const need = this.glueLen + n;
    if (need > this.glue.length) {
      let cap = this.glue.length * 2;
      while (cap < need) cap *= 2;
      const g = new Uint8Array(cap);
      g.set(this.glue.subarray(0, this.glueLen));
      this.glue = g;
    }
    this.glue.set(src.subarray(start, end), this.glueLen);
    this.glueLen = need;
  }

  /** Copy the 4096-byte page at src[start..start+4096) with its guest RAM offset. */
  appendPage(src: Uint8Array, start: number, addr: number): void {
    if (this.count >= this.maxPages) {
      throw new WireError(WireCodes.length, `batch already holds ${this.maxPages} pages`, { expected: this.maxPages });
    }
    if (start < 0 || start + PAGE_SIZE > src.length) {
      throw new WireError(WireCodes.truncated, `page at ${start} runs past the ${src.length}-byte buffer`);
    }
    const i = this.count++;
    this.pages.set(src.subarray(start, start + PAGE_SIZE), i * PAGE_SIZE);
    this.addrs[i] = addr;
    this.glueBefore[i] = this.glueLen - this.glueMark;
    this.glueMark = this.glueLen;
  }

  /**
   * Give back the pages of a batch this builder handed out, once nothing reads it any more (the
   * encode pool returns it with the frame). Only whole buffers of this builder's size are kept,
   * at most 8.
   */
  recycle(batch: Batch): void {
    const p = batch.pages;
    if (p.byteOffset === 0 && p.buffer.byteLength === this.maxPages * PAGE_SIZE && this.spare.length < MAX_SPARE) {
      this.spare.push(new Uint8Array(p.buffer, 0, this.maxPages * PAGE_SIZE));
    }
  }

  /** Hand out the batch and start a fresh one (the builder's glue buffer is kept; the batch gets a copy). */
  take(): Batch {
    const n = this.count;
    // Every array of the batch is on its own, fresh ArrayBuffer, so the batch can be transferred
    // to a worker (the builder keeps nothing that the batch points to).
    const batch: Batch = {
      pageCount: n,
      pages: n > 0 ? this.pages.subarray(0, n * PAGE_SIZE) : new Uint8Array(0),
      addrs: this.addrs.slice(0, n),
      glue: this.glue.slice(0, this.glueLen),
      glueLength: this.glueLen,
      glueBefore: this.glueBefore.slice(0, n),
    };
    if (n > 0) this.pages = this.spare.pop() ?? new Uint8Array(this.maxPages * PAGE_SIZE);
    this.count = 0;
    this.glueLen = 0;
    this.glueMark = 0;
    return batch;
  }
}
