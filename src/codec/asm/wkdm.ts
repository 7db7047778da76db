/**
 * WKdm kernel in AssemblyScript, compiled to WebAssembly by `npm run build` (asc), loaded by
 * ../wkdm.ts. Payload layout: docs/frame-format.md, "WKdm payload" (all words little-endian,
 * as in WebAssembly memory).
 *
 * Why WebAssembly: the same algorithm in TypeScript ran at ~500 MB/s encode and ~650 MB/s
 * decode on this machine; this kernel runs ~1.8x faster including the copies in and out
 * (docs/codec.md, "WKdm kernel"). The TypeScript reference (test/unit/codec/wkdm-reference.ts)
 * must produce identical payloads; a differential property test checks it.
 *
 * Memory is one fixed 64 KiB page, laid out below; nothing is allocated (runtime "stub").
 * Every offset is a byte address.
 */

/** Encode input (the page) or decode input (the payload, < 4096 bytes). */
const IN: usize = 0;
/** Encode output (payload, up to (3 + 64 + 1024) words) or decode output (the page). */
const OUT: usize = 4096;
/** 16 dictionary slots. */
const DICT: usize = 12288;
/** Unpacked 4-bit dictionary indices, one byte each, 1024 + 16 of padding. */
const QPOS: usize = 12416;
/** Unpacked 10-bit low bits, one u16 each, 1024 + 8 of padding. */
const LOWS: usize = 13568;
/** Hash of bits 10..17 of a word to its dictionary slot (see WKDM_HASH_TO_SLOT in ../wkdm.ts). */
const SLOT: usize = 16384;

const HIGH: u32 = 0xfffffc00;
const HEADER_WORDS: u32 = 3;
const FULL_START: u32 = 67;
const PAGE_WORDS: u32 = 1024;

/** Errors returned by decode (negative): the caller maps them to messages. */
const ERR_OFFSETS: i32 = -1;
const ERR_COUNTS: i32 = -2;

export function init(): void {
  for (let h: u32 = 0; h < 256; h++) store<u8>(SLOT + h, ((h & 15) ^ ((h >> 4) * 7)) & 15);
}

function resetDict(): void {
  for (let s: usize = 0; s < 16; s++) store<u32>(DICT + (s << 2), 1);
}

/** Sampled runs and their length in words (must match SAMPLE_RUNS / SAMPLE_RUN_WORDS in ../classifier.ts). */
const SAMPLE_RUNS: u32 = 8;
const SAMPLE_RUN_WORDS: u32 = 16;

/**
 * The classifier's sample of the page at IN: WKdm's dictionary simulated over 8 runs of 16
 * words at even strides. Returns zero words | EXACT << 8 | PARTIAL << 16 (each at most 128).
 */
export function sample(): u32 {
  resetDict();
  let zero: u32 = 0, exact: u32 = 0, partial: u32 = 0;
  const stride = PAGE_WORDS / SAMPLE_RUNS;
  for (let r: u32 = 0; r < SAMPLE_RUNS; r++) {
    const start = IN + (<usize>(r * stride) << 2);
    for (let j: usize = 0; j < SAMPLE_RUN_WORDS; j++) {
      const x = load<u32>(start + (j << 2));
      if (x == 0) { zero++; continue; }
      const dp = DICT + (<usize>load<u8>(SLOT + ((x >> 10) & 0xff)) << 2);
      const d = load<u32>(dp);
      if (d == x) exact++;
      else {
        if (((d ^ x) & HIGH) == 0) partial++;
        store<u32>(dp, x);
      }
    }
  }
  return zero | (exact << 8) | (partial << 16);
}

