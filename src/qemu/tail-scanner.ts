/**
 * Recognises the end of QEMU's stream inside the opaque device tail.
 *
 * After the device sections QEMU writes QEMU_VM_EOF (0x00), QEMU_VM_VMDESCRIPTION
 * (0x06), a be32 length and that many bytes of JSON starting with '{' and ending
 * with '}'. The scanner remembers where the last "00 06 <be32 len> {" pattern
 * says the stream ends; JSON holds no 0x00 byte, so the last such pattern is
 * the real one, whatever device bytes looked like it earlier.
 */
import { SectionType } from './stream-format.js';

export class TailScanner {
  /** Last 8 bytes seen, indexed by stream offset & 7 (patterns straddling chunks). */
  private readonly ring = new Uint8Array(8);
  private vmdescEnd = -1;
  private lastByte = -1;
  private chunk: Uint8Array = new Uint8Array(0);
  private base = 0;
  /** Stream offset of the tail's first byte. */
  private start = -1;

  /** Scans chunk[from..] whose byte 0 is at stream offset `base`. */
  scan(chunk: Uint8Array, from: number, base: number): void {
    if (from >= chunk.length) return;
    if (this.start < 0) this.start = base + from;
    this.chunk = chunk;
    this.base = base;
    for (let i = chunk.indexOf(0x7b, from); i >= 0; i = chunk.indexOf(0x7b, i + 1)) {
      const abs = base + i;
      if (abs - 6 < this.start || this.at(i - 6) !== SectionType.EOF || this.at(i - 5) !== SectionType.VMDESCRIPTION) continue;
      const len = ((this.at(i - 4) << 24) | (this.at(i - 3) << 16) | (this.at(i - 2) << 8) | this.at(i - 1)) >>> 0;
      this.vmdescEnd = abs + len;
    }
    for (let i = Math.max(from, chunk.length - 8); i < chunk.length; i++) this.ring[(base + i) & 7] = chunk[i];
    this.lastByte = chunk[chunk.length - 1];
    this.chunk = new Uint8Array(0);
  }

  /** True when a stream of `length` bytes ends exactly with a complete VMDESCRIPTION. */
  complete(length: number): boolean {
    return this.vmdescEnd === length && this.lastByte === 0x7d;
  }

  /** Byte at chunk index i; negative i reads earlier chunks through the ring. */
  private at(i: number): number {
    return i >= 0 ? this.chunk[i] : this.ring[(this.base + i) & 7];
  }
}
