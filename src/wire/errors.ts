/**
 * Typed rejections of the frame format and the envelope reader. One stable
 * code per rule of docs/frame-format.md, "Decoder rejection rules".
 */
import { MecomError } from '../errors.js';

export const WireCodes = {
  badMagic: 'MECOM_WIRE_BAD_MAGIC',
  badVersion: 'MECOM_WIRE_BAD_VERSION',
  reserved: 'MECOM_WIRE_RESERVED',
  length: 'MECOM_WIRE_LENGTH',
  truncated: 'MECOM_WIRE_TRUNCATED',
  unknownCodec: 'MECOM_WIRE_UNKNOWN_CODEC',
  range: 'MECOM_WIRE_RANGE',
  decode: 'MECOM_WIRE_DECODE',
  checksum: 'MECOM_WIRE_CHECKSUM',
} as const;
export type WireCode = (typeof WireCodes)[keyof typeof WireCodes];

export interface WireErrorFields {
  /** Byte offset inside the frame/stream where the rule failed, when known. */
  offset?: number;
  expected?: number | string;
  received?: number | string;
  cause?: unknown;
}

export class WireError extends MecomError {
  override readonly code: WireCode;
  readonly offset?: number;
  readonly expected?: number | string;
  readonly received?: number | string;
  constructor(code: WireCode, message: string, fields: WireErrorFields = {}) {
    super(code, message, { cause: fields.cause });
    this.code = code;
    this.offset = fields.offset;
    this.expected = fields.expected;
    this.received = fields.received;
  }
}
