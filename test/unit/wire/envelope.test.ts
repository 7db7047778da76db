import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EnvelopeReader } from '../../../src/wire/envelope.js';
import { WireCodes, WireError } from '../../../src/wire/errors.js';

function msg(magic: string, body: number): Uint8Array {
  const b = new Uint8Array(8 + body);
  b.set(new TextEncoder().encode(magic));
  new DataView(b.buffer).setUint32(4, b.length, true);
  for (let i = 8; i < b.length; i++) b[i] = i * 7;
  return b;
}

const messages = [msg('MCF1', 100), msg('MCC1', 0), msg('MCF1', 3000), msg('MCC1', 13)];
const stream = Buffer.concat(messages);

function drain(r: EnvelopeReader, out: Array<{ magic: string; bytes: Uint8Array }>): void {
  for (let m = r.next(); m !== null; m = r.next()) out.push({ magic: m.magic, bytes: Uint8Array.from(m.bytes) });
}

function check(out: Array<{ magic: string; bytes: Uint8Array }>): void {
  assert.equal(out.length, messages.length);
  out.forEach((m, i) => {
    assert.equal(m.magic, String.fromCharCode(...messages[i].subarray(0, 4)));
    assert.deepEqual(m.bytes, messages[i]);
  });
}

test('envelope: split at every offset', () => {
  for (let cut = 0; cut <= stream.length; cut++) {
    const r = new EnvelopeReader({ maxLength: 4096, magics: ['MCF1', 'MCC1'] });
    const out: Array<{ magic: string; bytes: Uint8Array }> = [];
    r.push(stream.subarray(0, cut)); drain(r, out);
    r.push(stream.subarray(cut)); drain(r, out);
    check(out);
    assert.equal(r.bufferedBytes, 0);
  }
});

test('envelope: 1-byte chunks', () => {
  const r = new EnvelopeReader({ maxLength: 4096, magics: ['MCF1', 'MCC1'] });
  const out: Array<{ magic: string; bytes: Uint8Array }> = [];
  for (let i = 0; i < stream.length; i++) { r.push(stream.subarray(i, i + 1)); drain(r, out); }
  check(out);
});

test('envelope rejects unknown magic, short and oversize lengths before buffering', () => {
  const cases: Array<[Uint8Array, string]> = [
    [msg('XXXX', 4), WireCodes.badMagic],
    [(() => { const m = msg('MCF1', 4); new DataView(m.buffer).setUint32(4, 7, true); return m; })(), WireCodes.length],
    [(() => { const m = msg('MCF1', 4); new DataView(m.buffer).setUint32(4, 4097, true); return m; })(), WireCodes.length],
  ];
  for (const [m, code] of cases) {
    const r = new EnvelopeReader({ maxLength: 4096, magics: ['MCF1', 'MCC1'] });
    assert.throws(() => { r.push(m.subarray(0, 8)); r.next(); }, (e: unknown) => e instanceof WireError && e.code === code);
    assert.throws(() => r.next(), (e: unknown) => e instanceof WireError && e.code === code, 'stays failed');
  }
});

/** pushTransient: the caller's chunk is one buffer, overwritten as soon as the call returns. */
function pushShared(r: EnvelopeReader, bytes: Uint8Array, shared: Uint8Array): void {
  shared.set(bytes);
  r.pushTransient(shared.subarray(0, bytes.length));
  shared.fill(0xee);
}

test('envelope pushTransient: split at every offset, no view of the chunk kept', () => {
  const shared = new Uint8Array(stream.length);
  for (let cut = 0; cut <= stream.length; cut++) {
    const r = new EnvelopeReader({ maxLength: 4096, magics: ['MCF1', 'MCC1'] });
    const out: Array<{ magic: string; bytes: Uint8Array }> = [];
    const raw: Uint8Array[] = [];
    pushShared(r, stream.subarray(0, cut), shared);
    for (let m = r.next(); m !== null; m = r.next()) raw.push(m.bytes);
    pushShared(r, stream.subarray(cut), shared);
    for (let m = r.next(); m !== null; m = r.next()) raw.push(m.bytes);
    // Compare the messages as returned (no copy here): they must not alias the shared chunk.
    for (const b of raw) out.push({ magic: String.fromCharCode(...b.subarray(0, 4)), bytes: b });
    check(out);
    assert.equal(r.bufferedBytes, 0);
  }
});

test('envelope pushTransient: 1-byte chunks; prefix checked before the body is buffered', () => {
  const r = new EnvelopeReader({ maxLength: 4096, magics: ['MCF1', 'MCC1'] });
  const out: Array<{ magic: string; bytes: Uint8Array }> = [];
  const shared = new Uint8Array(1);
  for (let i = 0; i < stream.length; i++) { pushShared(r, stream.subarray(i, i + 1), shared); drain(r, out); }
  check(out);
  const bad = new EnvelopeReader({ maxLength: 4096, magics: ['MCF1', 'MCC1'] });
  const big = msg('MCF1', 4); new DataView(big.buffer).setUint32(4, 1 << 30, true);
  assert.throws(() => bad.pushTransient(big.subarray(0, 8)), (e: unknown) => e instanceof WireError && e.code === WireCodes.length);
  assert.throws(() => bad.next(), (e: unknown) => e instanceof WireError && e.code === WireCodes.length, 'stays failed');
});

