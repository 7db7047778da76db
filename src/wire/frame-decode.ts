/**
 * FrameDecoder: one frame -> the exact stream span it covers. Checks the
 * rules of docs/frame-format.md, "Decoder rejection rules", in document order
 * and throws a WireError at the first one broken; nothing is returned unless
 * the frame's xxhash64 matches, except a frame with a chained checksum when the
 * caller asks for it (`deferChained`): its check needs the stream digest, which
 * only the caller has (src/wire/stream-chain.ts).
 */
import { xxh64 } from '@node-rs/xxhash';
import { uncompressSync as lz4Uncompress } from 'lz4-napi';
import { CodecId, CODEC_ID_MAX, GROUP_LZ4, GROUP_TAGS, GROUP_ZSTD, PAGE_SIZE, isGroupTag } from '../codec/ids.js';
import { CodecRegistry } from '../codec/registry.js';
import { WKDM_FULL_START } from '../codec/wkdm.js';
import { FILL_PAYLOAD_LENGTH } from '../codec/fill.js';
import { ZstdContext } from '../codec/zstd.js';
import { WireCodes, WireError } from './errors.js';
import type { ChainCheck } from './stream-chain.js';
import {
  ENTRY_ADDR_HI, ENTRY_ADDR_LO, ENTRY_CODEC, ENTRY_GLUE_BEFORE, ENTRY_LENGTH, ENTRY_RESERVED,
  FLAG_GLUE_ZSTD, FLAG_STREAM_CHAIN, FLAGS_KNOWN, FRAME_CHECKSUM_LENGTH, FRAME_HEADER_LENGTH, FRAME_MAGIC_U32, FRAME_MAX_ADDR,
  FRAME_MAX_GLUE, FRAME_MAX_LENGTH, FRAME_MAX_PAGES, FRAME_MIN_LENGTH, FRAME_VERSION, OFF_FLAGS, OFF_GLUE_LENGTH,
  GROUP_BLOCK_PREFIX, OFF_GLUE_STORED, OFF_LENGTH, OFF_MAGIC, OFF_PAGE_COUNT, OFF_RESERVED, OFF_VERSION, PAGE_ENTRY_LENGTH,
} from './frame-format.js';

export interface DecodeOptions {
  /**
   * Return a frame with a chained checksum unverified, its check in `chained`; the caller must
   * run `verifyChained` before using the span. Without it such a frame is refused (R10).
   */
  deferChained?: boolean;
}

export interface DecodedFrame {
  /**
   * The reconstructed stream bytes: a view of a buffer the decoder reuses (valid until the next
   * decode), or, for a frame of glue only, a view of the frame itself.
   */
  span: Uint8Array;
  pageCount: number;
  glueLength: number;
  frameLength: number;
  /** Set for a frame with a chained checksum (only with `deferChained`): the span is NOT verified yet. */
  chained?: ChainCheck;
}

export interface FrameDecoderOptions {
  /** Largest frame accepted (default FRAME_MAX_LENGTH). */
  maxLength?: number;
}

/** "Page table": legal encoded length per codec. */
function lengthOk(codec: number, len: number): boolean {
  if (codec >= 0x80) return len === 0; // group member: its bytes are in the group block
  switch (codec) {
    case CodecId.Raw: return len === PAGE_SIZE;
    case CodecId.Zero: return len === 0;
    case CodecId.Fill: return len === FILL_PAYLOAD_LENGTH;
    case CodecId.Wkdm: return len >= WKDM_FULL_START * 4 && len < PAGE_SIZE && (len & 3) === 0;
    default: return len >= 1 && len < PAGE_SIZE;
  }
}

/** R10: xxhash64 of the frame bytes before the checksum. */
function verifyChecksum(frame: Uint8Array, dv: DataView, payloadEnd: number): void {
  const want = dv.getBigUint64(payloadEnd, true);
  const got = xxh64(frame.subarray(0, payloadEnd), 0n);
  if (got !== want) throw new WireError(WireCodes.checksum, `frame checksum ${got.toString(16)} does not match frame's ${want.toString(16)}`, { offset: payloadEnd });
}

export class FrameDecoder {
  private readonly maxLength: number;
  private readonly registry = new CodecRegistry();
  private readonly glueZstd = new ZstdContext();
  private spanBuf = new Uint8Array(0);
  private groupBuf = Buffer.alloc(0);
  private lz4In = Buffer.alloc(0);
  private glueBuf = new Uint8Array(0);

