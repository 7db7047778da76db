import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ControlType, decodeControl, encodeControl, CONTROL_MAX_LENGTH, type ControlMessage } from '../../../src/wire/control.js';
import { MecomError } from '../../../src/errors.js';

/** Builds control bytes independently of encodeControl, as the spec draws them. */
function build(type: number, body: string, opts: { magic?: string; reserved?: number; length?: number } = {}): Buffer {
  const b = Buffer.from(body, 'utf8');
  const out = Buffer.alloc(12 + b.length);
  out.write(opts.magic ?? 'MCC1', 0, 'latin1');
  out.writeUInt32LE(opts.length ?? out.length, 4);
  out[8] = type;
  out[9] = opts.reserved ?? 0;
  b.copy(out, 12);
  return out;
}

test('every control message round-trips', () => {
  const msgs: ControlMessage[] = [
    { type: ControlType.Hello, body: { protocol: 1, frameVersion: 1, policy: 'adaptive', batchPages: 256, software: 'mecom/x' } },
    { type: ControlType.Welcome, body: { protocol: 1, frameVersion: 1 } },
    { type: ControlType.Reject, body: { reason: 'no', code: 'MECOM_AGENT_HANDSHAKE' } },
    { type: ControlType.End, body: { streamBytes: 123456789, digest: '0123456789abcdef', frames: 7 } },
    { type: ControlType.Verified, body: { streamBytes: 1, digest: 'ffffffffffffffff' } },
    { type: ControlType.Abort, body: { reason: 'x', code: 'MECOM_X' } },
    { type: ControlType.Status, body: { ms: 50, busy: 0.93, qemuWait: 0 } },
  ];
  for (const m of msgs) assert.deepEqual(decodeControl(encodeControl(m)), m);
});

test('encodeControl matches the layout in docs/wire-protocol.md', () => {
  const body = '{"protocol":1,"frameVersion":1}';
  assert.deepEqual(encodeControl({ type: ControlType.Welcome, body: { protocol: 1, frameVersion: 1 } }), build(2, body));
});

const rejections: [string, Buffer, string][] = [
  ['short', Buffer.from('MCC1'), 'MECOM_WIRE_TRUNCATED'],
  ['bad magic', build(2, '{}', { magic: 'MCX1' }), 'MECOM_WIRE_BAD_MAGIC'],
  ['length differs', build(2, '{"protocol":1,"frameVersion":1}', { length: 13 }), 'MECOM_WIRE_LENGTH'],
  ['reserved set', build(2, '{"protocol":1,"frameVersion":1}', { reserved: 1 }), 'MECOM_WIRE_RESERVED'],
  ['unknown type', build(99, '{}'), 'MECOM_WIRE_UNKNOWN_CONTROL'],
  ['body not JSON', build(2, '{nope'), 'MECOM_WIRE_DECODE'],
  ['body an array', build(2, '[1]'), 'MECOM_WIRE_DECODE'],
  ['field of wrong type', build(2, '{"protocol":"1","frameVersion":1}'), 'MECOM_WIRE_DECODE'],
  ['missing field', build(4, '{"streamBytes":1,"digest":"x"}'), 'MECOM_WIRE_DECODE'],
];

for (const [name, bytes, code] of rejections) {
  test(`decodeControl rejects: ${name} (${code})`, () => {
    assert.throws(() => decodeControl(bytes), (e: unknown) => e instanceof MecomError && e.code === code);
  });
}

test('encodeControl refuses a body over the cap', () => {
  assert.throws(
    () => encodeControl({ type: ControlType.Abort, body: { reason: 'x'.repeat(CONTROL_MAX_LENGTH), code: 'X' } }),
    (e: unknown) => e instanceof MecomError && e.code === 'MECOM_WIRE_LENGTH',
  );
});
