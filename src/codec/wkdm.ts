/**
 * WKdm (Wilson-Kaplan, direct-mapped), after xnu's libkern/kxld WKdm_new. The work is done by a
 * WebAssembly kernel (./asm/wkdm.ts, built by `npm run build`); this module moves pages in and out.
 * Payload layout: docs/frame-format.md, "WKdm payload". All words little-endian.
 *
 *   word 0          QPOS_START: word offset of the packed dictionary indices
 *   word 1          LOW_START: word offset of the packed 10-bit low bits
 *   word 2          END: payload length in words
 *   words 3..66     tags, 2 bits per page word, 16 per u32 (tag i at bits 2*(i%16) of word 3+i/16)
 *   67..QPOS_START  full words of MISS tags, in page order
 *   ..LOW_START     4-bit dictionary indices of EXACT and PARTIAL tags, 8 per u32
 *   ..END           10-bit low bits of PARTIAL tags, 3 per u32 (bits 0-9, 10-19, 20-29)
 */
import { readFileSync } from 'node:fs';
import { CodecId, PAGE_SIZE, PAGE_WORDS } from './ids.js';
import { CodecError } from './errors.js';
import type { PageCodec, PageRef } from './page.js';

export const WKDM_TAG_ZERO = 0;
export const WKDM_TAG_PARTIAL = 1;
export const WKDM_TAG_MISS = 2;
export const WKDM_TAG_EXACT = 3;
/** High bits compared for a PARTIAL match (22 bits). */
export const WKDM_HIGH_MASK = 0xfffffc00;
export const WKDM_LOW_MASK = 0x3ff;
export const WKDM_DICT_SIZE = 16;
export const WKDM_HEADER_WORDS = 3;
export const WKDM_TAG_WORDS = PAGE_WORDS / 16;
/** First word after header and tags: start of the full-word area. */
export const WKDM_FULL_START = WKDM_HEADER_WORDS + WKDM_TAG_WORDS;

/**
 * Hash of a word's high bits, (w >> 10) & 0xFF, to one of 16 dictionary slots.
 * Each slot receives exactly 16 of the 256 hashes: for h = 16*hi + lo the slot
 * is lo ^ (7*hi mod 16), a bijection in lo for each hi.
 */
export const WKDM_HASH_TO_SLOT: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (let h = 0; h < 256; h++) t[h] = ((h & 15) ^ ((h >> 4) * 7)) & 15;
  return t;
})();

/** Byte offsets in the kernel's memory (must match ./asm/wkdm.ts). */
const KERNEL_IN = 0;
const KERNEL_OUT = 4096;

interface KernelExports {
  memory: WebAssembly.Memory;
  init(): void;
  encode(): number;
  decode(nWords: number): number;
  sample(): number;
}

let kernelModule: WebAssembly.Module | undefined;

/** The compiled kernel, once per thread; each codec gets its own instance (its own memory). */
function kernel(): KernelExports {
  if (kernelModule === undefined) {
    const url = new URL('./asm/wkdm.wasm', import.meta.url);
    let bytes: Uint8Array<ArrayBuffer>;
    try {
      bytes = new Uint8Array(readFileSync(url));
    } catch {
      throw new Error(`WKdm kernel ${url.pathname} is missing: run \`npm run build\``);
    }
    kernelModule = new WebAssembly.Module(bytes);
  }
  const k = new WebAssembly.Instance(kernelModule, {}).exports as unknown as KernelExports;
  k.init();
  return k;
}

export class WkdmCodec implements PageCodec {
  readonly id = CodecId.Wkdm;
  readonly name = 'wkdm';
  private readonly k = kernel();
  /** The kernel's memory as a Buffer, for allocation-free copies in and out (it never grows). */
  private readonly mem = Buffer.from(this.k.memory.buffer);
  /** The payload of the last successful encode (a view of the kernel's output area). */
  readonly out: Uint8Array = this.mem.subarray(KERNEL_OUT, KERNEL_OUT + PAGE_SIZE);

  encode(page: PageRef): number {
    this.load(page);
    return this.k.encode();
  }

  /** Copy the page into the kernel, for `sampleLoaded` and `encodeLoaded`. */
  load(page: PageRef): void {
    page.buf.copy(this.mem, KERNEL_IN, page.byteOff, page.byteOff + PAGE_SIZE);
  }

  /** Encode the page of the last `load`; like `encode`. */
  encodeLoaded(): number {
    return this.k.encode();
  }

  /**
   * The classifier's word sample of the page of the last `load` (see classifier.ts):
   * zero words | EXACT << 8 | PARTIAL << 16, of SAMPLE_RUNS x SAMPLE_RUN_WORDS sampled words.
   */
  sampleLoaded(): number {
    return this.k.sample();
  }

  /** Encode the page at src[byteOff..+4096); returns the payload length in `out`, or -1 if not smaller than a page. */
  encodeAt(src: Uint8Array, byteOff: number): number {
    Buffer.prototype.copy.call(src, this.mem, KERNEL_IN, byteOff, byteOff + PAGE_SIZE);
    return this.k.encode();
  }

  decode(src: Uint8Array, start: number, length: number, dst: Uint8Array, dstOff: number): void {
    if (length < WKDM_FULL_START * 4 || length >= PAGE_SIZE || (length & 3) !== 0) {
      throw new CodecError(this.name, `length ${length} outside ${WKDM_FULL_START * 4}..${PAGE_SIZE - 4} or not a multiple of 4`);
    }
    if (start < 0 || start + length > src.length) throw new CodecError(this.name, `payload ${start}+${length} outside its ${src.length}-byte source`);
    Buffer.prototype.copy.call(src, this.mem, KERNEL_IN, start, start + length);
    const r = this.k.decode(length >>> 2);
    if (r !== 0) {
      throw new CodecError(this.name, r === -1 ? 'bad section offsets for the payload length' : 'section sizes do not match tag counts');
    }
    this.mem.copy(dst, dstOff, KERNEL_OUT, KERNEL_OUT + PAGE_SIZE);
  }
}
