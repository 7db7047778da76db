/**
 * FrameEncoder: one Batch -> one self-delimiting frame (docs/frame-format.md).
 *
 * Two ways to pick each page's codec:
 * - a page policy (`raw`, `zero`, `wkdm`, `lz4`, `zstd`, `adaptive` = classifier only), per page;
 * - a plan (src/codec/cost-model.ts): the classifier sorts pages into classes, the plan names a
 *   codec setting per class, and the `-group` settings compress all their pages together in one
 *   zstd or lz4 call ("Group blocks"). The policies `lz4-group` and `zstd-group` are fixed plans.
 * With a plan the encoder measures what each codec cost and produced (`lastMeasure`), and with
 * `probe` it also measures the alternatives on a few pages of each class, for the cost model
 * (src/wire/probe.ts). Group blocks are compressed by src/wire/group-compress.ts.
 */
import { performance } from 'node:perf_hooks';
import { xxh64 } from '@node-rs/xxhash';
import zstd from 'zstd-napi/binding.js';
import { CodecId, CODEC_NAMES, GROUP_LZ4, GROUP_TAGS, GROUP_ZSTD, PAGE_SIZE, codecName } from '../codec/ids.js';
import { PageEncoder, PAGE_POLICIES, type PagePolicy } from '../codec/page-encoder.js';
import { ZstdContext, ZSTD_DEFAULT_LEVEL } from '../codec/zstd.js';
import {
  CODEC_CHOICES, GROUP_RECORD_WIDTH, N_CLASSES, cellIndex, emptyCells, planFromChoice, type EncodeMeasure, type Plan,
} from '../codec/cost-model.js';
import type { Batch } from './batch.js';
import { GroupCompressor } from './group-compress.js';
import { PROBE_GROUP_PAGES, noteUniform, probeAlternatives } from './probe.js';
import { WireCodes, WireError } from './errors.js';
import {
  ENTRY_ADDR_HI, ENTRY_ADDR_LO, ENTRY_CODEC, ENTRY_GLUE_BEFORE, ENTRY_LENGTH, ENTRY_RESERVED,
  FLAG_GLUE_ZSTD, FRAME_CHECKSUM_LENGTH, FRAME_HEADER_LENGTH, FRAME_MAGIC_U32, FRAME_MAX_ADDR, FRAME_MAX_GLUE,
  FRAME_MAX_PAGES, FRAME_VERSION, GLUE_COMPRESS_MIN, GROUP_BLOCK_PREFIX, OFF_FLAGS, OFF_GLUE_LENGTH, OFF_GLUE_STORED,
  OFF_LENGTH, OFF_MAGIC, OFF_PAGE_COUNT, OFF_RESERVED, OFF_VERSION, PAGE_ENTRY_LENGTH,
} from './frame-format.js';

/** Frame policies: the page policies plus fixed multi-page (group) plans. */
export const CODEC_POLICIES = [...PAGE_POLICIES, 'lz4-group', 'zstd-group'] as const;
export type CodecPolicy = (typeof CODEC_POLICIES)[number];

export interface FrameEncoderOptions {
  policy: CodecPolicy;
  /** zstd level for ZSTD pages and zstd groups (default 1). */
  zstdLevel?: number;
}

export interface EncodeOptions {
  /** Codec choice per page class (cost model). Only with policy `adaptive`. */
  plan?: Plan;
  /** Also measure the alternatives on a sample of each class (needs a plan or a group policy). */
  probe?: boolean;
  /** Pages per class for probing group choices (default PROBE_GROUP_PAGES). */
  probeGroupPages?: number;
}

/** What the encode pool posts to a worker for one batch (src/wire/codec-pool.ts, codec-worker.ts). */
export interface EncodeJob { batch: Batch; plan?: Plan; probe?: boolean; probeGroupPages?: number }

/**
 * Encode one pool job: the worker's only call of `encode`, shared with its warm-up
 * (src/wire/encoder-warmup.ts). V8 optimises `encode` for the shape of the options object it
 * sees; the warm-up's objects had other properties than the worker's, and the worker's first
 * batch threw the optimised code away ("wrong map"), to be compiled again during the migration.
 */