  constructor(opts: FrameDecoderOptions = {}) {
    this.maxLength = Math.min(opts.maxLength ?? FRAME_MAX_LENGTH, FRAME_MAX_LENGTH);
  }

  decode(frame: Uint8Array, opts: DecodeOptions = {}): DecodedFrame {
    const size = frame.length;
    const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    // R1 truncated header / R2 magic
    if (size < 4) throw new WireError(WireCodes.truncated, `frame of ${size} bytes is shorter than its magic`, { received: size });
    const magic = dv.getUint32(OFF_MAGIC, true);
    if (magic !== FRAME_MAGIC_U32) throw new WireError(WireCodes.badMagic, `bad frame magic 0x${magic.toString(16)}`, { offset: 0, expected: 'MCF1' });
    if (size < FRAME_HEADER_LENGTH) throw new WireError(WireCodes.truncated, `frame of ${size} bytes is shorter than the ${FRAME_HEADER_LENGTH}-byte header`, { received: size });
    // R3 frame length
    const frameLength = dv.getUint32(OFF_LENGTH, true);
    if (frameLength < FRAME_MIN_LENGTH || frameLength > this.maxLength) {
      throw new WireError(WireCodes.length, `frame length ${frameLength} outside ${FRAME_MIN_LENGTH}..${this.maxLength}`, { offset: OFF_LENGTH, received: frameLength });
    }
    if (frameLength > size) throw new WireError(WireCodes.truncated, `frame declares ${frameLength} bytes, only ${size} present`, { expected: frameLength, received: size });
    if (frameLength < size) throw new WireError(WireCodes.length, `frame declares ${frameLength} bytes but ${size} were given`, { expected: frameLength, received: size });
    // R4 version, R5 reserved
    const version = frame[OFF_VERSION];
    if (version !== FRAME_VERSION) throw new WireError(WireCodes.badVersion, `frame version ${version}, expected ${FRAME_VERSION}`, { offset: OFF_VERSION, expected: FRAME_VERSION, received: version });
    const flags = frame[OFF_FLAGS];
    if ((flags & ~FLAGS_KNOWN) !== 0) throw new WireError(WireCodes.reserved, `reserved flag bits set: 0x${flags.toString(16)}`, { offset: OFF_FLAGS });
    if (dv.getUint16(OFF_RESERVED, true) !== 0) throw new WireError(WireCodes.reserved, 'reserved header bytes are not zero', { offset: OFF_RESERVED });
    // R6 counts and sizes
    const n = dv.getUint32(OFF_PAGE_COUNT, true);
    if (n > FRAME_MAX_PAGES) throw new WireError(WireCodes.length, `page count ${n} exceeds ${FRAME_MAX_PAGES}`, { offset: OFF_PAGE_COUNT, received: n });
    const glueLength = dv.getUint32(OFF_GLUE_LENGTH, true);
    if (glueLength > FRAME_MAX_GLUE) throw new WireError(WireCodes.length, `glue length ${glueLength} exceeds ${FRAME_MAX_GLUE}`, { offset: OFF_GLUE_LENGTH, received: glueLength });
    const glueStored = dv.getUint32(OFF_GLUE_STORED, true);
    const glueZ = (flags & FLAG_GLUE_ZSTD) !== 0;
    // "Chained checksum": only a frame of glue only, stored verbatim, may carry one.
    const chainedSum = (flags & FLAG_STREAM_CHAIN) !== 0;
    if (chainedSum && (n !== 0 || glueZ)) {
      throw new WireError(WireCodes.reserved, `flag STREAM_CHAIN on a frame with ${n} pages${glueZ ? ' and zstd glue' : ''}`, { offset: OFF_FLAGS });
    }
    if (glueZ ? glueStored === 0 || glueStored >= glueLength : glueStored !== glueLength) {
      throw new WireError(WireCodes.length, `stored glue length ${glueStored} is illegal for glue of ${glueLength} bytes (${glueZ ? 'zstd' : 'plain'})`, { offset: OFF_GLUE_STORED });
    }
    const tableEnd = FRAME_HEADER_LENGTH + n * PAGE_ENTRY_LENGTH;
    const payloadStart = tableEnd + glueStored;
    const payloadEnd = frameLength - FRAME_CHECKSUM_LENGTH;
    if (payloadStart > payloadEnd) {
      throw new WireError(WireCodes.length, `page table and glue (${payloadStart} bytes) exceed the frame`, { expected: frameLength });
    }
    // R7 page table
    let payloadSum = 0;
    let glueSum = 0;
    let lz4Members = 0;
    let zstdMembers = 0;
    for (let i = 0, e = FRAME_HEADER_LENGTH; i < n; i++, e += PAGE_ENTRY_LENGTH) {
      const codec = frame[e + ENTRY_CODEC];
      if (codec > CODEC_ID_MAX && !isGroupTag(codec)) throw new WireError(WireCodes.unknownCodec, `page ${i}: unknown codec 0x${codec.toString(16)}`, { offset: e, received: codec });
      if (codec === GROUP_LZ4) lz4Members++;
      else if (codec === GROUP_ZSTD) zstdMembers++;
      if (frame[e + ENTRY_RESERVED] !== 0) throw new WireError(WireCodes.reserved, `page ${i}: reserved entry byte is not zero`, { offset: e + ENTRY_RESERVED });
      const len = dv.getUint16(e + ENTRY_LENGTH, true);
      if (!lengthOk(codec, len)) throw new WireError(WireCodes.length, `page ${i}: encoded length ${len} is illegal for codec ${codec}`, { offset: e + ENTRY_LENGTH, received: len });
      payloadSum += len;
      glueSum += dv.getUint32(e + ENTRY_GLUE_BEFORE, true);
      if (glueSum > glueLength) throw new WireError(WireCodes.range, `page ${i}: glue before pages sums past the ${glueLength} glue bytes`, { offset: e + ENTRY_GLUE_BEFORE });
      const hi = dv.getUint32(e + ENTRY_ADDR_HI, true);
      const addr = hi * 0x100000000 + dv.getUint32(e + ENTRY_ADDR_LO, true);
      if (hi > 0x1fffff || addr > FRAME_MAX_ADDR) throw new WireError(WireCodes.range, `page ${i}: address beyond ${FRAME_MAX_ADDR}`, { offset: e + ENTRY_ADDR_LO });
    }
    // R7 group blocks: after the per-page payloads, one per group tag used, in tag order.
    const groupStart = payloadStart + payloadSum;
    let q = groupStart;
    const blocks: Array<{ tag: number; members: number; at: number; stored: number }> = [];
    for (const tag of GROUP_TAGS) {
      const members = tag === GROUP_LZ4 ? lz4Members : zstdMembers;
      if (members === 0) continue;
      if (q + GROUP_BLOCK_PREFIX > payloadEnd) {
        throw new WireError(WireCodes.length, `group block 0x${tag.toString(16)} length prefix runs past the payloads`, { offset: q });
      }
      const stored = dv.getUint32(q, true);
      const max = members * PAGE_SIZE - GROUP_BLOCK_PREFIX - 1;
      if (stored < 1 || stored > max || q + GROUP_BLOCK_PREFIX + stored > payloadEnd) {
        throw new WireError(WireCodes.length, `group block 0x${tag.toString(16)}: stored length ${stored} illegal for ${members} pages or past the payloads`, { offset: q, received: stored });
      }
      blocks.push({ tag, members, at: q + GROUP_BLOCK_PREFIX, stored });
      q += GROUP_BLOCK_PREFIX + stored;
    }
    if (groupStart > payloadEnd || q !== payloadEnd) {
      throw new WireError(WireCodes.length, `payloads and group blocks take ${q - payloadStart} bytes, frame has room for ${payloadEnd - payloadStart}`, { expected: payloadEnd - payloadStart, received: q - payloadStart });
    }
    // R8 glue
    let glue: Uint8Array;
    if (glueZ) {
      if (this.glueBuf.length < glueLength) this.glueBuf = new Uint8Array(Math.max(glueLength, this.glueBuf.length * 2));
      let got: number;
      try {
        got = this.glueZstd.decompress(this.glueBuf.subarray(0, glueLength), frame.subarray(tableEnd, payloadStart));
      } catch (err) {
        throw new WireError(WireCodes.decode, `glue does not decompress: ${(err as Error).message}`, { offset: tableEnd, cause: err });
      }
      if (got !== glueLength) throw new WireError(WireCodes.decode, `glue decompressed to ${got} bytes, expected ${glueLength}`, { offset: tableEnd, expected: glueLength, received: got });
      glue = this.glueBuf;
    } else {
      glue = frame.subarray(tableEnd, payloadStart);
    }
    // R9 group blocks, then pages
    const groupPages = [new Uint8Array(0), new Uint8Array(0)];
    let groupBytes = 0;
    for (const b of blocks) groupBytes += b.members * PAGE_SIZE;
    if (this.groupBuf.length < groupBytes) this.groupBuf = Buffer.alloc(groupBytes);
    let gOff = 0;
    for (const b of blocks) {
      const want = b.members * PAGE_SIZE;
      const dst = this.groupBuf.subarray(gOff, gOff + want);
      gOff += want;
      groupPages[b.tag === GROUP_LZ4 ? 0 : 1] = dst;
      this.decodeGroup(b.tag, frame.subarray(b.at, b.at + b.stored), dst, b.at);
    }
    if (n === 0 && !glueZ) {
      // "Frames of glue only": the span is the glue, verbatim; hand out a view of the frame.
      if (chainedSum) {
        const chained = { header: frame.subarray(0, FRAME_HEADER_LENGTH), checksum: dv.getBigUint64(payloadEnd, true) };
        if (opts.deferChained) return { span: glue, pageCount: 0, glueLength, frameLength, chained };
        throw new WireError(WireCodes.checksum, 'frame has a chained checksum, which needs the stream digest: decode it with deferChained and verifyChained', { offset: payloadEnd });
      }
      verifyChecksum(frame, dv, payloadEnd);
      return { span: glue, pageCount: 0, glueLength, frameLength };
    }
    const groupNext = [0, 0];
    const spanLength = glueLength + n * PAGE_SIZE;
    if (this.spanBuf.length < spanLength) this.spanBuf = new Uint8Array(Math.max(spanLength, Math.min(this.spanBuf.length * 2, FRAME_MAX_GLUE + FRAME_MAX_PAGES * PAGE_SIZE)));
    const span = this.spanBuf;
    let s = 0;
    let g = 0;
    let p = payloadStart;
    for (let i = 0, e = FRAME_HEADER_LENGTH; i < n; i++, e += PAGE_ENTRY_LENGTH) {
      const gb = dv.getUint32(e + ENTRY_GLUE_BEFORE, true);
      if (gb > 0) span.set(glue.subarray(g, g + gb), s);
      g += gb;
      s += gb;
      const tag = frame[e + ENTRY_CODEC];
      if (tag >= 0x80) {
        const gi = tag === GROUP_LZ4 ? 0 : 1;
        const o = groupNext[gi];
        span.set(groupPages[gi].subarray(o, o + PAGE_SIZE), s);
        groupNext[gi] = o + PAGE_SIZE;
        s += PAGE_SIZE;
        continue;
      }
      const codec = this.registry.get(tag)!;
      const len = dv.getUint16(e + ENTRY_LENGTH, true);
      try {
        codec.decode(frame, p, len, span, s);
      } catch (err) {
        throw new WireError(WireCodes.decode, `page ${i} (${codec.name}): ${(err as Error).message}`, { offset: p, cause: err });
      }
      p += len;
      s += PAGE_SIZE;
    }
    if (g < glueLength) span.set(glue.subarray(g, glueLength), s);
    const out = span.subarray(0, spanLength);
    verifyChecksum(frame, dv, payloadEnd);
    return { span: out, pageCount: n, glueLength, frameLength };
  }