test('envelope: one reader takes push or pushTransient chunks, not both', () => {
  const a = new EnvelopeReader({ maxLength: 4096, magics: ['MCF1', 'MCC1'] });
  a.push(stream.subarray(0, 5));
  assert.throws(() => a.pushTransient(stream.subarray(5, 10)), RangeError);
  const b = new EnvelopeReader({ maxLength: 4096, magics: ['MCF1', 'MCC1'] });
  b.pushTransient(stream.subarray(0, 5));
  assert.throws(() => b.push(stream.subarray(5, 10)), RangeError);
});

test('envelope pushTransient: messages go into the buffers alloc gives, whatever they held', () => {
  const asked: number[] = [];
  const given: Uint8Array[] = [];
  const r = new EnvelopeReader({
    maxLength: 4096, magics: ['MCF1', 'MCC1'],
    alloc: (n) => {
      asked.push(n);
      const b = new Uint8Array(n).fill(0xab); // a reused buffer's old contents
      given.push(b);
      return b;
    },
  });
  const shared = new Uint8Array(stream.length);
  pushShared(r, stream.subarray(0, 150), shared);
  pushShared(r, stream.subarray(150), shared);
  const out: Array<{ magic: string; bytes: Uint8Array }> = [];
  for (let m = r.next(); m !== null; m = r.next()) out.push(m);
  check(out);
  assert.deepEqual(asked, messages.map((m) => m.length));
  out.forEach((m, i) => assert.equal(m.bytes, given[i]));
  const bad = new EnvelopeReader({ maxLength: 4096, magics: ['MCF1'], alloc: (n) => new Uint8Array(n + 1) });
  assert.throws(() => bad.pushTransient(messages[0]), /alloc\(108\) returned 109 bytes/);
});

/** Reads `src` through readTarget/commitRead, each read taking 1..maxRead bytes of what is offered. */
function readDirect(r: EnvelopeReader, src: Uint8Array, maxRead: (i: number) => number, out: Array<{ magic: string; bytes: Uint8Array }>): void {
  let at = 0;
  for (let i = 0; at < src.length; i++) {
    const target = r.readTarget();
    assert.ok(target.length > 0, 'a read target is never empty');
    const n = Math.min(target.length, src.length - at, Math.max(1, maxRead(i)));
    target.set(src.subarray(at, at + n));
    at += n;
    r.commitRead(n);
    drain(r, out);
  }
}

test('envelope readTarget: any read sizes; a read never reaches into the next message', () => {
  for (const max of [1, 3, 8, 9, 100, 4096]) {
    const targets: Uint8Array[] = [];
    const r = new EnvelopeReader({ maxLength: 4096, magics: ['MCF1', 'MCC1'] });
    const out: Array<{ magic: string; bytes: Uint8Array }> = [];
    let at = 0;
    for (let i = 0; at < stream.length; i++) {
      const target = r.readTarget();
      targets.push(target);
      const n = Math.min(target.length, stream.length - at, max);
      target.set(stream.subarray(at, at + n));
      at += n;
      r.commitRead(n);
      for (let m = r.next(); m !== null; m = r.next()) out.push({ magic: m.magic, bytes: m.bytes });
    }
    check(out);
    // The messages are the very buffers the reads went into (nothing was copied after the prefix).
    for (const m of out.filter((x) => x.bytes.length > 8)) assert.ok(targets.some((t) => t.buffer === m.bytes.buffer && t.byteOffset > m.bytes.byteOffset));
    assert.equal(r.bufferedBytes, 0);
  }
});

test('envelope readTarget: a bad prefix is refused before a buffer is asked for; mixes with pushTransient', () => {
  let allocs = 0;
  const r = new EnvelopeReader({ maxLength: 4096, magics: ['MCF1', 'MCC1'], alloc: (n) => { allocs++; return new Uint8Array(n); } });
  const bad = msg('XXXX', 10);
  assert.throws(() => readDirect(r, bad, () => 8, []), (e: unknown) => e instanceof WireError && e.code === WireCodes.badMagic);
  assert.equal(allocs, 0);
  assert.throws(() => r.readTarget(), WireError, 'stays failed');

  const r2 = new EnvelopeReader({ maxLength: 4096, magics: ['MCF1', 'MCC1'] });
  const out: Array<{ magic: string; bytes: Uint8Array }> = [];
  r2.pushTransient(stream.subarray(0, 50));
  drain(r2, out);
  readDirect(r2, stream.subarray(50), (i) => 1 + (i % 17) * 97, out);
  check(out);
  assert.throws(() => r2.commitRead(1 << 20), RangeError, 'a read longer than its target is a bug');
  const pushed = new EnvelopeReader({ maxLength: 4096, magics: ['MCF1', 'MCC1'] });
  pushed.push(stream.subarray(0, 3));
  assert.throws(() => pushed.readTarget(), RangeError, 'push and readTarget do not mix');
});
