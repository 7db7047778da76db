/**
 * LZ4 block (lz4-napi). `compressSync` prepends the uncompressed size as a
 * 4-byte little-endian prefix; the payload on the wire is the bare block
 * (docs/frame-format.md, "LZ4 payload") and the decoder re-adds the prefix,
 * which is always 4096 for a page.
 */
import { compressSync, uncompressSync } from 'lz4-napi';
import { CodecId, PAGE_SIZE } from './ids.js';
import { CodecError } from './errors.js';
import type { PageCodec, PageRef } from './page.js';

const LZ4_SIZE_PREFIX = 4;

export class Lz4Codec implements PageCodec {
  readonly id = CodecId.Lz4;
  readonly name = 'lz4';
  out: Uint8Array = new Uint8Array(0);
  private readonly scratch = Buffer.alloc(LZ4_SIZE_PREFIX + PAGE_SIZE);

  constructor() {
    this.scratch.writeUInt32LE(PAGE_SIZE, 0);
  }

  encode(page: PageRef): number {
    const r = compressSync(page.buf.subarray(page.byteOff, page.byteOff + PAGE_SIZE));
    const len = r.length - LZ4_SIZE_PREFIX;
    if (len >= PAGE_SIZE) return -1;
    this.out = r.subarray(LZ4_SIZE_PREFIX);
    return len;
  }

  decode(src: Uint8Array, start: number, length: number, dst: Uint8Array, dstOff: number): void {
    if (length < 1 || length >= PAGE_SIZE) throw new CodecError(this.name, `length ${length} outside 1..${PAGE_SIZE - 1}`);
    this.scratch.set(src.subarray(start, start + length), LZ4_SIZE_PREFIX);
    let r: Buffer;
    try {
      r = uncompressSync(this.scratch.subarray(0, LZ4_SIZE_PREFIX + length));
    } catch (err) {
      throw new CodecError(this.name, (err as Error).message);
    }
    if (r.length !== PAGE_SIZE) throw new CodecError(this.name, `decoded ${r.length} bytes, expected ${PAGE_SIZE}`);
    dst.set(r, dstOff);
  }
}