/** Encode the page at IN into OUT. Returns the payload length in bytes, or -1 if not smaller than a page. */
export function encode(): i32 {
  resetDict();
  let full: u32 = FULL_START, nq: u32 = 0, nl: u32 = 0;
  let tagWord: u32 = HEADER_WORDS;
  for (let base: u32 = 0; base < PAGE_WORDS; base += 16) {
    let tags: u32 = 0;
    for (let j: u32 = 0; j < 16; j++) {
      const x = load<u32>(IN + ((<usize>(base + j)) << 2));
      if (x == 0) continue; // ZERO tag is 0
      const slot = <usize>load<u8>(SLOT + ((x >> 10) & 0xff));
      const d = load<u32>(DICT + (slot << 2));
      if (d == x) {
        tags |= 3 << (2 * j);
        store<u8>(QPOS + nq++, <u8>slot);
      } else if (((d ^ x) & HIGH) == 0) {
        tags |= 1 << (2 * j);
        store<u8>(QPOS + nq++, <u8>slot);
        store<u16>(LOWS + (<usize>(nl++) << 1), <u16>(x & 0x3ff));
        store<u32>(DICT + (slot << 2), x);
      } else {
        tags |= 2 << (2 * j);
        store<u32>(OUT + (<usize>(full++) << 2), x);
        store<u32>(DICT + (slot << 2), x);
      }
    }
    store<u32>(OUT + (<usize>(tagWord++) << 2), tags);
  }
  const qposStart = full;
  const lowStart = qposStart + ((nq + 7) >> 3);
  const end = lowStart + (nl + 2) / 3;
  if (end >= PAGE_WORDS) return -1;
  store<u64>(QPOS + nq, 0); // pad the last group of 8 indices
  let o = qposStart;
  for (let i: u32 = 0; i < nq; i += 8) {
    const q = QPOS + i;
    store<u32>(OUT + (<usize>(o++) << 2),
      <u32>load<u8>(q) | (<u32>load<u8>(q + 1) << 4) | (<u32>load<u8>(q + 2) << 8) | (<u32>load<u8>(q + 3) << 12) |
      (<u32>load<u8>(q + 4) << 16) | (<u32>load<u8>(q + 5) << 20) | (<u32>load<u8>(q + 6) << 24) | (<u32>load<u8>(q + 7) << 28));
  }
  store<u32>(LOWS + (<usize>nl << 1), 0); // pad the last group of 3 low parts
  for (let i: u32 = 0; i < nl; i += 3) {
    const p = LOWS + (<usize>i << 1);
    store<u32>(OUT + (<usize>(o++) << 2), <u32>load<u16>(p) | (<u32>load<u16>(p + 2) << 10) | (<u32>load<u16>(p + 4) << 20));
  }
  store<u32>(OUT, qposStart);
  store<u32>(OUT + 4, lowStart);
  store<u32>(OUT + 8, end);
  return <i32>(end << 2);
}

/**
 * Decode the payload of `nWords` words at IN into the page at OUT. Returns 0, or ERR_OFFSETS /
 * ERR_COUNTS when the section offsets or sizes contradict the tags; a payload is checked whole
 * before any section is read, so no read leaves the payload.
 */
