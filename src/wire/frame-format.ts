/**
 * Frame format constants. Every name here is defined in docs/frame-format.md;
 * the comment gives the section.
 */
import { PAGE_SIZE } from '../codec/ids.js';

/** "Frame header": magic "MCF1". */
export const FRAME_MAGIC = 'MCF1';
export const FRAME_MAGIC_U32 = 0x3146434d; // "MCF1" read as u32 LE
/** "Frame header": format version of this implementation ("Version and change log"). */
export const FRAME_VERSION = 4;
/** "Frame header": fixed header size. */
export const FRAME_HEADER_LENGTH = 24;
/** "Page table": bytes per entry. */
export const PAGE_ENTRY_LENGTH = 16;
/** "Checksum": trailing xxhash64 (seed 0) of the frame bytes before it, or "Chained checksum". */
export const FRAME_CHECKSUM_LENGTH = 8;
/** "Limits": most pages in one frame. */
export const FRAME_MAX_PAGES = 4096;
/** "Limits": most decoded glue bytes in one frame. */
export const FRAME_MAX_GLUE = 32 * 1024 * 1024;
/** "Limits": largest frame on the wire (header + table + glue + raw pages + checksum). */
export const FRAME_MAX_LENGTH =
  FRAME_HEADER_LENGTH + FRAME_MAX_PAGES * PAGE_ENTRY_LENGTH + FRAME_MAX_GLUE + FRAME_MAX_PAGES * PAGE_SIZE + FRAME_CHECKSUM_LENGTH;
/* A group block, prefix included, is shorter than the raw pages it replaces (the decoder checks
   stored length <= 4096 x members - 5), so FRAME_MAX_LENGTH still bounds every frame. */
/** "Limits": smallest frame (no pages, no glue). */
export const FRAME_MIN_LENGTH = FRAME_HEADER_LENGTH + FRAME_CHECKSUM_LENGTH;
/** "Page table": largest page address (addr + 4096 must stay an exact double). */
export const FRAME_MAX_ADDR = Number.MAX_SAFE_INTEGER - PAGE_SIZE;

/** "Flags" bit table. */
export const FLAG_GLUE_ZSTD = 0x01;
/** "Chained checksum": the checksum binds the header to the stream digest through this frame. */
export const FLAG_STREAM_CHAIN = 0x02;
export const FLAGS_KNOWN = FLAG_GLUE_ZSTD | FLAG_STREAM_CHAIN;

/** "Frame header" field offsets. */
export const OFF_MAGIC = 0;
export const OFF_LENGTH = 4;
export const OFF_VERSION = 8;
export const OFF_FLAGS = 9;
export const OFF_RESERVED = 10;
export const OFF_PAGE_COUNT = 12;
export const OFF_GLUE_LENGTH = 16;
export const OFF_GLUE_STORED = 20;

/** "Page table" entry field offsets. */
export const ENTRY_CODEC = 0;
export const ENTRY_RESERVED = 1;
export const ENTRY_LENGTH = 2;
export const ENTRY_GLUE_BEFORE = 4;
export const ENTRY_ADDR_LO = 8;
export const ENTRY_ADDR_HI = 12;

/** "Group blocks": each block starts with its stored length, LE u32. */
export const GROUP_BLOCK_PREFIX = 4;

/** "Glue": glue shorter than this is stored as is (zstd cannot win on it). */
export const GLUE_COMPRESS_MIN = 64;
