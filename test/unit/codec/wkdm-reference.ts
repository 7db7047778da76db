/**
 * The TypeScript reference implementation of WKdm: the algorithm as first written for mecom,
 * kept to check the WebAssembly kernel (src/codec/asm/wkdm.ts) payload for payload.
 * Not used by the product.
 */
import { PAGE_WORDS } from '../../../src/codec/ids.js';
import { CodecError } from '../../../src/codec/errors.js';
import {
  WKDM_DICT_SIZE, WKDM_FULL_START, WKDM_HASH_TO_SLOT, WKDM_HEADER_WORDS, WKDM_HIGH_MASK, WKDM_LOW_MASK,
  WKDM_TAG_EXACT, WKDM_TAG_MISS, WKDM_TAG_PARTIAL,
} from '../../../src/codec/wkdm.js';

export class WkdmReference {
  readonly name = 'wkdm';
  private readonly out32 = new Uint32Array(PAGE_WORDS + WKDM_FULL_START + 8);
  readonly out = new Uint8Array(this.out32.buffer);
  private readonly dict = new Uint32Array(WKDM_DICT_SIZE);
  private readonly qpos = new Uint8Array(PAGE_WORDS + 8);
  private readonly lows = new Uint16Array(PAGE_WORDS + 3);

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
    const HIGH = WKDM_HIGH_MASK | 0;
    dict.fill(1);
    let full = WKDM_FULL_START;
    let q = 0;
    let l = 0;
    let i = 0;
    for (let t = WKDM_HEADER_WORDS; t < WKDM_FULL_START; t++) {
      let tags = p[t];
      if (tags === 0) {
        // 16 ZERO words (common: zero runs inside otherwise used pages).
        for (const e = i + 16; i < e; i++) w[i] = 0;
        continue;
      }
      // Two tags per step through a 16-way switch: the four tags are about equally common in
      // real memory, so a per-word if-chain mispredicts most words; one indirect jump per two
      // words measured ~10-15% faster (scratch benchmark on the built-in corpus).
      for (const e = i + 16; i < e; i += 2, tags >>>= 4) {
        switch (tags & 15) {
          case 0: /* ZERO, ZERO */ w[i] = 0; w[i + 1] = 0; break;
          case 1: /* PARTIAL, ZERO */ { const s = qpos[q++]; const x = (dict[s] & HIGH) | lows[l++]; dict[s] = x; w[i] = x; } w[i + 1] = 0; break;
          case 2: /* MISS, ZERO */ { const x = p[full++]; dict[slotOf[(x >>> 10) & 0xff]] = x; w[i] = x; } w[i + 1] = 0; break;
          case 3: /* EXACT, ZERO */ w[i] = dict[qpos[q++]]; w[i + 1] = 0; break;
          case 4: /* ZERO, PARTIAL */ w[i] = 0; { const s = qpos[q++]; const x = (dict[s] & HIGH) | lows[l++]; dict[s] = x; w[i + 1] = x; } break;
          case 5: /* PARTIAL, PARTIAL */ { const s = qpos[q++]; const x = (dict[s] & HIGH) | lows[l++]; dict[s] = x; w[i] = x; } { const s = qpos[q++]; const x = (dict[s] & HIGH) | lows[l++]; dict[s] = x; w[i + 1] = x; } break;
          case 6: /* MISS, PARTIAL */ { const x = p[full++]; dict[slotOf[(x >>> 10) & 0xff]] = x; w[i] = x; } { const s = qpos[q++]; const x = (dict[s] & HIGH) | lows[l++]; dict[s] = x; w[i + 1] = x; } break;
          case 7: /* EXACT, PARTIAL */ w[i] = dict[qpos[q++]]; { const s = qpos[q++]; const x = (dict[s] & HIGH) | lows[l++]; dict[s] = x; w[i + 1] = x; } break;
          case 8: /* ZERO, MISS */ w[i] = 0; { const x = p[full++]; dict[slotOf[(x >>> 10) & 0xff]] = x; w[i + 1] = x; } break;
          case 9: /* PARTIAL, MISS */ { const s = qpos[q++]; const x = (dict[s] & HIGH) | lows[l++]; dict[s] = x; w[i] = x; } { const x = p[full++]; dict[slotOf[(x >>> 10) & 0xff]] = x; w[i + 1] = x; } break;
          case 10: /* MISS, MISS */ { const x = p[full++]; dict[slotOf[(x >>> 10) & 0xff]] = x; w[i] = x; } { const x = p[full++]; dict[slotOf[(x >>> 10) & 0xff]] = x; w[i + 1] = x; } break;
          case 11: /* EXACT, MISS */ w[i] = dict[qpos[q++]]; { const x = p[full++]; dict[slotOf[(x >>> 10) & 0xff]] = x; w[i + 1] = x; } break;
          case 12: /* ZERO, EXACT */ w[i] = 0; w[i + 1] = dict[qpos[q++]]; break;
          case 13: /* PARTIAL, EXACT */ { const s = qpos[q++]; const x = (dict[s] & HIGH) | lows[l++]; dict[s] = x; w[i] = x; } w[i + 1] = dict[qpos[q++]]; break;
          case 14: /* MISS, EXACT */ { const x = p[full++]; dict[slotOf[(x >>> 10) & 0xff]] = x; w[i] = x; } w[i + 1] = dict[qpos[q++]]; break;
          case 15: /* EXACT, EXACT */ w[i] = dict[qpos[q++]]; w[i + 1] = dict[qpos[q++]]; break;
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
