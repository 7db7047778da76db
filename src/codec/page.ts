/**
 * Shared shapes for page codecs. A codec is a pair of pure functions over one
 * 4096-byte page; all buffers are owned by the codec instance and reused, so
 * the per-page hot path allocates nothing in JS (the napi codecs return a
 * Buffer from native code, which is the one exception).
 */
import type { CodecId } from './ids.js';

/**
 * Where the page to encode lives. One mutable instance is reused for every
 * page: `bytes`, `words` and `buf` view the same memory; the page starts at
 * `byteOff` (= 4 * `wordOff`, always 4-byte aligned in the underlying buffer).
 */
export interface PageRef {
  bytes: Uint8Array;
  words: Uint32Array;
  buf: Buffer;
  byteOff: number;
  wordOff: number;
}

export interface PageCodec {
  readonly id: CodecId;
  readonly name: string;
  /**
   * Encode the page. Returns the encoded length (payload in `out[0..len)`,
   * valid until the next call) or -1 when the result would not be smaller
   * than the page (the caller then stores it RAW).
   */
  encode(page: PageRef): number;
  /** Output of the last successful `encode`. */
  readonly out: Uint8Array;
  /**
   * Decode `src[start..start+length)` into `dst[dstOff..dstOff+4096)`.
   * Throws CodecError if the payload does not decode to exactly one page.
   */
  decode(src: Uint8Array, start: number, length: number, dst: Uint8Array, dstOff: number): void;
}
