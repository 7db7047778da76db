import { CodecId, PAGE_SIZE, PAGE_WORDS } from './ids.js';
import { CodecError } from './errors.js';
import type { PageCodec, PageRef } from './page.js';

/** Payload length of a FILL page: the repeated 64-bit word, little-endian. */
export const FILL_PAYLOAD_LENGTH = 8;

/** True if the page is one 64-bit word repeated 512 times (zero pages included). */
export function isFillPage(w: Uint32Array, wordOff: number): boolean {
  const a = w[wordOff];
  const b = w[wordOff + 1];
  const end = wordOff + PAGE_WORDS;
  for (let i = wordOff + 2; i < end; i += 2) {
    if (w[i] !== a || w[i + 1] !== b) return false;
  }
  return true;
}

/** FILL: one repeated 64-bit word; payload is that word (8 bytes). */
export class FillCodec implements PageCodec {
  readonly id = CodecId.Fill;
  readonly name = 'fill';
  readonly out = new Uint8Array(FILL_PAYLOAD_LENGTH);
  encode(page: PageRef): number {
    if (!isFillPage(page.words, page.wordOff)) return -1;
    const o = page.byteOff;
    for (let i = 0; i < FILL_PAYLOAD_LENGTH; i++) this.out[i] = page.bytes[o + i];
    return FILL_PAYLOAD_LENGTH;
  }
  decode(src: Uint8Array, start: number, length: number, dst: Uint8Array, dstOff: number): void {
    if (length !== FILL_PAYLOAD_LENGTH) throw new CodecError(this.name, `length ${length}, expected ${FILL_PAYLOAD_LENGTH}`);
    for (let i = 0; i < FILL_PAYLOAD_LENGTH; i++) dst[dstOff + i] = src[start + i];
    // Doubling copy: 8, 16, 32, ... 4096 bytes.
    for (let n = FILL_PAYLOAD_LENGTH; n < PAGE_SIZE; n *= 2) dst.copyWithin(dstOff + n, dstOff, dstOff + n);
  }
}
