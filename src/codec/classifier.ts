/**
 * Page classifier for the adaptive policy (MECOM's "characteristic-based
 * compression"): decides a page's codec from cheap features of the page,
 * without trial-compressing it with every codec. Thresholds are named
 * constants; docs/codec.md gives the measurements behind each one.
 */
import { CodecId, PAGE_WORDS } from './ids.js';
import { isZeroPage } from './zero.js';
import { isFillPage } from './fill.js';
import { WKDM_FULL_START, type WkdmCodec } from './wkdm.js';
import type { PageRef } from './page.js';

/** Number of sampled runs and words per run (8 x 16 = 128 of 1024 words, 1/8 of the page). */
export const SAMPLE_RUNS = 8;
export const SAMPLE_RUN_WORDS = 16;
const SAMPLE_STRIDE = PAGE_WORDS / SAMPLE_RUNS;
const SAMPLE_WORDS = SAMPLE_RUNS * SAMPLE_RUN_WORDS;

/**
 * Route to WKdm when its estimated ratio (from the sampled tags) is at least
 * this. docs/codec.md, "Classifier thresholds".
 */
export const WKDM_MIN_EST_RATIO = 2.0;
/**
 * Sampled byte entropy (bits per byte, over 512 sampled bytes) above which a
 * page is sent RAW without trying an LZ coder: such pages (random, encrypted,
 * already compressed) do not shrink. Uniform random bytes measure about 7.3
 * with 512 samples.
 */
export const RAW_MIN_ENTROPY = 6.9;
/**
 * Sampled zero words (of 128) at or above which a non-zero page is "sparse" and goes to LZ4:
 * WKdm cannot go below its 268-byte header and tag area, while LZ4 codes long zero runs in a
 * few bytes. Measured on pages of N pointer-like words among zeros (scratch, this session):
 * N = 1: WKdm 272 B, LZ4 31 B; N = 16: 300 vs 91; N = 32: 332 vs 171; N = 64: 388 vs 331;
 * N = 128: 508 vs 651. 120/128 zero words (~94%) keeps to the side where LZ4 clearly wins.
 * This is what a page touched by one counter (the `hog` workload) looks like.
 */
export const SPARSE_MIN_ZERO_WORDS = 120;
/**
 * Below this sampled entropy, zstd is used instead of lz4 for non-WKdm pages. At 8 (the
 * maximum) every such page goes to zstd; 0 sends them to lz4 (a test and benchmark knob).
 */
export const ZSTD_MAX_ENTROPY = 8;
/**
 * Sampled words (of 128) that are zero or hit the simulated dictionary below which the page is
 * checked for entropy. Uniform random pages score 0-1; the pages that reach the entropy check in
 * the built-in corpus are text-like and score 0-3.
 */
export const MAX_HITS_FOR_ENTROPY = 4;


/** Features of one page, filled by `Classifier.measure` (reused object). */
export interface PageFeatures {
  zeroWords: number;
  exact: number;
  partial: number;
  miss: number;
  /** Estimated WKdm compression ratio from the sample. */
  wkdmEstRatio: number;
  /** Shannon entropy of the sampled bytes, bits per byte. */
  entropy: number;
}

/** log2 table for entropy without Math.log per symbol. */
const N_SAMPLE_BYTES = SAMPLE_WORDS * 4;
const PLOGP: Float64Array = (() => {
  const t = new Float64Array(N_SAMPLE_BYTES + 1);
  for (let c = 1; c <= N_SAMPLE_BYTES; c++) {
    const p = c / N_SAMPLE_BYTES;
    t[c] = -p * Math.log2(p);
  }
  return t;
})();

export class Classifier {
  readonly features: PageFeatures = { zeroWords: 0, exact: 0, partial: 0, miss: 0, wkdmEstRatio: 0, entropy: 0 };
  private readonly hist = new Uint16Array(256);

  constructor(
    readonly wkdmMinEstRatio = WKDM_MIN_EST_RATIO,
    readonly rawMinEntropy = RAW_MIN_ENTROPY,
    readonly zstdMaxEntropy = ZSTD_MAX_ENTROPY,
  ) {}

  /**
   * Codec for the page `ref`. The word sample runs in the WKdm kernel `wk`, which is left
   * holding the page: a caller that gets WKDM can go on with `wk.encodeLoaded()`.
   */
  classify(ref: PageRef, wk: WkdmCodec): CodecId {
    const w = ref.words;
    const off = ref.wordOff;
    if (isZeroPage(w, off)) return CodecId.Zero;
    if (isFillPage(w, off)) return CodecId.Fill;
    const f = this.sampleWords(ref, wk);
    if (f.zeroWords >= SPARSE_MIN_ZERO_WORDS) return CodecId.Lz4;
    if (f.wkdmEstRatio >= this.wkdmMinEstRatio) return CodecId.Wkdm;
    // Only a page whose sampled words nearly all miss can be incompressible: random words share
    // 22 high bits with a dictionary entry with probability ~2^-18, and are almost never zero.
    // The byte histogram costs as much as the word sample, so the other pages skip it.
    if (f.zeroWords + f.exact + f.partial < MAX_HITS_FOR_ENTROPY) {
      if (this.sampleEntropy(w, off) >= this.rawMinEntropy) return CodecId.Raw;
    }
    return this.zstdMaxEntropy > 0 ? CodecId.Zstd : CodecId.Lz4;
  }

  /** All features of the page: the word sample and the byte entropy. */
  measure(ref: PageRef, wk: WkdmCodec): PageFeatures {
    this.sampleWords(ref, wk);
    this.sampleEntropy(ref.words, ref.wordOff);
    return this.features;
  }

  /**
   * Simulated WKdm tags over SAMPLE_RUNS runs of SAMPLE_RUN_WORDS words, computed in the WKdm
   * kernel (a TypeScript loop took ~1.7 µs a page here, most of a fast page's budget): fills
   * every feature but `entropy`.
   */
  private sampleWords(ref: PageRef, wk: WkdmCodec): PageFeatures {
    wk.load(ref);
    const packed = wk.sampleLoaded();
    const zero = packed & 0xff;
    const exact = (packed >>> 8) & 0xff;
    const partial = (packed >>> 16) & 0xff;
    const miss = SAMPLE_WORDS - zero - exact - partial;
    const f = this.features;
    f.zeroWords = zero; f.exact = exact; f.partial = partial; f.miss = miss;
    f.entropy = Number.NaN;
    // Estimated WKdm words for the whole page: header+tags, full words, 4-bit indices, 10-bit lows.
    const scale = PAGE_WORDS / SAMPLE_WORDS;
    const estWords = WKDM_FULL_START + scale * (miss + (exact + partial) / 8 + partial / 3);
    f.wkdmEstRatio = PAGE_WORDS / estWords;
    return f;
  }

  /** Shannon entropy (bits per byte) of the same sampled words' bytes; stored in `features`. */
  private sampleEntropy(w: Uint32Array, off: number): number {
    const hist = this.hist;
    hist.fill(0);
    for (let r = 0; r < SAMPLE_RUNS; r++) {
      const start = off + r * SAMPLE_STRIDE;
      for (let j = 0; j < SAMPLE_RUN_WORDS; j++) {
        const x = w[start + j];
        hist[x & 0xff]++;
        hist[(x >>> 8) & 0xff]++;
        hist[(x >>> 16) & 0xff]++;
        hist[x >>> 24]++;
      }
    }
    let h = 0;
    for (let i = 0; i < 256; i++) h += PLOGP[hist[i]];
    this.features.entropy = h;
    return h;
  }
}
