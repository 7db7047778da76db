/**
 * WKdm (Wilson-Kaplan, direct-mapped), after xnu's libkern/kxld WKdm_new.
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

export class WkdmCodec implements PageCodec {
  readonly id = CodecId.Wkdm;
  readonly name = 'wkdm';
  private readonly out32 = new Uint32Array(PAGE_WORDS + WKDM_FULL_START + 8);
  readonly out = new Uint8Array(this.out32.buffer);
  private readonly dict = new Uint32Array(WKDM_DICT_SIZE);
  private readonly qpos = new Uint8Array(PAGE_WORDS + 8);
  private readonly lows = new Uint16Array(PAGE_WORDS + 3);
  private readonly in32 = new Uint32Array(PAGE_WORDS);
  private readonly in8 = new Uint8Array(this.in32.buffer);
  private readonly dec32 = new Uint32Array(PAGE_WORDS);
  private readonly dec8 = new Uint8Array(this.dec32.buffer);

  encode(page: PageRef): number {
    return this.encodeWords(page.words, page.wordOff);
  }

  /** Encode 1024 words from `w[off..]`; returns payload length or -1 if not smaller than a page. */
  encodeWords(w: Uint32Array, off: number): number {
    const out = this.out32;
    const dict = this.dict;
    const qpos = this.qpos;
    const lows = this.lows;
    const slotOf = WKDM_HASH_TO_SLOT;
    dict.fill(1);
    let full = WKDM_FULL_START;
    let nq = 0;
    let nl = 0;
    let tagWord = WKDM_HEADER_WORDS;
    for (let base = 0; base < PAGE_WORDS; base += 16) {
      let tags = 0;
      for (let j = 0; j < 16; j++) {
        const x = w[off + base + j];
        if (x === 0) continue; // ZERO tag is 0
        const slot = slotOf[(x >>> 10) & 0xff];
        const d = dict[slot];
        if (d === x) {
          tags |= WKDM_TAG_EXACT << (2 * j);
          qpos[nq++] = slot;
        } else if (((d ^ x) & WKDM_HIGH_MASK) === 0) {
          tags |= WKDM_TAG_PARTIAL << (2 * j);
          qpos[nq++] = slot;
          lows[nl++] = x & WKDM_LOW_MASK;
          dict[slot] = x;
        } else {
          tags |= WKDM_TAG_MISS << (2 * j);
          out[full++] = x;
          dict[slot] = x;
        }
      }
      out[tagWord++] = tags;
    }
    const qposStart = full;
    const lowStart = qposStart + ((nq + 7) >>> 3);
    const end = lowStart + Math.floor((nl + 2) / 3);
    if (end >= PAGE_WORDS) return -1;
    qpos.fill(0, nq, nq + 8);
    let o = qposStart;
    for (let i = 0; i < nq; i += 8) {
      out[o++] =
        (qpos[i] | (qpos[i + 1] << 4) | (qpos[i + 2] << 8) | (qpos[i + 3] << 12) |
          (qpos[i + 4] << 16) | (qpos[i + 5] << 20) | (qpos[i + 6] << 24) | (qpos[i + 7] << 28)) >>> 0;
    }
    lows[nl] = 0;
    lows[nl + 1] = 0;
    for (let i = 0; i < nl; i += 3) out[o++] = lows[i] | (lows[i + 1] << 10) | (lows[i + 2] << 20);
    out[0] = qposStart;
    out[1] = lowStart;
    out[2] = end;
    return end * 4;
  }

  decode(src: Uint8Array, start: number, length: number, dst: Uint8Array, dstOff: number): void {
    if (length < WKDM_FULL_START * 4 || length >= PAGE_SIZE || (length & 3) !== 0) {
      throw new CodecError(this.name, `length ${length} outside ${WKDM_FULL_START * 4}..${PAGE_SIZE - 4} or not a multiple of 4`);
    }
    // Read and write in place when both sides are 4-byte aligned (frames and spans usually are);
    // otherwise go through the scratch buffers.
    const inAbs = src.byteOffset + start;
    const p = (inAbs & 3) === 0 ? new Uint32Array(src.buffer, inAbs, length >>> 2) : this.copyIn(src, start, length);
    const outAbs = dst.byteOffset + dstOff;
    if ((outAbs & 3) === 0 && outAbs + PAGE_SIZE <= dst.buffer.byteLength) {
      this.decodeWords(p, length >>> 2, new Uint32Array(dst.buffer, outAbs, PAGE_WORDS));
    } else {
      this.decodeWords(p, length >>> 2, this.dec32);
      dst.set(this.dec8, dstOff);
    }
  }

  private copyIn(src: Uint8Array, start: number, length: number): Uint32Array {
    this.in8.set(src.subarray(start, start + length));
    return this.in32;
  }

  /** Decode a payload of `nWords` words in `p` into 1024 words of `w`. */
  decodeWords(p: Uint32Array, nWords: number, w: Uint32Array): void {
    const qposStart = p[0];
    const lowStart = p[1];
    const end = p[2];
    if (end !== nWords || qposStart < WKDM_FULL_START || lowStart < qposStart || end < lowStart) {
      throw new CodecError(this.name, `bad section offsets ${qposStart}/${lowStart}/${end} for ${nWords} words`);
    }
    // Count tags first, so every section read below is known to be in bounds.
    let nMiss = 0;
    let nQ = 0;
    let nP = 0;
    for (let t = WKDM_HEADER_WORDS; t < WKDM_FULL_START; t++) {
      const tags = p[t];
      const hi = (tags >>> 1) & 0x55555555;
      const lo = tags & 0x55555555;
      nMiss += popcount(hi & ~lo);
      nQ += popcount(lo);
      nP += popcount(lo & ~hi);
    }
    if (qposStart - WKDM_FULL_START !== nMiss || lowStart - qposStart !== (nQ + 7) >>> 3 || end - lowStart !== Math.floor((nP + 2) / 3)) {
      throw new CodecError(this.name, `section sizes do not match tag counts (${nMiss} miss, ${nQ} index, ${nP} partial)`);
    }
    const qpos = this.qpos;
    for (let i = 0, o = qposStart; o < lowStart; o++, i += 8) {
      const v = p[o];
      qpos[i] = v & 15; qpos[i + 1] = (v >>> 4) & 15; qpos[i + 2] = (v >>> 8) & 15; qpos[i + 3] = (v >>> 12) & 15;
      qpos[i + 4] = (v >>> 16) & 15; qpos[i + 5] = (v >>> 20) & 15; qpos[i + 6] = (v >>> 24) & 15; qpos[i + 7] = v >>> 28;
    }
    const lows = this.lows;
    for (let i = 0, o = lowStart; o < end; o++, i += 3) {
      const v = p[o];
      lows[i] = v & WKDM_LOW_MASK; lows[i + 1] = (v >>> 10) & WKDM_LOW_MASK; lows[i + 2] = (v >>> 20) & WKDM_LOW_MASK;
    }
    const dict = this.dict;
    const slotOf = WKDM_HASH_TO_SLOT;
    dict.fill(1);
    let full = WKDM_FULL_START;
    let q = 0;
    let l = 0;
    let i = 0;
    for (let t = WKDM_HEADER_WORDS; t < WKDM_FULL_START; t++) {
      const tags = p[t];
      if (tags === 0) {
        // 16 ZERO words (common: zero runs inside otherwise used pages).
        w.fill(0, i, i + 16);
        i += 16;
        continue;
      }
      for (let j = 0; j < 32; j += 2, i++) {
        const tag = (tags >>> j) & 3;
        if (tag === WKDM_TAG_ZERO) {
          w[i] = 0;
        } else if (tag === WKDM_TAG_EXACT) {
          w[i] = dict[qpos[q++]];
        } else if (tag === WKDM_TAG_PARTIAL) {
          const slot = qpos[q++];
          const x = ((dict[slot] & WKDM_HIGH_MASK) | lows[l++]) >>> 0;
          dict[slot] = x;
          w[i] = x;
        } else {
          const x = p[full++];
          dict[slotOf[(x >>> 10) & 0xff]] = x;
          w[i] = x;
        }
      }
    }
  }
}

function popcount(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}
