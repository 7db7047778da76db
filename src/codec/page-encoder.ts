/**
 * Per-page codec selection: the adaptive policy (classifier) or one fixed
 * codec with RAW fallback. Allocation-free per page apart from napi results.
 */
import { CodecId, PAGE_SIZE, PAGE_WORDS } from './ids.js';
import { Classifier } from './classifier.js';
import { isZeroPage } from './zero.js';
import { FILL_PAYLOAD_LENGTH, isFillPage } from './fill.js';
import { CodecRegistry } from './registry.js';
import { ZSTD_DEFAULT_LEVEL } from './zstd.js';
import type { PageCodec, PageRef } from './page.js';
import type { WkdmCodec } from './wkdm.js';

/**
 * zstd level of the adaptive policy's per-page zstd: a fast level. On the pages the classifier
 * sends to zstd, level -1 was faster than lz4-napi with a much higher ratio, and level 1 was
 * 1.5x slower (docs/codec.md, "zstd level of the adaptive codec").
 */
export const ADAPTIVE_ZSTD_LEVEL = -1;

/** Page policies: `zero` sends zero pages as ZERO and everything else RAW. */
export const PAGE_POLICIES = ['adaptive', 'raw', 'zero', 'wkdm', 'lz4', 'zstd'] as const;
export type PagePolicy = (typeof PAGE_POLICIES)[number];

export interface PageEncoderOptions {
  policy: PagePolicy;
  /**
   * zstd level for pages sent with per-page zstd. Default: ZSTD_DEFAULT_LEVEL (1) for the fixed
   * `zstd` policy, ADAPTIVE_ZSTD_LEVEL (-1) for `adaptive` (docs/codec.md, "zstd level of the
   * adaptive codec").
   */
  zstdLevel?: number;
  classifier?: Classifier;
}

export class PageEncoder {
  readonly policy: PagePolicy;
  readonly registry: CodecRegistry;
  readonly classifier: Classifier;
  /** Result of the last `encode`: codec id, payload view and its length. */
  id: CodecId = CodecId.Raw;
  payload: Uint8Array = new Uint8Array(0);
  length = 0;
  private readonly ref: PageRef = { bytes: new Uint8Array(0), words: new Uint32Array(0), buf: Buffer.alloc(0), byteOff: 0, wordOff: 0 };
  private cachedBuffer: ArrayBufferLike | null = null;
  private readonly aligned = Buffer.alloc(PAGE_SIZE);
  private readonly alignedWords = new Uint32Array(this.aligned.buffer, this.aligned.byteOffset, PAGE_WORDS);
  private readonly fixed: PageCodec | undefined;
  private readonly raw: PageCodec;
  private readonly wkdm: WkdmCodec;
  /** The bound page is in the WKdm kernel's memory (the last `classify` sampled it there). */
  private classifiedLoaded = false;
  /** ZERO or FILL when the last classify settled the bound page as such (checked already). */
  private settled: CodecId | -1 = -1;
  private readonly zero: PageCodec;

  constructor(opts: PageEncoderOptions) {
    this.policy = opts.policy;
    this.registry = new CodecRegistry({ zstdLevel: opts.zstdLevel ?? (opts.policy === 'adaptive' ? ADAPTIVE_ZSTD_LEVEL : ZSTD_DEFAULT_LEVEL) });
    this.classifier = opts.classifier ?? new Classifier();
    this.raw = this.registry.get(CodecId.Raw)!;
    this.wkdm = this.registry.get(CodecId.Wkdm) as WkdmCodec;
    this.zero = this.registry.get(CodecId.Zero)!;
    const fixedId: Record<PagePolicy, CodecId | undefined> = {
      adaptive: undefined, raw: CodecId.Raw, zero: CodecId.Zero, wkdm: CodecId.Wkdm, lz4: CodecId.Lz4, zstd: CodecId.Zstd,
    };
    const f = fixedId[opts.policy];
    this.fixed = f === undefined ? undefined : this.registry.get(f);
    if (this.aligned.byteOffset % 4 !== 0) throw new Error('unaligned scratch');
  }

