/**
 * A synthetic QEMU 10 precopy stream (docs/qemu-stream.md): file header, configuration, the RAM
 * SECTION_START with its MEM_SIZE block list, then RAM SECTION_PARTs of PAGE and ZERO records in
 * runs, the way an iteration over a mostly idle guest looks. No SECTION_END and no device tail:
 * it is the head of a stream, for driving the sender's parse path before QEMU connects (see
 * src/agent/warmup.ts), not a stream any QEMU would load.
 */
import {
  QEMU_VM_FILE_MAGIC, QEMU_VM_FILE_VERSION, RAM_SAVE_FLAG_CONTINUE, RAM_SAVE_FLAG_EOS, RAM_SAVE_FLAG_MEM_SIZE,
  RAM_SAVE_FLAG_PAGE, RAM_SAVE_FLAG_ZERO, RAM_SECTION_IDSTR, RAM_SECTION_VERSION, SectionType, TARGET_PAGE_SIZE,
} from './stream-format.js';

export interface SynthOptions {
  /** RAM SECTION_PARTs after the START section. */
  sections: number;
  /** Records per section, alternating runs of `pageRun` pages and `zeroRun` zero pages. */
  recordsPerSection: number;
  pageRun: number;
  zeroRun: number;
}

const BLOCK = 'pc.ram';
const MACHINE = 'pc-i440fx-10.0';
const RAM_SECTION_ID = 2;

/** Bytes of a record header: be64 offset|flags, plus u8 length and the idstr when not CONTINUE. */
function recordHeaderLength(first: boolean): number {
  return 8 + (first ? 1 + BLOCK.length : 0);
}

export function synthStream(o: SynthOptions): Uint8Array {
  const pagesPerSection = countPages(o);
  const blockBytes = o.sections * o.recordsPerSection * TARGET_PAGE_SIZE;
  const size = 8 + (5 + MACHINE.length) + (1 + 4 + 1 + RAM_SECTION_IDSTR.length + 8) + 8 + 1 + BLOCK.length + 8 + 8 + 5
    + o.sections * (5 + recordHeaderLength(true) + (o.recordsPerSection - 1) * 8 + pagesPerSection * TARGET_PAGE_SIZE
      + (o.recordsPerSection - pagesPerSection) + 8 + 5);
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  let at = 0;
  const u8 = (v: number) => { out[at++] = v; };
  const be32 = (v: number) => { dv.setUint32(at, v); at += 4; };
  const be64 = (v: number) => { be32(Math.floor(v / 0x100000000)); be32(v >>> 0); };
  const str = (s: string) => { for (let i = 0; i < s.length; i++) out[at++] = s.charCodeAt(i); };

  be32(QEMU_VM_FILE_MAGIC);
  be32(QEMU_VM_FILE_VERSION);
  u8(SectionType.CONFIGURATION);
  be32(MACHINE.length);
  str(MACHINE);
  u8(SectionType.SECTION_START);
  be32(RAM_SECTION_ID);
  u8(RAM_SECTION_IDSTR.length);
  str(RAM_SECTION_IDSTR);
  be32(0);
  be32(RAM_SECTION_VERSION);
  be64(blockBytes + RAM_SAVE_FLAG_MEM_SIZE);
  u8(BLOCK.length);
  str(BLOCK);
  be64(blockBytes);
  be64(RAM_SAVE_FLAG_EOS);
  u8(SectionType.SECTION_FOOTER);
  be32(RAM_SECTION_ID);

  let offset = 0;
  for (let s = 0; s < o.sections; s++) {
    u8(SectionType.SECTION_PART);
    be32(RAM_SECTION_ID);
    for (let r = 0; r < o.recordsPerSection; r++, offset += TARGET_PAGE_SIZE) {
      const zero = isZeroRecord(o, r);
      const flags = (zero ? RAM_SAVE_FLAG_ZERO : RAM_SAVE_FLAG_PAGE) | (r > 0 ? RAM_SAVE_FLAG_CONTINUE : 0);
      be64(offset + flags);
      if (r === 0) {
        u8(BLOCK.length);
        str(BLOCK);
      }
      if (zero) {
        u8(0);
      } else {
        // Not all zero, not all alike: a word pattern that changes with the page.
        for (let i = 0; i < TARGET_PAGE_SIZE; i += 4) dv.setUint32(at + i, (offset ^ (i * 2654435761)) >>> 0, true);
        at += TARGET_PAGE_SIZE;
      }
    }
    be64(RAM_SAVE_FLAG_EOS);
    u8(SectionType.SECTION_FOOTER);
    be32(RAM_SECTION_ID);
  }
  if (at !== size) throw new Error(`stream-synth: wrote ${at} bytes, sized ${size}`);
  return out;
}

function isZeroRecord(o: SynthOptions, r: number): boolean {
  return r % (o.pageRun + o.zeroRun) >= o.pageRun;
}

function countPages(o: SynthOptions): number {
  let n = 0;
  for (let r = 0; r < o.recordsPerSection; r++) if (!isZeroRecord(o, r)) n++;
  return n;
}
