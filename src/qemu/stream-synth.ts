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
  /**
   * RAM blocks (default just `pc.ram`): declared in MEM_SIZE; with more than one, records switch
   * block every `blockEvery` records (default 97), each switch a record that names its block.
   */
  blocks?: string[];
  blockEvery?: number;
  /**
   * Run lengths drawn from 1..pageRun and 1..zeroRun (a fixed pseudo-random sequence) instead of
   * fixed runs: a live stream's mix of lone pages between zero records and long runs of either.
   */
  mixedRuns?: boolean;
}

/** Opaque bytes standing in for device state, then QEMU_VM_EOF and a VMDESCRIPTION. */
const DEVICE_STATE = 4096;
const VMDESC = '{"page_size":4096,"devices":[]}';
/** Pages in the SECTION_END. */
const END_PAGES = 16;

const MACHINE = 'pc-i440fx-10.0';
const RAM_SECTION_ID = 2;

export function synthStream(o: SynthOptions): Uint8Array {
  const blocks = o.blocks && o.blocks.length > 0 ? o.blocks : ['pc.ram'];
  const blockEvery = Math.max(1, o.blockEvery ?? 97);
  const kinds = recordKinds(o);
  // Each block is big enough for every record at its own offset.
  const blockBytes = Math.max(o.sections * o.recordsPerSection, END_PAGES) * TARGET_PAGE_SIZE;
  const longestName = Math.max(...blocks.map((b) => b.length));
  const bound = 1024 + blocks.length * (1 + longestName + 8)
    + (o.sections * o.recordsPerSection + END_PAGES) * (8 + 1 + longestName + TARGET_PAGE_SIZE) + o.sections * 32
    + DEVICE_STATE + 64 + VMDESC.length;
  const out = new Uint8Array(bound);
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
  be64(blocks.length * blockBytes + RAM_SAVE_FLAG_MEM_SIZE);
  for (const b of blocks) {
    u8(b.length);
    str(b);
    be64(blockBytes);
  }
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
  /** One record; `named`: not CONTINUE, the block's name follows the header. */
  const record = (offset: number, zero: boolean, block: string, named: boolean) => {
    be64(offset + (zero ? RAM_SAVE_FLAG_ZERO : RAM_SAVE_FLAG_PAGE) + (named ? 0 : RAM_SAVE_FLAG_CONTINUE));
    if (named) {
      u8(block.length);
      str(block);
    }
    if (zero) u8(0);
    else page(offset);
  };

  let offset = 0;
  let n = 0;
  for (let s = 0; s < o.sections; s++) {
    u8(SectionType.SECTION_PART);
    be32(RAM_SECTION_ID);
    for (let r = 0; r < o.recordsPerSection; r++, n++, offset += TARGET_PAGE_SIZE) {
      const b = Math.floor(n / blockEvery) % blocks.length;
      record(offset, kinds[r], blocks[b], r === 0 || n % blockEvery === 0);
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
  for (let r = 0; r < END_PAGES; r++) record(r * TARGET_PAGE_SIZE, false, blocks[0], r === 0);
  endSection();
  // Device state: no 0x00 0x06 pattern before the real one (bytes 0x40..0x7f only).
  for (let i = 0; i < DEVICE_STATE; i++) out[at++] = 0x40 + (i % 64);
  u8(SectionType.EOF);
  u8(SectionType.VMDESCRIPTION);
  be32(VMDESC.length);
  str(VMDESC);
  return out.subarray(0, at);
}

/** Per record of a section: true for a zero page. */
function recordKinds(o: SynthOptions): boolean[] {
  const kinds: boolean[] = [];
  let seed = 0x9e3779b9;
  const next = (max: number) => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return 1 + (seed % max);
  };
  for (let zero = false; kinds.length < o.recordsPerSection; zero = !zero) {
    const max = zero ? o.zeroRun : o.pageRun;
    const run = o.mixedRuns ? next(max) : max;
    for (let i = 0; i < run && kinds.length < o.recordsPerSection; i++) kinds.push(zero);
  }
  return kinds;
}
