/**
 * Codec registry keyed by codec id (the wire value, docs/frame-format.md
 * "Codec tags"). One instance per encoder/decoder: codecs own scratch buffers.
 */
import { CodecId, CODEC_ID_MAX } from './ids.js';
import type { PageCodec } from './page.js';
import { RawCodec } from './raw.js';
import { ZeroCodec } from './zero.js';
import { FillCodec } from './fill.js';
import { WkdmCodec } from './wkdm.js';
import { Lz4Codec } from './lz4.js';
import { ZstdCodec, ZSTD_DEFAULT_LEVEL } from './zstd.js';

export interface RegistryOptions {
  zstdLevel?: number;
}

export class CodecRegistry {
  private readonly byId: PageCodec[];
  constructor(opts: RegistryOptions = {}) {
    this.byId = [];
    for (const c of [new RawCodec(), new ZeroCodec(), new FillCodec(), new WkdmCodec(), new Lz4Codec(), new ZstdCodec(opts.zstdLevel ?? ZSTD_DEFAULT_LEVEL)]) {
      this.byId[c.id] = c;
    }
  }
  /** The codec for `id`, or undefined if the id is not a single-page codec of this format version. */
  get(id: number): PageCodec | undefined {
    return id >= 0 && id <= CODEC_ID_MAX ? this.byId[id] : undefined;
  }
  all(): readonly PageCodec[] {
    return this.byId;
  }
}

export { CodecId };
