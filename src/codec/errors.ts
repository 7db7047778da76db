import { MecomError } from '../errors.js';

/** A page payload that does not decode to exactly one page. */
export const CODEC_CORRUPT = 'MECOM_CODEC_CORRUPT';

export class CodecError extends MecomError {
  constructor(codec: string, detail: string) {
    super(CODEC_CORRUPT, `${codec} payload is corrupt: ${detail}`);
  }
}