  /** Encode the page at src[off..off+4096); read the result from id/payload/length. */
  encode(src: Uint8Array, off: number): void {
    const ref = this.bind(src, off);
    if (this.fixed !== undefined) {
      if (this.fixed.id !== CodecId.Raw && this.tryCodec(this.fixed, ref)) return;
      this.useRaw(ref);
      return;
    }
    const id = this.classifier.classify(ref, this.wkdm);
    if (id === CodecId.Wkdm) {
      if (this.tryWkdmLoaded()) return;
      // WKdm's estimate was wrong: fall back to lz4 before RAW.
      if (this.tryCodec(this.registry.get(CodecId.Lz4)!, ref)) return;
    } else if (id !== CodecId.Raw) {
      if (this.tryCodec(this.registry.get(id)!, ref)) return;
    }
    this.useRaw(ref);
  }

  /**
   * Bind the page at src[off..off+4096) and return the adaptive classifier's codec for it
   * (ZERO, FILL, WKDM, RAW for high entropy, ZSTD or LZ4 for the rest). Follow with `encodeAs`.
   */
  classify(src: Uint8Array, off: number): CodecId {
    const ref = this.bind(src, off);
    const id = this.classifier.classify(ref, this.wkdm);
    // Every page the classifier did not settle as ZERO or FILL was sampled in the WKdm kernel.
    this.classifiedLoaded = id !== CodecId.Zero && id !== CodecId.Fill;
    if (!this.classifiedLoaded) this.settled = id;
    return id;
  }

  /** Like `classify` but only tells ZERO and FILL apart from the rest (RAW): no sampling. */
  classifyCheap(src: Uint8Array, off: number): CodecId {
    const ref = this.bind(src, off);
    if (isZeroPage(ref.words, ref.wordOff)) return (this.settled = CodecId.Zero);
    if (isFillPage(ref.words, ref.wordOff)) return (this.settled = CodecId.Fill);
    return CodecId.Raw;
  }

  /**
   * Encode the page bound by the last `classify` (or `encode`) with codec `id`, RAW when it does
   * not shrink. Read the result from id/payload/length.
   */
  encodeAs(id: CodecId): void {
    const ref = this.ref;
    if (id === this.settled) {
      // Settled by the classification just made: no second scan of the page (a zero page is
      // 40-60% of a batch; checking it twice was a tenth of an all-raw batch's encode time).
      const c = this.registry.get(id)!;
      if (id === CodecId.Fill) c.out.set(ref.bytes.subarray(ref.byteOff, ref.byteOff + FILL_PAYLOAD_LENGTH));
      this.id = id;
      this.payload = c.out;
      this.length = c.out.length;
      return;
    }
    if (id === CodecId.Wkdm && this.classifiedLoaded) {
      if (this.tryWkdmLoaded()) return;
    } else if (id !== CodecId.Raw && this.tryCodec(this.registry.get(id)!, ref)) return;
    this.useRaw(ref);
  }

  /** WKdm on the page the classifier left in the kernel (no second copy). */
  private tryWkdmLoaded(): boolean {
    const n = this.wkdm.encodeLoaded();
    if (n < 0) return false;
    this.id = CodecId.Wkdm;
    this.payload = this.wkdm.out;
    this.length = n;
    return true;
  }

  private tryCodec(c: PageCodec, ref: PageRef): boolean {
    const n = c.encode(ref);
    if (n < 0) return false;
    this.id = c.id;
    this.payload = c.out;
    this.length = n;
    return true;
  }

  private useRaw(ref: PageRef): void {
    // RAW payload is the page itself; no copy.
    this.id = CodecId.Raw;
    this.payload = ref.bytes.subarray(ref.byteOff, ref.byteOff + PAGE_SIZE);
    this.length = PAGE_SIZE;
  }

  private bind(src: Uint8Array, off: number): PageRef {
    const ref = this.ref;
    this.classifiedLoaded = false;
    this.settled = -1;
    const abs = src.byteOffset + off;
    if ((abs & 3) !== 0) {
      this.aligned.set(src.subarray(off, off + PAGE_SIZE));
      ref.bytes = this.aligned; ref.buf = this.aligned; ref.words = this.alignedWords;
      ref.byteOff = 0; ref.wordOff = 0;
      this.cachedBuffer = null;
      return ref;
    }
    if (this.cachedBuffer !== src.buffer) {
      const ab = src.buffer;
      ref.bytes = new Uint8Array(ab);
      ref.buf = Buffer.from(ab as ArrayBuffer);
      ref.words = new Uint32Array(ab, 0, ab.byteLength >>> 2);
      this.cachedBuffer = ab;
    }
    ref.byteOff = abs;
    ref.wordOff = abs >>> 2;
    return ref;
  }

  /** True if the policy never uses anything but ZERO and RAW (for tests). */
  get zeroOnly(): boolean {
    return this.fixed === this.zero;
  }
}
