/**
 * Page codec identifiers. The numeric values are wire values: they are the
 * `codec` byte of a frame's page table (docs/frame-format.md, "Codec tags").
 * Never renumber; add new ids only with a format version bump.
 */
export const PAGE_SIZE = 4096;
export const PAGE_WORDS = PAGE_SIZE / 4;

export const enum CodecId {
  Raw = 0,
  Zero = 1,
  Fill = 2,
  Wkdm = 3,
  Lz4 = 4,
  Zstd = 5,
}

/** Highest single-page codec id defined by format version 1. */
export const CODEC_ID_MAX = 5;
/** Ids 0x80..0xFF are reserved for a later multi-page group mode ("Codec tags"). */
export const CODEC_ID_GROUP_FIRST = 0x80;

export const CODEC_NAMES: readonly string[] = ['raw', 'zero', 'fill', 'wkdm', 'lz4', 'zstd'];

export function codecName(id: number): string {
  return CODEC_NAMES[id] ?? `codec-${id}`;
}
