/**
 * Zstandard, one frame per page (zstd-napi). Uses the package's native
 * contexts (CCtx/DCtx, the objects behind its Compressor/Decompressor) with
 * caller-owned output buffers: nothing is allocated per page, and a hostile
 * frame header cannot make the decoder allocate its claimed content size,
 * since it decodes into a fixed 4096-byte buffer and fails if that is short.
 */
import zstd from 'zstd-napi/binding.js';
import { CodecId, PAGE_SIZE } from './ids.js';
import { CodecError } from './errors.js';
import type { PageCodec, PageRef } from './page.js';

export const ZSTD_DEFAULT_LEVEL = 1;
export const ZSTD_MIN_LEVEL = -7;
export const ZSTD_MAX_LEVEL = 19;

export class ZstdContext {
  private readonly cctx = new zstd.CCtx();
  private readonly dctx = new zstd.DCtx();
  constructor(readonly level: number = ZSTD_DEFAULT_LEVEL) {}
  /** Compress src into dst; returns length or -1 if it did not fit in dst. */
  compress(dst: Uint8Array, src: Uint8Array): number {
    try {
      return this.cctx.compress(dst, src, this.level);
    } catch {
      return -1;
    }
  }
  /** Decompress src into dst; returns decoded length; throws the native error. */
  decompress(dst: Uint8Array, src: Uint8Array): number {
    return this.dctx.decompress(dst, src);
  }
}

export class ZstdCodec implements PageCodec {
  readonly id = CodecId.Zstd;
  readonly name: string;
  private readonly ctx: ZstdContext;
  private readonly outBuf = Buffer.alloc(zstd.compressBound(PAGE_SIZE));
  out: Uint8Array = this.outBuf;
  private readonly inBuf = Buffer.alloc(PAGE_SIZE);
  private readonly decBuf = Buffer.alloc(PAGE_SIZE);

  constructor(level: number = ZSTD_DEFAULT_LEVEL) {
    this.ctx = new ZstdContext(level);
    this.name = 'zstd';
  }

  encode(page: PageRef): number {
    const len = this.ctx.compress(this.outBuf, page.buf.subarray(page.byteOff, page.byteOff + PAGE_SIZE));
    return len < 0 || len >= PAGE_SIZE ? -1 : len;
  }

  decode(src: Uint8Array, start: number, length: number, dst: Uint8Array, dstOff: number): void {
    if (length < 1 || length >= PAGE_SIZE) throw new CodecError(this.name, `length ${length} outside 1..${PAGE_SIZE - 1}`);
    this.inBuf.set(src.subarray(start, start + length));
    let n: number;
    try {
      n = this.ctx.decompress(this.decBuf, this.inBuf.subarray(0, length));
    } catch (err) {
      throw new CodecError(this.name, (err as Error).message);
    }
    if (n !== PAGE_SIZE) throw new CodecError(this.name, `decoded ${n} bytes, expected ${PAGE_SIZE}`);
    dst.set(this.decBuf, dstOff);
  }
}
