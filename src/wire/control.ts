/**
 * Control messages between `mecom send` and `mecom receive` (docs/wire-protocol.md).
 *
 * Layout, all integers little-endian:
 *   0  magic "MCC1"            4 bytes
 *   4  total length (incl. 0)  u32, 12 .. CONTROL_MAX_LENGTH
 *   8  type                    u8  (ControlType)
 *   9  reserved                3 bytes, must be zero
 *  12  body                    UTF-8 JSON object
 *
 * Control messages are rare (a handful per migration, plus a STATUS every 50 ms), so JSON keeps
 * them readable and extensible; pages travel in binary frames (docs/frame-format.md).
 */
import { MecomError } from '../errors.js';

export const CONTROL_MAGIC = 'MCC1';
export const CONTROL_HEADER_LENGTH = 12;
export const CONTROL_MAX_LENGTH = 64 * 1024;
/** Protocol version of the agent-to-agent conversation; moves independently of the package. */
export const PROTOCOL_VERSION = 3;

export const enum ControlType {
  Hello = 1,
  Welcome = 2,
  Reject = 3,
  End = 4,
  Verified = 5,
  Abort = 6,
  Status = 7,
  LinkTest = 8,
  LinkRate = 9,
}

export interface HelloBody {
  protocol: number;
  frameVersion: number;
  policy: string;
  batchPages: number;
  software: string;
}
export interface WelcomeBody { protocol: number; frameVersion: number }
export interface RejectBody { reason: string; code: string }
export interface EndBody { streamBytes: number; digest: string; frames: number }
export interface VerifiedBody { streamBytes: number; digest: string }
export interface AbortBody { reason: string; code: string }
/**
 * The receiver's load over the last `ms`: `busy` its event loop's utilisation (0..1; a thread
 * starved of CPU counts as busy), `qemuWait` the share of the time it held the sender's frames
 * back because the destination QEMU's socket was full. Lets the sender's cost model tell a slow
 * link from a slow receiver, which TCP backpressure makes look alike.
 */
export interface StatusBody { ms: number; busy: number; qemuWait: number }
/**
 * Filler the sender sends after WELCOME, before QEMU connects, to time the link (message `seq`
 * of `of`, each padded to LINK_TEST_MESSAGE_BYTES); the receiver answers the last with LINKRATE.
 */
export interface LinkTestBody { seq: number; of: number; pad: string }
/** What the receiver timed: `bytes` of LINKTEST messages arrived over `ms` (its second half). */
export interface LinkRateBody { bytes: number; ms: number }

export type ControlMessage =
  | { type: ControlType.Hello; body: HelloBody }
  | { type: ControlType.Welcome; body: WelcomeBody }
  | { type: ControlType.Reject; body: RejectBody }
  | { type: ControlType.End; body: EndBody }
  | { type: ControlType.Verified; body: VerifiedBody }
  | { type: ControlType.Abort; body: AbortBody }
  | { type: ControlType.Status; body: StatusBody }
  | { type: ControlType.LinkTest; body: LinkTestBody }
  | { type: ControlType.LinkRate; body: LinkRateBody };

export class ControlError extends MecomError {}

const magicBytes = Buffer.from(CONTROL_MAGIC, 'latin1');

export function encodeControl(msg: ControlMessage): Buffer {
  const body = Buffer.from(JSON.stringify(msg.body), 'utf8');
  const total = CONTROL_HEADER_LENGTH + body.length;
  if (total > CONTROL_MAX_LENGTH) {
    throw new ControlError('MECOM_WIRE_LENGTH', `control message of ${total} bytes exceeds ${CONTROL_MAX_LENGTH}`);
  }
  const out = Buffer.alloc(total);
  magicBytes.copy(out, 0);
  out.writeUInt32LE(total, 4);
  out.writeUInt8(msg.type, 8);
  body.copy(out, CONTROL_HEADER_LENGTH);
  return out;
}

const requiredFields: Record<number, Record<string, 'number' | 'string'>> = {
  [ControlType.Hello]: { protocol: 'number', frameVersion: 'number', policy: 'string', batchPages: 'number', software: 'string' },
  [ControlType.Welcome]: { protocol: 'number', frameVersion: 'number' },
  [ControlType.Reject]: { reason: 'string', code: 'string' },
  [ControlType.End]: { streamBytes: 'number', digest: 'string', frames: 'number' },
  [ControlType.Verified]: { streamBytes: 'number', digest: 'string' },
  [ControlType.Abort]: { reason: 'string', code: 'string' },
  [ControlType.Status]: { ms: 'number', busy: 'number', qemuWait: 'number' },
  [ControlType.LinkTest]: { seq: 'number', of: 'number', pad: 'string' },
  [ControlType.LinkRate]: { bytes: 'number', ms: 'number' },
};

/** Size of each LINKTEST message on the wire, and how many the sender sends (512 KiB in all). */
export const LINK_TEST_MESSAGE_BYTES = 64 * 1024 - 64;
export const LINK_TEST_MESSAGES = 8;

/** LINKTEST message `seq` of `of`, LINK_TEST_MESSAGE_BYTES long. */
export function linkTestMessage(seq: number, of: number): ControlMessage {
  const head = encodeControl({ type: ControlType.LinkTest, body: { seq, of, pad: '' } }).length;
  return { type: ControlType.LinkTest, body: { seq, of, pad: 'x'.repeat(LINK_TEST_MESSAGE_BYTES - head) } };
}

/** Decode one whole control message (as split by the envelope reader). */
export function decodeControl(bytes: Uint8Array): ControlMessage {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < CONTROL_HEADER_LENGTH) {
    throw new ControlError('MECOM_WIRE_TRUNCATED', `control message of ${buf.length} bytes is shorter than its header`);
  }
  if (buf.toString('latin1', 0, 4) !== CONTROL_MAGIC) {
    throw new ControlError('MECOM_WIRE_BAD_MAGIC', 'control message has a bad magic');
  }
  const total = buf.readUInt32LE(4);
  if (total !== buf.length) {
    throw new ControlError('MECOM_WIRE_LENGTH', `control message says ${total} bytes, holds ${buf.length}`);
  }
  if (buf[9] !== 0 || buf[10] !== 0 || buf[11] !== 0) {
    throw new ControlError('MECOM_WIRE_RESERVED', 'control message has reserved bytes set');
  }
  const type = buf[8];
  const fields = requiredFields[type];
  if (!fields) throw new ControlError('MECOM_WIRE_UNKNOWN_CONTROL', `unknown control message type ${type}`);
  let body: unknown;
  try {
    body = JSON.parse(buf.toString('utf8', CONTROL_HEADER_LENGTH));
  } catch {
    throw new ControlError('MECOM_WIRE_DECODE', `control message type ${type} has a body that is not JSON`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ControlError('MECOM_WIRE_DECODE', `control message type ${type} has a body that is not an object`);
  }
  for (const [name, kind] of Object.entries(fields)) {
    if (typeof (body as Record<string, unknown>)[name] !== kind) {
      throw new ControlError('MECOM_WIRE_DECODE', `control message type ${type} lacks ${kind} field '${name}'`);
    }
  }
  return { type, body } as ControlMessage;
}

/**
 * Decode a LINKTEST message a few times, so the receiver times the link test with warm code: a
 * cold decode of one is 0.3 ms here, six times a warm one, and four of them would be timed as
 * link time (a 10 Gbit/s link would look like 1).
 */
export function warmUpControlDecoder(): void {
  const m = encodeControl(linkTestMessage(0, LINK_TEST_MESSAGES));
  for (let i = 0; i < 32; i++) decodeControl(m);
}