export function encodeJob(enc: FrameEncoder, job: EncodeJob): Uint8Array {
  return enc.encode(job.batch, { plan: job.plan, probe: job.probe, probeGroupPages: job.probeGroupPages });
}

export interface FrameEncoderStats {
  frames: number;
  pages: number;
  /** Span bytes encoded (glue + pages). */
  bytesIn: number;
  /** Frame bytes produced. */
  bytesOut: number;
  pagesByCodec: Record<string, number>;
}

const GLUE_ZSTD_LEVEL = 1;
/** Marks a page whose payload is the page itself (RAW) or none (ZERO) or lives in a group block. */
const NO_PAYLOAD = -1;
const GROUP_INDEX: Record<number, number> = { [GROUP_LZ4]: 0, [GROUP_ZSTD]: 1 };
const CHOICE_RAW = 0, CHOICE_LZ4G = 4, CHOICE_ZSTDG = 5;
const CHOICE_CODEC = [CodecId.Raw, CodecId.Wkdm, CodecId.Lz4, CodecId.Zstd];

/** Classifier codec -> page class (index into PAGE_CLASSES), -1 for zero/fill. */
function classOf(id: CodecId): number {
  switch (id) {
    case CodecId.Zero: case CodecId.Fill: return -1;
    case CodecId.Wkdm: return 0;
    case CodecId.Raw: return 2;
    default: return 1;
  }
}

export class FrameEncoder {
  readonly policy: CodecPolicy;
  private readonly pe: PageEncoder;
  private readonly fixedPlan: Plan | undefined;
  private readonly glueZstd = new ZstdContext(GLUE_ZSTD_LEVEL);
  private payloads = new Uint8Array(256 * PAGE_SIZE);
  private codecs = new Uint8Array(256);
  private lengths = new Uint32Array(256);
  private payOff = new Int32Array(256);
  private cls = new Int8Array(256);
  /** Group blocks of the frame being encoded. */
  private readonly groups: GroupCompressor;
  /** Probes compress into buffers of their own: the frame's group blocks must survive them. */
  private readonly probeGroups: GroupCompressor;
  private glueOut = Buffer.alloc(0);
  private readonly counts = new Float64Array(CODEC_NAMES.length + 2);
  private frames = 0;
  private pages = 0;
  private bytesIn = 0;
  private bytesOut = 0;
  /** Measurements of the last `encode` with a plan (null otherwise). */
  lastMeasure: EncodeMeasure | null = null;

  constructor(opts: FrameEncoderOptions) {
    if (!(CODEC_POLICIES as readonly string[]).includes(opts.policy)) throw new RangeError(`unknown codec policy ${opts.policy}`);
    this.policy = opts.policy;
    const group = opts.policy === 'lz4-group' || opts.policy === 'zstd-group';
    this.fixedPlan = group ? planFromChoice(opts.policy as 'lz4-group' | 'zstd-group') : undefined;
    this.pe = new PageEncoder({ policy: group ? 'adaptive' : (opts.policy as PagePolicy), zstdLevel: opts.zstdLevel });
    const groupZstd = new ZstdContext(opts.zstdLevel ?? ZSTD_DEFAULT_LEVEL);
    this.groups = new GroupCompressor(groupZstd);
    this.probeGroups = new GroupCompressor(groupZstd);
  }

