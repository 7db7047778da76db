/**
 * Group blocks (docs/frame-format.md "Group blocks"): the selected pages of a batch gathered into
 * one buffer and compressed in one zstd or lz4 call, so the codec's window spans them all.
 * Buffers are kept across batches; a block stays valid until the next `compress` with its tag.
 */
import { compressSync as lz4Compress } from 'lz4-napi';
import zstd from 'zstd-napi/binding.js';
import { GROUP_ZSTD, PAGE_SIZE } from '../codec/ids.js';
import type { ZstdContext } from '../codec/zstd.js';
import type { Batch } from './batch.js';

export class GroupCompressor {
  private scratch = Buffer.alloc(0);
  private zstdOut = Buffer.alloc(0);
  private zstdBlock: Uint8Array = new Uint8Array(0);
  private lz4Block: Uint8Array = new Uint8Array(0);

  constructor(private readonly zstdCtx: ZstdContext) {}

  /** Copy the `count` pages `pick` selects, in order, into one contiguous scratch buffer. */
  gather(batch: Batch, count: number, pick: (i: number) => boolean): Buffer {
    const need = count * PAGE_SIZE;
    if (this.scratch.length < need) this.scratch = Buffer.alloc(Math.max(need, 256 * PAGE_SIZE));
    let o = 0;
    for (let i = 0; i < batch.pageCount && o < need; i++) {
      if (!pick(i)) continue;
      this.scratch.set(batch.pages.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE), o);
      o += PAGE_SIZE;
    }
    return this.scratch.subarray(0, need);
  }

  /** Compress src with the group's codec; returns the stored length (block(tag)) or -1. */
  compress(tag: number, src: Buffer): number {
    if (tag === GROUP_ZSTD) {
      const bound = zstd.compressBound(src.length);
      if (this.zstdOut.length < bound) this.zstdOut = Buffer.alloc(bound);
      this.zstdBlock = this.zstdOut;
      return this.zstdCtx.compress(this.zstdOut, src);
    }
    const r = lz4Compress(src);
    this.lz4Block = r.subarray(4); // drop lz4-napi's size prefix ("Codec tags": bare LZ4 block)
    return r.length - 4;
  }

  /** The last block compressed with `tag`. */
  block(tag: number): Uint8Array {
    return tag === GROUP_ZSTD ? this.zstdBlock : this.lz4Block;
  }
}
