/** Types of the QemuStreamParser contract (docs/architecture.md, docs/qemu-stream.md). */

export type BoundaryKind = 'section' | 'ram-end' | 'eof';

/**
 * Receives the stream in order. Buffers are only valid during the call: copy
 * what you keep. `page` always gets exactly TARGET_PAGE_SIZE bytes from `start`.
 */
export interface StreamSink {
  glue(buf: Uint8Array, start: number, end: number): void;
  page(buf: Uint8Array, start: number, addr: number): void;
  boundary(kind: BoundaryKind): void;
}

/** One RAM block from the MEM_SIZE record; `base` is its global address. */
export interface RamBlockInfo {
  readonly idstr: string;
  readonly length: number;
  readonly base: number;
  /** idstr bytes, compared against record headers without decoding. */
  readonly idBytes: Uint8Array;
}

export interface StreamStats {
  bytes: number;
  pages: number;
  zeroPages: number;
  /** RAM sections seen: START, each PART (one iteration each) and END. */
  ramSections: number;
  commands: number;
  /** Bytes after the RAM END section (device state, EOF, VMDESCRIPTION). */
  tailBytes: number;
  machine: string;
  blocks: RamBlockInfo[];
}