  encode(batch: Batch, opts: EncodeOptions = {}): Uint8Array {
    const n = batch.pageCount;
    const glueLength = batch.glueLength;
    if (n > FRAME_MAX_PAGES) throw new WireError(WireCodes.length, `batch of ${n} pages exceeds ${FRAME_MAX_PAGES}`, { expected: FRAME_MAX_PAGES, received: n });
    if (glueLength > FRAME_MAX_GLUE) throw new WireError(WireCodes.length, `batch glue of ${glueLength} bytes exceeds ${FRAME_MAX_GLUE}`, { expected: FRAME_MAX_GLUE, received: glueLength });
    if (opts.plan && this.policy !== 'adaptive') throw new RangeError(`a plan needs policy adaptive, not ${this.policy}`);
    const plan = opts.plan ?? this.fixedPlan;
    const t0 = performance.now();
    this.reserve(n);
    let g = 0;
    for (let i = 0; i < n; i++) {
      g += batch.glueBefore[i];
      const addr = batch.addrs[i];
      if (!(addr >= 0 && addr <= FRAME_MAX_ADDR && Number.isInteger(addr))) {
        throw new WireError(WireCodes.range, `page ${i} address ${addr} is not an integer in 0..${FRAME_MAX_ADDR}`);
      }
    }
    if (g > glueLength) throw new WireError(WireCodes.range, `glueBefore sums to ${g}, more than the ${glueLength} glue bytes`);

    const groupLen = [0, 0];
    if (plan === undefined) {
      this.encodePages(batch);
      this.lastMeasure = null;
    } else {
      const m = this.newMeasure(batch);
      m.plan = [...plan];
      this.encodePlanned(batch, plan, m, groupLen, !!opts.probe);
      m.probeSeconds = opts.probe ? probeAlternatives({ pe: this.pe, cls: this.cls, groups: this.probeGroups }, batch, plan, m, opts.probeGroupPages ?? PROBE_GROUP_PAGES) : 0;
      this.lastMeasure = m;
    }

    // "Glue": store zstd-compressed when that is smaller.
    let flags = 0;
    let glueStored = glueLength;
    let glueSrc: Uint8Array = batch.glue;
    if (glueLength >= GLUE_COMPRESS_MIN) {
      const bound = zstd.compressBound(glueLength);
      if (this.glueOut.length < bound) this.glueOut = Buffer.alloc(bound);
      const c = this.glueZstd.compress(this.glueOut, batch.glue.subarray(0, glueLength));
      if (c > 0 && c < glueLength) {
        flags |= FLAG_GLUE_ZSTD;
        glueStored = c;
        glueSrc = this.glueOut;
      }
    }

    // Per-page payload bytes; group blocks follow them.
    let pagePayload = 0;
    for (let i = 0; i < n; i++) pagePayload += this.lengths[i];
    const tableEnd = FRAME_HEADER_LENGTH + n * PAGE_ENTRY_LENGTH;
    const total = tableEnd + glueStored + pagePayload + groupLen[0] + groupLen[1] + FRAME_CHECKSUM_LENGTH;
    const out = new Uint8Array(total);
    const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
    dv.setUint32(OFF_MAGIC, FRAME_MAGIC_U32, true);
    dv.setUint32(OFF_LENGTH, total, true);
    out[OFF_VERSION] = FRAME_VERSION;
    out[OFF_FLAGS] = flags;
    dv.setUint16(OFF_RESERVED, 0, true);
    dv.setUint32(OFF_PAGE_COUNT, n, true);
    dv.setUint32(OFF_GLUE_LENGTH, glueLength, true);
    dv.setUint32(OFF_GLUE_STORED, glueStored, true);
    if (glueStored > 0) out.set(glueSrc.subarray(0, glueStored), tableEnd);
    let p = tableEnd + glueStored;
    for (let i = 0, e = FRAME_HEADER_LENGTH; i < n; i++, e += PAGE_ENTRY_LENGTH) {
      const codec = this.codecs[i];
      const len = this.lengths[i];
      out[e + ENTRY_CODEC] = codec;
      out[e + ENTRY_RESERVED] = 0;
      dv.setUint16(e + ENTRY_LENGTH, len, true);
      dv.setUint32(e + ENTRY_GLUE_BEFORE, batch.glueBefore[i], true);
      const addr = batch.addrs[i];
      dv.setUint32(e + ENTRY_ADDR_LO, addr % 0x100000000, true);
      dv.setUint32(e + ENTRY_ADDR_HI, Math.floor(addr / 0x100000000), true);
      if (len > 0) {
        const src = this.payOff[i];
        if (src === NO_PAYLOAD) out.set(batch.pages.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE), p);
        else out.set(this.payloads.subarray(src, src + len), p);
        p += len;
      }
      this.counts[codec >= 0x80 ? CODEC_NAMES.length + GROUP_INDEX[codec] : codec]++;
    }
    // "Group blocks", in tag order: u32 stored length, then the compressed pages.
    for (const tag of GROUP_TAGS) {
      const L = groupLen[GROUP_INDEX[tag]];
      if (L === 0) continue;
      const stored = L - GROUP_BLOCK_PREFIX;
      dv.setUint32(p, stored, true);
      out.set(this.groups.block(tag).subarray(0, stored), p + GROUP_BLOCK_PREFIX);
      p += L;
    }
    // "Checksum": one hash over the frame as sent. (Version 2 hashed the decoded span, which the
    // encoder holds as glue and pages apart: 512 native calls per batch, a third of a raw batch's
    // encode time. The span is still proven end to end by the stream digest; docs/frame-format.md.)
    dv.setBigUint64(total - FRAME_CHECKSUM_LENGTH, xxh64(out.subarray(0, total - FRAME_CHECKSUM_LENGTH), 0n), true);

