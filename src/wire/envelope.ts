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
 *
 * `readTarget` and `commitRead` copy nothing: the socket reads straight into the message's own
 * buffer (src/agent/read-buffer.ts). A reader takes one way or the other, never both.
 */
import { WireCodes, WireError } from './errors.js';

export const ENVELOPE_PREFIX_LENGTH = 8;

export interface EnvelopeReaderOptions {
  maxLength: number;
  magics: string[];
  /**
   * Where `readTarget` puts each message: a buffer of exactly `length` bytes (its contents are
   * overwritten). Default: a new one per message.
   */
  alloc?: (length: number) => Uint8Array;
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
  private readonly alloc: (length: number) => Uint8Array;
  private readonly magicValues: number[];
  private readonly magicNames: string[];
  private chunks: Uint8Array[] = [];
  /** Read offset into chunks[0]. */
  private head = 0;
  private buffered = 0;
  private readonly prefix = new Uint8Array(ENVELOPE_PREFIX_LENGTH);
  private readonly prefixView = new DataView(this.prefix.buffer);
  private failed: WireError | null = null;
  // readTarget/commitRead (`direct`): the message being read, its bytes so far, prefix bytes
  // gathered, whole messages.
  private direct = false;
  private asm: EnvelopeMessage | null = null;
  private asmFill = 0;
  private prefixFill = 0;
  private readonly ready: EnvelopeMessage[] = [];

  constructor(opts: EnvelopeReaderOptions) {
    if (!(opts.maxLength >= ENVELOPE_PREFIX_LENGTH)) throw new RangeError(`maxLength must be at least ${ENVELOPE_PREFIX_LENGTH}`);
    this.maxLength = opts.maxLength;
    this.alloc = opts.alloc ?? ((n) => new Uint8Array(n));
    this.magicNames = [...opts.magics];
    this.magicValues = opts.magics.map(magicU32);
  }

  /** Bytes held but not yet returned. */
  get bufferedBytes(): number {
    if (this.direct) return this.prefixFill + this.asmFill + this.ready.reduce((n, m) => n + m.bytes.length, 0);
    return this.buffered;
  }

  push(chunk: Uint8Array): void {
    if (this.failed) throw this.failed;
    if (this.direct) throw new RangeError('EnvelopeReader: push after readTarget; use one per reader');
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    this.peekHeader();
  }

  /** The prefix is complete: check it, then start the message in a buffer of its length. */
  private beginMessage(): void {
    const { magic, length } = this.checkPrefix(this.prefixView, 0);
    const bytes = this.alloc(length);
    if (bytes.length !== length) throw new RangeError(`EnvelopeReader: alloc(${length}) returned ${bytes.length} bytes`);
    bytes.set(this.prefix, 0);
    this.asm = { magic, bytes };
    this.asmFill = ENVELOPE_PREFIX_LENGTH;
    this.prefixFill = 0;
    if (length === ENVELOPE_PREFIX_LENGTH) this.finishMessage();
  }

  private finishMessage(): void {
    this.ready.push(this.asm!);
    this.asm = null;
    this.asmFill = 0;
  }

  /**
   * Where the next read should put its bytes: the rest of the current message's prefix, or,
   * once the prefix was checked, the rest of the message itself (in a buffer from `alloc`). A
   * read into it never takes a byte of the next message, so nothing is copied afterwards; the
   * price is one short read per message, for its prefix. Report each read with `commitRead`.
   * Not with `push`.
   */
  readTarget(): Uint8Array {
    if (this.failed) throw this.failed;
    if (this.buffered > 0 && !this.direct) throw new RangeError('EnvelopeReader: readTarget after push; use one per reader');
    this.direct = true;
    return this.asm === null ? this.prefix.subarray(this.prefixFill) : this.asm.bytes.subarray(this.asmFill);
  }

  /** `n` bytes were read into the last `readTarget()`. */
  commitRead(n: number): void {
    if (this.failed) throw this.failed;
    if (n <= 0) return;
    if (this.asm === null) {
      if (this.prefixFill + n > ENVELOPE_PREFIX_LENGTH) throw new RangeError(`EnvelopeReader: commitRead(${n}) past the prefix`);
      this.prefixFill += n;
      if (this.prefixFill === ENVELOPE_PREFIX_LENGTH) this.beginMessage();
      return;
    }
    if (this.asmFill + n > this.asm.bytes.length) throw new RangeError(`EnvelopeReader: commitRead(${n}) past the message`);
    this.asmFill += n;
    if (this.asmFill === this.asm.bytes.length) this.finishMessage();
  }

  next(): EnvelopeMessage | null {
    if (this.failed) throw this.failed;
    if (this.direct) return this.ready.shift() ?? null;
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
    return this.checkPrefix(dv, off);
  }

  /** Check a message prefix at dv[off..off+8): known magic, length within bounds (else fail for good). */
  private checkPrefix(dv: DataView, off: number): { magic: string; length: number } {
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
