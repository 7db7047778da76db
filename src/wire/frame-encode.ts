/**
 * FrameEncoder: one Batch -> one self-delimiting frame (docs/frame-format.md).
 */
import { Xxh64 } from '@node-rs/xxhash';
import zstd from 'zstd-napi/binding.js';
import { CodecId, CODEC_NAMES, PAGE_SIZE } from '../codec/ids.js';
import { PageEncoder, PAGE_POLICIES, type PagePolicy } from '../codec/page-encoder.js';
import { ZstdContext } from '../codec/zstd.js';
import type { Batch } from './batch.js';
import { WireCodes, WireError } from './errors.js';
import {
  ENTRY_ADDR_HI, ENTRY_ADDR_LO, ENTRY_CODEC, ENTRY_GLUE_BEFORE, ENTRY_LENGTH, ENTRY_RESERVED,
  FLAG_GLUE_ZSTD, FRAME_CHECKSUM_LENGTH, FRAME_HEADER_LENGTH, FRAME_MAGIC_U32, FRAME_MAX_ADDR, FRAME_MAX_GLUE,
  FRAME_MAX_PAGES, FRAME_VERSION, GLUE_COMPRESS_MIN, OFF_FLAGS, OFF_GLUE_LENGTH, OFF_GLUE_STORED, OFF_LENGTH,
  OFF_MAGIC, OFF_PAGE_COUNT, OFF_RESERVED, OFF_VERSION, PAGE_ENTRY_LENGTH,
} from './frame-format.js';

export const CODEC_POLICIES = PAGE_POLICIES;
export type CodecPolicy = PagePolicy;

export interface FrameEncoderOptions {
  policy: CodecPolicy;
  /** zstd level for ZSTD pages (default 1). */
  zstdLevel?: number;
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

export class FrameEncoder {
  readonly policy: CodecPolicy;
  private readonly pe: PageEncoder;
  private readonly glueZstd = new ZstdContext(GLUE_ZSTD_LEVEL);
  private readonly hash = new Xxh64(0n);
  private payloads = new Uint8Array(256 * PAGE_SIZE);
  private codecs = new Uint8Array(256);
  private lengths = new Uint32Array(256);
  private glueOut = Buffer.alloc(0);
  private readonly counts = new Float64Array(CODEC_NAMES.length);
  private frames = 0;
  private pages = 0;
  private bytesIn = 0;
  private bytesOut = 0;

  constructor(opts: FrameEncoderOptions) {
    if (!(PAGE_POLICIES as readonly string[]).includes(opts.policy)) throw new RangeError(`unknown codec policy ${opts.policy}`);
    this.policy = opts.policy;
    this.pe = new PageEncoder({ policy: opts.policy, zstdLevel: opts.zstdLevel });
  }

  encode(batch: Batch): Uint8Array {
    const n = batch.pageCount;
    const glueLength = batch.glueLength;
    if (n > FRAME_MAX_PAGES) throw new WireError(WireCodes.length, `batch of ${n} pages exceeds ${FRAME_MAX_PAGES}`, { expected: FRAME_MAX_PAGES, received: n });
    if (glueLength > FRAME_MAX_GLUE) throw new WireError(WireCodes.length, `batch glue of ${glueLength} bytes exceeds ${FRAME_MAX_GLUE}`, { expected: FRAME_MAX_GLUE, received: glueLength });
    this.reserve(n);
    const pe = this.pe;
    const pages = batch.pages;
    const hash = this.hash;
    hash.reset(0n);
    let pos = 0;
    let g = 0;
    for (let i = 0; i < n; i++) {
      const gb = batch.glueBefore[i];
      if (gb > 0) hash.update(batch.glue.subarray(g, g + gb));
      g += gb;
      const addr = batch.addrs[i];
      if (!(addr >= 0 && addr <= FRAME_MAX_ADDR && Number.isInteger(addr))) {
        throw new WireError(WireCodes.range, `page ${i} address ${addr} is not an integer in 0..${FRAME_MAX_ADDR}`);
      }
      const off = i * PAGE_SIZE;
      hash.update(pages.subarray(off, off + PAGE_SIZE));
      pe.encode(pages, off);
      const len = pe.length;
      this.codecs[i] = pe.id;
      this.lengths[i] = len;
      if (len > 0) this.payloads.set(len === pe.payload.length ? pe.payload : pe.payload.subarray(0, len), pos);
      pos += len;
      this.counts[pe.id]++;
    }
    if (g > glueLength) throw new WireError(WireCodes.range, `glueBefore sums to ${g}, more than the ${glueLength} glue bytes`);
    if (g < glueLength) hash.update(batch.glue.subarray(g, glueLength));
    const digest = hash.digest();

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

    const tableEnd = FRAME_HEADER_LENGTH + n * PAGE_ENTRY_LENGTH;
    const total = tableEnd + glueStored + pos + FRAME_CHECKSUM_LENGTH;
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
    for (let i = 0, e = FRAME_HEADER_LENGTH; i < n; i++, e += PAGE_ENTRY_LENGTH) {
      out[e + ENTRY_CODEC] = this.codecs[i];
      out[e + ENTRY_RESERVED] = 0;
      dv.setUint16(e + ENTRY_LENGTH, this.lengths[i], true);
      dv.setUint32(e + ENTRY_GLUE_BEFORE, batch.glueBefore[i], true);
      const addr = batch.addrs[i];
      dv.setUint32(e + ENTRY_ADDR_LO, addr % 0x100000000, true);
      dv.setUint32(e + ENTRY_ADDR_HI, Math.floor(addr / 0x100000000), true);
    }
    if (glueStored > 0) out.set(glueSrc.subarray(0, glueStored), tableEnd);
    out.set(this.payloads.subarray(0, pos), tableEnd + glueStored);
    dv.setBigUint64(total - FRAME_CHECKSUM_LENGTH, digest, true);

    this.frames++;
    this.pages += n;
    this.bytesIn += glueLength + n * PAGE_SIZE;
    this.bytesOut += total;
    return out;
  }

  /** Pages encoded so far, by codec name (only codecs used at least once). */
  pagesByCodec(): Record<string, number> {
    const r: Record<string, number> = {};
    for (let id = 0; id < this.counts.length; id++) if (this.counts[id] > 0) r[CODEC_NAMES[id]] = this.counts[id];
    return r;
  }

  get stats(): FrameEncoderStats {
    return { frames: this.frames, pages: this.pages, bytesIn: this.bytesIn, bytesOut: this.bytesOut, pagesByCodec: this.pagesByCodec() };
  }

  private reserve(n: number): void {
    if (this.codecs.length < n) {
      this.codecs = new Uint8Array(n);
      this.lengths = new Uint32Array(n);
      this.payloads = new Uint8Array(n * PAGE_SIZE);
    }
  }
}

export { CodecId };
