/**
 * Constants of QEMU 10's migration stream, named as in QEMU's sources
 * (migration/savevm.c, migration/ram.c). Layout and rules: docs/qemu-stream.md.
 * All multi-byte integers in the stream are big-endian.
 */

/** File header: "QEVM" then the stream version (docs/qemu-stream.md#header). */
export const QEMU_VM_FILE_MAGIC = 0x5145564d;
export const QEMU_VM_FILE_VERSION = 3;
export const FILE_HEADER_LENGTH = 8;

/** Section type bytes (savevm.c QEMU_VM_*). */
export const enum SectionType {
  EOF = 0x00,
  SECTION_START = 0x01,
  SECTION_PART = 0x02,
  SECTION_END = 0x03,
  SECTION_FULL = 0x04,
  SUBSECTION = 0x05,
  VMDESCRIPTION = 0x06,
  CONFIGURATION = 0x07,
  COMMAND = 0x08,
  SECTION_FOOTER = 0x7e,
}

/** QEMU_VM_COMMAND numbers (savevm.c enum qemu_vm_cmd). Only SWITCHOVER_START is accepted. */
export const MIG_CMD_SWITCHOVER_START = 11;
export const MIG_CMD_NAMES: Record<number, string> = {
  0: 'INVALID', 1: 'OPEN_RETURN_PATH', 2: 'PING', 3: 'POSTCOPY_ADVISE', 4: 'POSTCOPY_LISTEN',
  5: 'POSTCOPY_RUN', 6: 'POSTCOPY_RAM_DISCARD', 7: 'POSTCOPY_RESUME', 8: 'PACKAGED',
  9: 'RECV_BITMAP', 10: 'ENABLE_COLO', 11: 'SWITCHOVER_START',
};

/** RAM record flags: low bits of each record's be64 (ram.c RAM_SAVE_FLAG_*). */
export const RAM_SAVE_FLAG_FULL = 0x01; // obsolete
export const RAM_SAVE_FLAG_ZERO = 0x02;
export const RAM_SAVE_FLAG_MEM_SIZE = 0x04;
export const RAM_SAVE_FLAG_PAGE = 0x08;
export const RAM_SAVE_FLAG_EOS = 0x10;
export const RAM_SAVE_FLAG_CONTINUE = 0x20;
export const RAM_SAVE_FLAG_XBZRLE = 0x40;
export const RAM_SAVE_FLAG_HOOK = 0x80; // reserved (RDMA)
export const RAM_SAVE_FLAG_COMPRESS_PAGE = 0x100; // removed in QEMU 9.1
export const RAM_SAVE_FLAG_MULTIFD_FLUSH = 0x200;
export const RAM_FLAG_NAMES: Record<number, string> = {
  0x01: 'FULL', 0x02: 'ZERO', 0x04: 'MEM_SIZE', 0x08: 'PAGE', 0x10: 'EOS', 0x20: 'CONTINUE',
  0x40: 'XBZRLE', 0x80: 'HOOK', 0x100: 'COMPRESS_PAGE', 0x200: 'MULTIFD_FLUSH',
};
/** Flags this parser follows; any other bit below the page size is refused. */
export const RAM_SUPPORTED_FLAGS =
  RAM_SAVE_FLAG_ZERO | RAM_SAVE_FLAG_MEM_SIZE | RAM_SAVE_FLAG_PAGE | RAM_SAVE_FLAG_EOS | RAM_SAVE_FLAG_CONTINUE;

/** x86 TARGET_PAGE_SIZE: page payload size, and the flag bits live below it. */
export const TARGET_PAGE_SIZE = 4096;
export const TARGET_PAGE_MASK_LOW = TARGET_PAGE_SIZE - 1;

/** The RAM iterable section: idstr "ram", version 4. */
export const RAM_SECTION_IDSTR = 'ram';
export const RAM_SECTION_VERSION = 4;

/** Caps checked before buffering. */
export const MAX_MACHINE_NAME = 256;
export const MAX_RAM_BLOCKS = 1024;

/** Names a flag set for messages: 0x48 -> "PAGE|XBZRLE". */
export function flagNames(flags: number): string {
  const names: string[] = [];
  for (let bit = 1; bit <= TARGET_PAGE_MASK_LOW; bit <<= 1) {
    if (flags & bit) names.push(RAM_FLAG_NAMES[bit] ?? `0x${bit.toString(16)}`);
  }
  return names.join('|') || '0';
}

export function be32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}
export function be16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}
export function latin1(b: Uint8Array, o: number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(b[o + i]);
  return s;
}