    this.frames++;
    this.pages += n;
    this.bytesIn += glueLength + n * PAGE_SIZE;
    this.bytesOut += total;
    const m = this.lastMeasure;
    if (m && plan !== undefined) {
      // Base = everything but the page codecs and the probes, frame assembly and checksum
      // included: for an all-raw plan that is the whole cost of a batch.
      m.seconds = (performance.now() - t0) / 1000;
      let codecSeconds = 0;
      for (let c = 0; c < N_CLASSES; c++) codecSeconds += m.cells[cellIndex(c, plan[c]) + 2];
      for (let o = 0; m.groups && o < m.groups.length; o += GROUP_RECORD_WIDTH) codecSeconds += m.groups[o + 2];
      m.baseSeconds = Math.max(0, m.seconds - codecSeconds - (m.probeSeconds ?? 0));
    }
    return out;
  }

  /** Pages encoded so far, by codec name (only codecs used at least once). */
  pagesByCodec(): Record<string, number> {
    const r: Record<string, number> = {};
    for (let id = 0; id < CODEC_NAMES.length; id++) if (this.counts[id] > 0) r[CODEC_NAMES[id]] = this.counts[id];
    for (const tag of GROUP_TAGS) {
      const c = this.counts[CODEC_NAMES.length + GROUP_INDEX[tag]];
      if (c > 0) r[codecName(tag)] = c;
    }
    return r;
  }

  get stats(): FrameEncoderStats {
    return { frames: this.frames, pages: this.pages, bytesIn: this.bytesIn, bytesOut: this.bytesOut, pagesByCodec: this.pagesByCodec() };
  }

  /** Page policy path: one codec decision per page. */
  private encodePages(batch: Batch): void {
    const pe = this.pe;
    let pos = 0;
    for (let i = 0; i < batch.pageCount; i++) {
      pe.encode(batch.pages, i * PAGE_SIZE);
      pos = this.store(i, pos);
    }
  }

  /** Record the page encoder's result for page i; payloads other than RAW go to the scratch. */
  private store(i: number, pos: number): number {
    const pe = this.pe;
    const len = pe.length;
    this.codecs[i] = pe.id;
    this.lengths[i] = len;
    if (pe.id === CodecId.Raw || len === 0) {
      this.payOff[i] = NO_PAYLOAD;
      return pos;
    }
    this.payloads.set(len === pe.payload.length ? pe.payload : pe.payload.subarray(0, len), pos);
    this.payOff[i] = pos;
    return pos + len;
  }

  private newMeasure(batch: Batch): EncodeMeasure {
    return { pages: batch.pageCount, classPages: new Array(N_CLASSES).fill(0), bytesIn: batch.glueLength + batch.pageCount * PAGE_SIZE, seconds: 0, baseSeconds: 0, cells: emptyCells() };
  }

  /** Plan path: classify, encode per-page choices now, group choices in one call per codec. */
  private encodePlanned(batch: Batch, plan: Plan, m: EncodeMeasure, groupLen: number[], probing: boolean): void {
    const pe = this.pe;
    const n = batch.pageCount;
    let pos = 0;
    let lz4g = 0, zstdg = 0;
    // All classes raw (a link faster than the codecs): only zero/fill detection, no sampling. The
    // class mix is then unknown, so the measurement does not update it (pages = 0).
    const cheap = plan.every((k) => k === CHOICE_RAW) && !probing;
    if (cheap) { m.pages = 0; m.cheap = true; m.otherPages = 0; m.allPages = n; }
    let classifySeconds = 0;
    for (let i = 0; i < n; i++) {
      let id: CodecId;
      if (cheap) id = pe.classifyCheap(batch.pages, i * PAGE_SIZE);
      else {
        const tc = performance.now();
        id = pe.classify(batch.pages, i * PAGE_SIZE);
        classifySeconds += performance.now() - tc;
      }
      if (cheap && id === CodecId.Raw) {
        m.otherPages!++;
        this.cls[i] = -2;
        pe.encodeAs(CodecId.Raw);
        pos = this.store(i, pos);
        continue;
      }
      const c = classOf(id);
      this.cls[i] = c;
      if (c < 0) {
        pe.encodeAs(id);
        pos = this.store(i, pos);
        continue;
      }
      m.classPages[c]++;
      const k = plan[c];
      if (k === CHOICE_LZ4G || k === CHOICE_ZSTDG) {
        this.codecs[i] = k === CHOICE_LZ4G ? GROUP_LZ4 : GROUP_ZSTD;
        this.lengths[i] = 0;
        this.payOff[i] = NO_PAYLOAD;
        if (k === CHOICE_LZ4G) lz4g++; else zstdg++;
        continue;
      }
      const ts = performance.now();
      pe.encodeAs(CHOICE_CODEC[k]);
      const dt = (performance.now() - ts) / 1000;
      const cell = cellIndex(c, k);
      m.cells[cell] += 1;
      m.cells[cell + 1] += pe.length;
      m.cells[cell + 2] += k === CHOICE_RAW ? 0 : dt;
      pos = this.store(i, pos);
    }
    if (!cheap) m.classifySeconds = classifySeconds / 1000;
    if (lz4g > 0) groupLen[0] = this.encodeGroup(batch, GROUP_LZ4, lz4g, m);
    if (zstdg > 0) groupLen[1] = this.encodeGroup(batch, GROUP_ZSTD, zstdg, m);
  }

  /**
   * Compress every page tagged `tag` together. Returns the block length including its prefix, or
   * 0 when the block would not be smaller than the pages: they are then sent RAW.
   */
  private encodeGroup(batch: Batch, tag: number, members: number, m: EncodeMeasure): number {
    const n = batch.pageCount;
    const ts = performance.now();
    const src = this.groups.gather(batch, members, (i) => this.codecs[i] === tag);
    const stored = this.groups.compress(tag, src);
    const dt = (performance.now() - ts) / 1000;
    const ok = stored > 0 && stored + GROUP_BLOCK_PREFIX < members * PAGE_SIZE;
    const k = tag === GROUP_LZ4 ? CHOICE_LZ4G : CHOICE_ZSTDG;
    const outBytes = ok ? stored + GROUP_BLOCK_PREFIX : members * PAGE_SIZE;
    // Every classified page in this one group: that is the whole-batch measurement itself.
    let classified = 0;
    for (let c = 0; c < N_CLASSES; c++) classified += m.classPages[c];
    if (members === classified) noteUniform(m, k, members, outBytes, dt);
    // The block as a whole; the model splits it among the member classes.
    const rec = m.groups ??= [];
    const o = rec.length;
    rec.push(k, outBytes, dt);
    for (let c = 0; c < N_CLASSES; c++) rec.push(0);
    for (let i = 0; i < n; i++) if (this.codecs[i] === tag) rec[o + 3 + this.cls[i]]++;
    if (ok) return stored + GROUP_BLOCK_PREFIX;
    for (let i = 0; i < n; i++) {
      if (this.codecs[i] !== tag) continue;
      this.codecs[i] = CodecId.Raw;
      this.lengths[i] = PAGE_SIZE;
      this.payOff[i] = NO_PAYLOAD;
    }
    return 0;
  }


  private reserve(n: number): void {
    if (this.codecs.length < n) {
      this.codecs = new Uint8Array(n);
      this.lengths = new Uint32Array(n);
      this.payOff = new Int32Array(n);
      this.cls = new Int8Array(n);
      this.payloads = new Uint8Array(n * PAGE_SIZE);
    }
  }
}

export { CodecId, CODEC_CHOICES };
