/**
 * Typed errors of src/qemu/. Callers match on `code`, never on message text.
 * Stream errors carry the absolute byte offset in QEMU's migration stream where
 * the offending item starts (see docs/qemu-stream.md for each rule).
 */
import { MecomError } from '../errors.js';

/** Every code QemuStreamParser can throw, one per rejection rule. */
export type QemuStreamErrorCode =
  | 'MECOM_QEMU_BAD_MAGIC'
  | 'MECOM_QEMU_BAD_VERSION'
  | 'MECOM_QEMU_BAD_CONFIGURATION'
  | 'MECOM_QEMU_UNKNOWN_SUBSECTION'
  | 'MECOM_QEMU_UNKNOWN_SECTION'
  | 'MECOM_QEMU_UNKNOWN_COMMAND'
  | 'MECOM_QEMU_UNKNOWN_FLAG'
  | 'MECOM_QEMU_UNKNOWN_BLOCK'
  | 'MECOM_QEMU_BAD_OFFSET'
  | 'MECOM_QEMU_BAD_BLOCK_LIST'
  | 'MECOM_QEMU_BAD_FOOTER'
  | 'MECOM_QEMU_UNSUPPORTED_SECTION'
  | 'MECOM_QEMU_TRUNCATED';

export class QemuStreamError extends MecomError {
  /** Absolute offset (bytes from the stream's first byte) of the offending item. */
  readonly offset: number;
  readonly expected: string | number | undefined;
  readonly received: string | number | undefined;
  constructor(
    code: QemuStreamErrorCode,
    message: string,
    offset: number,
    detail: { expected?: string | number; received?: string | number } = {},
  ) {
    super(code, `${message} (stream offset ${offset})`);
    this.offset = offset;
    this.expected = detail.expected;
    this.received = detail.received;
  }
}

/** QEMU answered a QMP command with {"error": {class, desc}}. */
export class QmpError extends MecomError {
  readonly command: string;
  readonly errorClass: string;
  readonly desc: string;
  constructor(command: string, errorClass: string, desc: string) {
    super('MECOM_QMP_ERROR', `QMP ${command} failed: ${errorClass}: ${desc}`);
    this.command = command;
    this.errorClass = errorClass;
    this.desc = desc;
  }
}

/** No reply (or no awaited event) within the deadline. */
export class QmpTimeoutError extends MecomError {
  readonly what: string;
  readonly timeoutMs: number;
  constructor(what: string, timeoutMs: number) {
    super('MECOM_QMP_TIMEOUT', `QMP ${what}: no answer within ${timeoutMs} ms`);
    this.what = what;
    this.timeoutMs = timeoutMs;
  }
}

/** The QMP socket closed, failed, or spoke something other than QMP. */
export class QmpClosedError extends MecomError {
  constructor(message: string, cause?: unknown) {
    super('MECOM_QMP_CLOSED', message, { cause });
  }
}

/** Source QEMU has a migration capability/parameter the parser cannot follow. */
export class UnsupportedCapabilityError extends MecomError {
  readonly capability: string;
  constructor(capability: string, message: string) {
    super('MECOM_QEMU_UNSUPPORTED_CAPABILITY', message);
    this.capability = capability;
  }
}
