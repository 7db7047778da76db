import { CodecId, PAGE_SIZE } from './ids.js';
import { CodecError } from './errors.js';
import type { PageCodec, PageRef } from './page.js';

/** RAW: the page itself, 4096 bytes. */
export class RawCodec implements PageCodec {
  readonly id = CodecId.Raw;
  readonly name = 'raw';
  readonly out = new Uint8Array(PAGE_SIZE);
  encode(page: PageRef): number {
    this.out.set(page.bytes.subarray(page.byteOff, page.byteOff + PAGE_SIZE));
    return PAGE_SIZE;
  }
  decode(src: Uint8Array, start: number, length: number, dst: Uint8Array, dstOff: number): void {
    if (length !== PAGE_SIZE) throw new CodecError(this.name, `length ${length}, expected ${PAGE_SIZE}`);
    dst.set(src.subarray(start, start + PAGE_SIZE), dstOff);
  }
}
