import { CodecId, PAGE_SIZE, PAGE_WORDS } from './ids.js';
import { CodecError } from './errors.js';
import type { PageCodec, PageRef } from './page.js';

/**
 * True if the 1024 words from `wordOff` are all zero. ORs eight words at a
 * time and exits at the first non-zero group: most non-zero pages are
 * rejected within the first few words.
 */
export function isZeroPage(w: Uint32Array, wordOff: number): boolean {
  const end = wordOff + PAGE_WORDS;
  for (let i = wordOff; i < end; i += 8) {
    if ((w[i] | w[i + 1] | w[i + 2] | w[i + 3] | w[i + 4] | w[i + 5] | w[i + 6] | w[i + 7]) !== 0) return false;
  }
  return true;
}

/** ZERO: a page of zero bytes, no payload. */
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