export function decode(nWords: u32): i32 {
  const qposStart = load<u32>(IN), lowStart = load<u32>(IN + 4), end = load<u32>(IN + 8);
  if (end != nWords || qposStart < FULL_START || lowStart < qposStart || end < lowStart) return ERR_OFFSETS;
  let nMiss: u32 = 0, nQ: u32 = 0, nP: u32 = 0;
  for (let t: usize = HEADER_WORDS; t < FULL_START; t++) {
    const tags = load<u32>(IN + (t << 2));
    const hi = (tags >> 1) & 0x55555555;
    const lo = tags & 0x55555555;
    nMiss += popcnt<u32>(hi & ~lo);
    nQ += popcnt<u32>(lo);
    nP += popcnt<u32>(lo & ~hi);
  }
  if (qposStart - FULL_START != nMiss || lowStart - qposStart != (nQ + 7) >> 3 || end - lowStart != (nP + 2) / 3) return ERR_COUNTS;
  let qi: usize = QPOS;
  for (let o = qposStart; o < lowStart; o++, qi += 8) {
    const v = load<u32>(IN + (<usize>o << 2));
    store<u8>(qi, v & 15); store<u8>(qi + 1, (v >> 4) & 15); store<u8>(qi + 2, (v >> 8) & 15); store<u8>(qi + 3, (v >> 12) & 15);
    store<u8>(qi + 4, (v >> 16) & 15); store<u8>(qi + 5, (v >> 20) & 15); store<u8>(qi + 6, (v >> 24) & 15); store<u8>(qi + 7, v >> 28);
  }
  let li: usize = LOWS;
  for (let o = lowStart; o < end; o++, li += 6) {
    const v = load<u32>(IN + (<usize>o << 2));
    store<u16>(li, v & 0x3ff); store<u16>(li + 2, (v >> 10) & 0x3ff); store<u16>(li + 4, (v >> 20) & 0x3ff);
  }
  resetDict();
  let full: usize = IN + (<usize>FULL_START << 2), q: usize = QPOS, l: usize = LOWS, i: usize = OUT;
  for (let t: usize = HEADER_WORDS; t < FULL_START; t++) {
    let tags = load<u32>(IN + (t << 2));
    if (tags == 0) {
      memory.fill(i, 0, 64); // 16 ZERO words
      i += 64;
      continue;
    }
    // Two tags per step through a 16-way switch (a jump table): the four tags are about
    // equally common in real memory, so a branch per word mispredicts most of the time.
    for (let k = 0; k < 8; k++, i += 8, tags >>= 4) {
      switch (tags & 15) {
        case 0: /* ZERO, ZERO */ store<u32>(i, 0); store<u32>(i + 4, 0); break;
        case 1: /* PARTIAL, ZERO */ { const dp = DICT + (<usize>load<u8>(q++) << 2); const x = (load<u32>(dp) & HIGH) | <u32>load<u16>(l); l += 2; store<u32>(dp, x); store<u32>(i, x); } store<u32>(i + 4, 0); break;
        case 2: /* MISS, ZERO */ { const x = load<u32>(full); full += 4; store<u32>(DICT + (<usize>load<u8>(SLOT + ((x >> 10) & 0xff)) << 2), x); store<u32>(i, x); } store<u32>(i + 4, 0); break;
        case 3: /* EXACT, ZERO */ store<u32>(i, load<u32>(DICT + (<usize>load<u8>(q++) << 2))); store<u32>(i + 4, 0); break;
        case 4: /* ZERO, PARTIAL */ store<u32>(i, 0); { const dp = DICT + (<usize>load<u8>(q++) << 2); const x = (load<u32>(dp) & HIGH) | <u32>load<u16>(l); l += 2; store<u32>(dp, x); store<u32>(i + 4, x); } break;
        case 5: /* PARTIAL, PARTIAL */ { const dp = DICT + (<usize>load<u8>(q++) << 2); const x = (load<u32>(dp) & HIGH) | <u32>load<u16>(l); l += 2; store<u32>(dp, x); store<u32>(i, x); } { const dp = DICT + (<usize>load<u8>(q++) << 2); const x = (load<u32>(dp) & HIGH) | <u32>load<u16>(l); l += 2; store<u32>(dp, x); store<u32>(i + 4, x); } break;
        case 6: /* MISS, PARTIAL */ { const x = load<u32>(full); full += 4; store<u32>(DICT + (<usize>load<u8>(SLOT + ((x >> 10) & 0xff)) << 2), x); store<u32>(i, x); } { const dp = DICT + (<usize>load<u8>(q++) << 2); const x = (load<u32>(dp) & HIGH) | <u32>load<u16>(l); l += 2; store<u32>(dp, x); store<u32>(i + 4, x); } break;
        case 7: /* EXACT, PARTIAL */ store<u32>(i, load<u32>(DICT + (<usize>load<u8>(q++) << 2))); { const dp = DICT + (<usize>load<u8>(q++) << 2); const x = (load<u32>(dp) & HIGH) | <u32>load<u16>(l); l += 2; store<u32>(dp, x); store<u32>(i + 4, x); } break;
        case 8: /* ZERO, MISS */ store<u32>(i, 0); { const x = load<u32>(full); full += 4; store<u32>(DICT + (<usize>load<u8>(SLOT + ((x >> 10) & 0xff)) << 2), x); store<u32>(i + 4, x); } break;
        case 9: /* PARTIAL, MISS */ { const dp = DICT + (<usize>load<u8>(q++) << 2); const x = (load<u32>(dp) & HIGH) | <u32>load<u16>(l); l += 2; store<u32>(dp, x); store<u32>(i, x); } { const x = load<u32>(full); full += 4; store<u32>(DICT + (<usize>load<u8>(SLOT + ((x >> 10) & 0xff)) << 2), x); store<u32>(i + 4, x); } break;
        case 10: /* MISS, MISS */ { const x = load<u32>(full); full += 4; store<u32>(DICT + (<usize>load<u8>(SLOT + ((x >> 10) & 0xff)) << 2), x); store<u32>(i, x); } { const x = load<u32>(full); full += 4; store<u32>(DICT + (<usize>load<u8>(SLOT + ((x >> 10) & 0xff)) << 2), x); store<u32>(i + 4, x); } break;
        case 11: /* EXACT, MISS */ store<u32>(i, load<u32>(DICT + (<usize>load<u8>(q++) << 2))); { const x = load<u32>(full); full += 4; store<u32>(DICT + (<usize>load<u8>(SLOT + ((x >> 10) & 0xff)) << 2), x); store<u32>(i + 4, x); } break;
        case 12: /* ZERO, EXACT */ store<u32>(i, 0); store<u32>(i + 4, load<u32>(DICT + (<usize>load<u8>(q++) << 2))); break;
        case 13: /* PARTIAL, EXACT */ { const dp = DICT + (<usize>load<u8>(q++) << 2); const x = (load<u32>(dp) & HIGH) | <u32>load<u16>(l); l += 2; store<u32>(dp, x); store<u32>(i, x); } store<u32>(i + 4, load<u32>(DICT + (<usize>load<u8>(q++) << 2))); break;
        case 14: /* MISS, EXACT */ { const x = load<u32>(full); full += 4; store<u32>(DICT + (<usize>load<u8>(SLOT + ((x >> 10) & 0xff)) << 2), x); store<u32>(i, x); } store<u32>(i + 4, load<u32>(DICT + (<usize>load<u8>(q++) << 2))); break;
        case 15: /* EXACT, EXACT */ store<u32>(i, load<u32>(DICT + (<usize>load<u8>(q++) << 2))); store<u32>(i + 4, load<u32>(DICT + (<usize>load<u8>(q++) << 2))); break;
      }
    }
  }
  return 0;
}
