/**
 * A synthetic QEMU 10 precopy stream (docs/qemu-stream.md): file header, configuration, the RAM
 * SECTION_START with its MEM_SIZE block list, then RAM SECTION_PARTs of PAGE and ZERO records in
 * runs, the way an iteration over a mostly idle guest looks; then QEMU's switchover command, the
 * RAM SECTION_END with a last run of pages, and a device tail (opaque device state, EOF and a
 * VMDESCRIPTION). Every stage of the sender's parser runs on it: it drives that path before
 * QEMU connects (src/agent/warmup.ts). No QEMU would load it (the device state is made up).
 */
import {
  MIG_CMD_SWITCHOVER_START, QEMU_VM_FILE_MAGIC, QEMU_VM_FILE_VERSION, RAM_SAVE_FLAG_CONTINUE, RAM_SAVE_FLAG_EOS, RAM_SAVE_FLAG_MEM_SIZE,
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

/** Opaque bytes standing in for device state, then QEMU_VM_EOF and a VMDESCRIPTION. */
const DEVICE_STATE = 4096;
const VMDESC = '{"page_size":4096,"devices":[]}';
/** Pages in the SECTION_END. */
const END_PAGES = 16;

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
      + (o.recordsPerSection - pagesPerSection) + 8 + 5)
    + 5 + 5 + recordHeaderLength(true) + (END_PAGES - 1) * 8 + END_PAGES * TARGET_PAGE_SIZE + 8 + 5
    + DEVICE_STATE + 1 + 1 + 4 + VMDESC.length;
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

  const page = (offset: number) => {
    // Not all zero, not all alike: a word pattern that changes with the page.
    for (let i = 0; i < TARGET_PAGE_SIZE; i += 4) dv.setUint32(at + i, (offset ^ (i * 2654435761)) >>> 0, true);
    at += TARGET_PAGE_SIZE;
  };
  const endSection = () => {
    be64(RAM_SAVE_FLAG_EOS);
    u8(SectionType.SECTION_FOOTER);
    be32(RAM_SECTION_ID);
  };

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
      if (zero) u8(0);
      else page(offset);
    }
    endSection();
  }

  // Switchover, the last RAM pages, device state, EOF, VMDESCRIPTION.
  u8(SectionType.COMMAND);
  dv.setUint16(at, MIG_CMD_SWITCHOVER_START);
  dv.setUint16(at + 2, 0);
  at += 4;
  u8(SectionType.SECTION_END);
  be32(RAM_SECTION_ID);
  for (let r = 0; r < END_PAGES; r++) {
    be64(r * TARGET_PAGE_SIZE + RAM_SAVE_FLAG_PAGE + (r > 0 ? RAM_SAVE_FLAG_CONTINUE : 0));
    if (r === 0) {
      u8(BLOCK.length);
      str(BLOCK);
    }
    page(r * TARGET_PAGE_SIZE);
  }
  endSection();
  // Device state: no 0x00 0x06 pattern before the real one (bytes 0x40..0x7f only).
  for (let i = 0; i < DEVICE_STATE; i++) out[at++] = 0x40 + (i % 64);
  u8(SectionType.EOF);
  u8(SectionType.VMDESCRIPTION);
  be32(VMDESC.length);
  str(VMDESC);
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
