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
/** Ids 0x80..0xFF are group tags (several pages compressed together; "Codec tags", "Group blocks"). */
export const CODEC_ID_GROUP_FIRST = 0x80;
/** Format version 2 group tags: 0x80 | the single-page codec whose stream format the group block uses. */
export const GROUP_LZ4 = 0x84;
export const GROUP_ZSTD = 0x85;
/** Group tags in the order their blocks follow the per-page payloads. */
export const GROUP_TAGS: readonly number[] = [GROUP_LZ4, GROUP_ZSTD];

export function isGroupTag(tag: number): boolean {
  return tag === GROUP_LZ4 || tag === GROUP_ZSTD;
}

export const CODEC_NAMES: readonly string[] = ['raw', 'zero', 'fill', 'wkdm', 'lz4', 'zstd'];

export function codecName(id: number): string {
  if (id === GROUP_LZ4) return 'lz4-group';
  if (id === GROUP_ZSTD) return 'zstd-group';
  return CODEC_NAMES[id] ?? `codec-${id}`;
}
