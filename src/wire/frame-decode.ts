/**
 * FrameDecoder: one frame -> the exact stream span it covers. Checks the
 * rules of docs/frame-format.md, "Decoder rejection rules", in document order
 * and throws a WireError at the first one broken; nothing is returned unless
 * the span's xxhash64 matches.
 */
import { xxh64 } from '@node-rs/xxhash';
import { CodecId, CODEC_ID_GROUP_FIRST, CODEC_ID_MAX, PAGE_SIZE } from '../codec/ids.js';
import { CodecRegistry } from '../codec/registry.js';
import { WKDM_FULL_START } from '../codec/wkdm.js';
import { FILL_PAYLOAD_LENGTH } from '../codec/fill.js';
import { ZstdContext } from '../codec/zstd.js';
import { WireCodes, WireError } from './errors.js';
import {
  ENTRY_ADDR_HI, ENTRY_ADDR_LO, ENTRY_CODEC, ENTRY_GLUE_BEFORE, ENTRY_LENGTH, ENTRY_RESERVED,
  FLAG_GLUE_ZSTD, FLAGS_KNOWN, FRAME_CHECKSUM_LENGTH, FRAME_HEADER_LENGTH, FRAME_MAGIC_U32, FRAME_MAX_ADDR,
  FRAME_MAX_GLUE, FRAME_MAX_LENGTH, FRAME_MAX_PAGES, FRAME_MIN_LENGTH, FRAME_VERSION, OFF_FLAGS, OFF_GLUE_LENGTH,
  OFF_GLUE_STORED, OFF_LENGTH, OFF_MAGIC, OFF_PAGE_COUNT, OFF_RESERVED, OFF_VERSION, PAGE_ENTRY_LENGTH,
} from './frame-format.js';

export interface DecodedFrame {
  /** The reconstructed stream bytes. A view of a buffer the decoder reuses: valid until the next decode. */
  span: Uint8Array;
  pageCount: number;
  glueLength: number;
  frameLength: number;
}

export interface FrameDecoderOptions {
  /** Largest frame accepted (default FRAME_MAX_LENGTH). */
  maxLength?: number;
}

/** "Page table": legal encoded length per codec. */
function lengthOk(codec: number, len: number): boolean {
  switch (codec) {
    case CodecId.Raw: return len === PAGE_SIZE;
    case CodecId.Zero: return len === 0;
    case CodecId.Fill: return len === FILL_PAYLOAD_LENGTH;
    case CodecId.Wkdm: return len >= WKDM_FULL_START * 4 && len < PAGE_SIZE && (len & 3) === 0;
    default: return len >= 1 && len < PAGE_SIZE;
  }
}

export class FrameDecoder {
  private readonly maxLength: number;
  private readonly registry = new CodecRegistry();
  private readonly glueZstd = new ZstdContext();
  private spanBuf = new Uint8Array(0);
  private glueBuf = new Uint8Array(0);

  constructor(opts: FrameDecoderOptions = {}) {
    this.maxLength = Math.min(opts.maxLength ?? FRAME_MAX_LENGTH, FRAME_MAX_LENGTH);
  }

  decode(frame: Uint8Array): DecodedFrame {
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
    for (let i = 0, e = FRAME_HEADER_LENGTH; i < n; i++, e += PAGE_ENTRY_LENGTH) {
      const codec = frame[e + ENTRY_CODEC];
      if (codec >= CODEC_ID_GROUP_FIRST) throw new WireError(WireCodes.reserved, `page ${i}: codec 0x${codec.toString(16)} is reserved for multi-page groups`, { offset: e });
      if (codec > CODEC_ID_MAX) throw new WireError(WireCodes.unknownCodec, `page ${i}: unknown codec ${codec}`, { offset: e, received: codec });
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
    if (payloadStart + payloadSum !== payloadEnd) {
      throw new WireError(WireCodes.length, `payloads sum to ${payloadSum} bytes, frame has room for ${payloadEnd - payloadStart}`, { expected: payloadEnd - payloadStart, received: payloadSum });
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
    // R9 pages
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
      const codec = this.registry.get(frame[e + ENTRY_CODEC])!;
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
    // R10 checksum
    const want = dv.getBigUint64(payloadEnd, true);
    const got = xxh64(out, 0n);
    if (got !== want) throw new WireError(WireCodes.checksum, `span checksum ${got.toString(16)} does not match frame's ${want.toString(16)}`, { offset: payloadEnd });
    return { span: out, pageCount: n, glueLength, frameLength };
  }
}
