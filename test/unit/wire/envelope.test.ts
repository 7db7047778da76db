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

test('envelope readTarget: a bad prefix is refused before a buffer is asked for; push and readTarget do not mix', () => {
  let allocs = 0;
  const r = new EnvelopeReader({ maxLength: 4096, magics: ['MCF1', 'MCC1'], alloc: (n) => { allocs++; return new Uint8Array(n); } });
  const bad = msg('XXXX', 10);
  assert.throws(() => readDirect(r, bad, () => 8, []), (e: unknown) => e instanceof WireError && e.code === WireCodes.badMagic);
  assert.equal(allocs, 0);
  assert.throws(() => r.readTarget(), WireError, 'stays failed');

  const r2 = new EnvelopeReader({ maxLength: 4096, magics: ['MCF1', 'MCC1'] });
  const out: Array<{ magic: string; bytes: Uint8Array }> = [];
  readDirect(r2, stream, (i) => 1 + (i % 17) * 97, out);
  check(out);
  assert.throws(() => r2.commitRead(1 << 20), RangeError, 'a read longer than its target is a bug');
  assert.throws(() => r2.push(stream.subarray(0, 3)), RangeError, 'readTarget and push do not mix');
  const pushed = new EnvelopeReader({ maxLength: 4096, magics: ['MCF1', 'MCC1'] });
  pushed.push(stream.subarray(0, 3));
  assert.throws(() => pushed.readTarget(), RangeError, 'push and readTarget do not mix');
});

test('envelope readTarget: split at every offset; an oversize prefix fails before a buffer', () => {
  for (let cut = 0; cut <= stream.length; cut++) {
    const r = new EnvelopeReader({ maxLength: 4096, magics: ['MCF1', 'MCC1'] });
    const out: Array<{ magic: string; bytes: Uint8Array }> = [];
    readDirect(r, stream.subarray(0, cut), () => 4096, out);
    readDirect(r, stream.subarray(cut), () => 4096, out);
    check(out);
    assert.equal(r.bufferedBytes, 0);
  }
  const bad = new EnvelopeReader({ maxLength: 4096, magics: ['MCF1', 'MCC1'] });
  const big = msg('MCF1', 4); new DataView(big.buffer).setUint32(4, 1 << 30, true);
  assert.throws(() => readDirect(bad, big.subarray(0, 8), () => 1, []), (e: unknown) => e instanceof WireError && e.code === WireCodes.length);
  assert.throws(() => bad.next(), (e: unknown) => e instanceof WireError && e.code === WireCodes.length, 'stays failed');
});

test('envelope readTarget: messages go into the buffers alloc gives, whatever they held', () => {
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
  const out: Array<{ magic: string; bytes: Uint8Array }> = [];
  for (let at = 0; at < stream.length;) {
    const target = r.readTarget();
    const n = Math.min(target.length, stream.length - at, 150);
    target.set(stream.subarray(at, at + n));
    at += n;
    r.commitRead(n);
    for (let m = r.next(); m !== null; m = r.next()) out.push(m); // no copy: the buffers themselves
  }
  check(out);
  assert.deepEqual(asked, messages.map((m) => m.length));
  out.forEach((m, i) => assert.equal(m.bytes, given[i]));
  const bad = new EnvelopeReader({ maxLength: 4096, magics: ['MCF1'], alloc: (n) => new Uint8Array(n + 1) });
  assert.throws(() => readDirect(bad, messages[0], () => 4096, []), /alloc\(108\) returned 109 bytes/);
});
