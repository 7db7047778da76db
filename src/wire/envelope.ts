/**
 * EnvelopeReader: splits the agent-to-agent byte stream into messages. Every
 * message starts with a 4-byte ASCII magic and a u32 little-endian total
 * length that counts the 8-byte prefix (docs/frame-format.md, "Envelope").
 *
 * `push` accepts any chunking and takes ownership of the chunk (do not modify
 * it afterwards): a message wholly inside one chunk is returned as a view of
 * it without copying; a message spread over chunks is assembled once into a
 * buffer of exactly its length. The prefix is checked as soon as 8 bytes are
 * present, so a bad magic or a length over `maxLength` is refused before any
 * of the message is buffered. After a rejection the reader stays failed.
 */
import { WireCodes, WireError } from './errors.js';

export const ENVELOPE_PREFIX_LENGTH = 8;

export interface EnvelopeReaderOptions {
  maxLength: number;
  magics: string[];
}

export interface EnvelopeMessage {
  magic: string;
  /** The whole message, prefix included. */
  bytes: Uint8Array;
}

function magicU32(m: string): number {
  if (m.length !== 4 || !/^[\x20-\x7e]{4}$/.test(m)) throw new RangeError(`magic must be 4 printable ASCII characters: ${JSON.stringify(m)}`);
  return (m.charCodeAt(0) | (m.charCodeAt(1) << 8) | (m.charCodeAt(2) << 16) | (m.charCodeAt(3) << 24)) >>> 0;
}

export class EnvelopeReader {
  private readonly maxLength: number;
  private readonly magicValues: number[];
  private readonly magicNames: string[];
  private chunks: Uint8Array[] = [];
  /** Read offset into chunks[0]. */
  private head = 0;
  private buffered = 0;
  private readonly prefix = new Uint8Array(ENVELOPE_PREFIX_LENGTH);
  private readonly prefixView = new DataView(this.prefix.buffer);
  private failed: WireError | null = null;

  constructor(opts: EnvelopeReaderOptions) {
    if (!(opts.maxLength >= ENVELOPE_PREFIX_LENGTH)) throw new RangeError(`maxLength must be at least ${ENVELOPE_PREFIX_LENGTH}`);
    this.maxLength = opts.maxLength;
    this.magicNames = [...opts.magics];
    this.magicValues = opts.magics.map(magicU32);
  }

  /** Bytes held but not yet returned. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  push(chunk: Uint8Array): void {
    if (this.failed) throw this.failed;
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    this.peekHeader();
  }

  next(): EnvelopeMessage | null {
    if (this.failed) throw this.failed;
    const hdr = this.peekHeader();
    if (hdr === null) return null;
    const { magic, length } = hdr;
    if (this.buffered < length) return null;
    let bytes: Uint8Array;
    const first = this.chunks[0];
    if (first.length - this.head >= length) {
      bytes = first.subarray(this.head, this.head + length);
      this.consume(length);
    } else {
      bytes = new Uint8Array(length);
      this.copyOut(bytes, length);
    }
    return { magic, bytes };
  }

  /** Validate the prefix of the next message, if 8 bytes are present. */
  private peekHeader(): { magic: string; length: number } | null {
    if (this.buffered < ENVELOPE_PREFIX_LENGTH) return null;
    const first = this.chunks[0];
    let dv: DataView;
    let off: number;
    if (first.length - this.head >= ENVELOPE_PREFIX_LENGTH) {
      dv = new DataView(first.buffer, first.byteOffset, first.byteLength);
      off = this.head;
    } else {
      this.peek(this.prefix, ENVELOPE_PREFIX_LENGTH);
      dv = this.prefixView;
      off = 0;
    }
    const m = dv.getUint32(off, true);
    const idx = this.magicValues.indexOf(m);
    if (idx < 0) {
      const shown = String.fromCharCode(m & 0xff, (m >>> 8) & 0xff, (m >>> 16) & 0xff, m >>> 24);
      this.failed = new WireError(WireCodes.badMagic, `unknown message magic ${JSON.stringify(shown)}, expected one of ${this.magicNames.join(', ')}`, { received: shown });
      throw this.failed;
    }
    const length = dv.getUint32(off + 4, true);
    if (length < ENVELOPE_PREFIX_LENGTH || length > this.maxLength) {
      this.failed = new WireError(WireCodes.length, `message length ${length} outside ${ENVELOPE_PREFIX_LENGTH}..${this.maxLength}`, { received: length, expected: this.maxLength });
      throw this.failed;
    }
    return { magic: this.magicNames[idx], length };
  }

  /** Copy the first n buffered bytes into dst without consuming them. */
  private peek(dst: Uint8Array, n: number): void {
    let got = 0;
    let h = this.head;
    for (let c = 0; got < n; c++, h = 0) {
      const ch = this.chunks[c];
      const take = Math.min(n - got, ch.length - h);
      dst.set(ch.subarray(h, h + take), got);
      got += take;
    }
  }

  private copyOut(dst: Uint8Array, n: number): void {
    this.peek(dst, n);
    this.consume(n);
  }

  private consume(n: number): void {
    this.buffered -= n;
    while (n > 0) {
      const ch = this.chunks[0];
      const left = ch.length - this.head;
      if (n < left) {
        this.head += n;
        return;
      }
      n -= left;
      this.chunks.shift();
      this.head = 0;
    }
  }
}