  /** Decode one group block into dst, which it must fill exactly (rule R9). */
  private decodeGroup(tag: number, src: Uint8Array, dst: Buffer, offset: number): void {
    const name = tag === GROUP_LZ4 ? 'lz4-group' : 'zstd-group';
    let got: number;
    try {
      if (tag === GROUP_ZSTD) {
        got = this.glueZstd.decompress(dst, src);
      } else {
        // lz4-napi wants its 4-byte size prefix; we write the expected size, so it allocates
        // exactly the group's pages and nothing a hostile frame could choose.
        const need = 4 + src.length;
        if (this.lz4In.length < need) this.lz4In = Buffer.alloc(Math.max(need, this.lz4In.length * 2));
        this.lz4In.writeUInt32LE(dst.length, 0);
        this.lz4In.set(src, 4);
        const r = lz4Uncompress(this.lz4In.subarray(0, need));
        got = r.length;
        if (got === dst.length) dst.set(r);
      }
    } catch (err) {
      throw new WireError(WireCodes.decode, `${name} block does not decode: ${(err as Error).message}`, { offset, cause: err });
    }
    if (got !== dst.length) throw new WireError(WireCodes.decode, `${name} block decoded to ${got} bytes, expected ${dst.length}`, { offset, expected: dst.length, received: got });
  }
}
