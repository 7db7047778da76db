import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { PageEncoder, PAGE_POLICIES } from '../../../src/codec/page-encoder.js';
import { CodecRegistry } from '../../../src/codec/registry.js';
import { CodecId, PAGE_SIZE } from '../../../src/codec/ids.js';
import { WkdmCodec } from '../../../src/codec/wkdm.js';
import { MecomError } from '../../../src/errors.js';
import { readProcessPages } from '../../../src/eval/corpus.js';

function roundTrip(policy: (typeof PAGE_POLICIES)[number], page: Uint8Array, off = 0): CodecId {
  const pe = new PageEncoder({ policy });
  pe.encode(page, off);
  const reg = new CodecRegistry();
  const dst = new Uint8Array(PAGE_SIZE + 3);
  const payload = Uint8Array.from(pe.payload.subarray(0, pe.length));
  reg.get(pe.id)!.decode(payload, 0, pe.length, dst, 3);
  assert.ok(Buffer.from(dst.subarray(3)).equals(page.subarray(off, off + PAGE_SIZE)), `${policy}: page differs after round trip`);
  if (pe.id !== CodecId.Raw) assert.ok(pe.length < PAGE_SIZE);
  return pe.id;
}

function wordsPage(f: (i: number) => number): Uint8Array {
  const w = new Uint32Array(1024);
  for (let i = 0; i < 1024; i++) w[i] = f(i);
  return new Uint8Array(w.buffer);
}

const fixtures: Record<string, Uint8Array> = {
  zero: new Uint8Array(PAGE_SIZE),
  fill: wordsPage((i) => (i & 1 ? 0xdeadbeef : 0x01020304)),
  random: randomBytes(PAGE_SIZE),
  halfRandom: (() => { const p = new Uint8Array(PAGE_SIZE); p.set(randomBytes(2048)); return p; })(),
  pointers: wordsPage((i) => 0x7f001000 + ((i * 40) & 0xfff)),
  // WKdm worst case: every word a miss (distinct high bits, never zero).
  allMiss: wordsPage((i) => ((i + 1) * 0x9e3779b1) >>> 0 | 0x400),
  text: new TextEncoder().encode('the quick brown fox jumps over the lazy dog. '.repeat(100)).subarray(0, PAGE_SIZE),
};

test('every policy round-trips the fixture pages', () => {
  for (const policy of PAGE_POLICIES) {
    for (const [name, page] of Object.entries(fixtures)) {
      assert.doesNotThrow(() => roundTrip(policy, page), `${policy} ${name}`);
    }
  }
});

test('adaptive picks ZERO, FILL and RAW where expected', () => {
  assert.equal(roundTrip('adaptive', fixtures.zero), CodecId.Zero);
  assert.equal(roundTrip('adaptive', fixtures.fill), CodecId.Fill);
  assert.equal(roundTrip('adaptive', fixtures.random), CodecId.Raw);
  assert.equal(roundTrip('zero', fixtures.text), CodecId.Raw);
  assert.equal(roundTrip('zero', fixtures.zero), CodecId.Zero);
});

test('WKdm refuses its worst case (every word a miss) and compresses pointer-like pages', () => {
  const wk = new WkdmCodec();
  assert.equal(wk.encodeAt(fixtures.allMiss, 0), -1);
  const len = wk.encodeAt(fixtures.pointers, 0);
  assert.ok(len > 0 && len < PAGE_SIZE, `pointer page encoded to ${len}`);
});

test('unaligned source pages round-trip', () => {
  const buf = new Uint8Array(PAGE_SIZE + 1);
  buf.set(fixtures.pointers, 1);
  for (const policy of PAGE_POLICIES) roundTrip(policy, buf, 1);
});

test('real pages of this process round-trip with every policy', () => {
  const pages = readProcessPages('self', 400);
  assert.ok(pages.length >= 100 * PAGE_SIZE);
  for (const policy of PAGE_POLICIES) {
    for (let off = 0; off < pages.length; off += PAGE_SIZE) roundTrip(policy, pages, off);
  }
});

test('property: any page round-trips under every policy', () => {
  const pageArb = fc.oneof(
    fc.uint8Array({ minLength: PAGE_SIZE, maxLength: PAGE_SIZE }),
    fc.array(fc.constantFrom(0, 1, 0x7f00abcd, 0x7f00abce, 0xffffffff, 0x12345678), { minLength: 1024, maxLength: 1024 }).map((a) => new Uint8Array(Uint32Array.from(a).buffer)),
    fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.nat(4095)).map(([b, at]) => { const p = new Uint8Array(PAGE_SIZE); p.set(b.subarray(0, PAGE_SIZE - at), at); return p; }),
  );
  fc.assert(fc.property(pageArb, (page) => { for (const policy of PAGE_POLICIES) roundTrip(policy, page); }), { numRuns: 200 });
});

test('codec decoders reject corrupt payloads with a MecomError', () => {
  const reg = new CodecRegistry();
  const dst = new Uint8Array(PAGE_SIZE);
  for (const id of [CodecId.Raw, CodecId.Zero, CodecId.Fill, CodecId.Wkdm, CodecId.Lz4, CodecId.Zstd]) {
    for (const len of [1, 7, 300, 4095]) {
      const junk = randomBytes(len);
      try {
        reg.get(id)!.decode(junk, 0, len, dst, 0);
      } catch (err) {
        assert.ok(err instanceof MecomError, `codec ${id} threw ${String(err)}`);
      }
    }
  }
});

test('the classifier sample counts WKdm tags as the reference dictionary would', async () => {
  const { Classifier } = await import('../../../src/codec/classifier.js');
  const c = new Classifier();
  const wk = new WkdmCodec();
  const ref = (page: Uint8Array) => ({ bytes: page, buf: Buffer.from(page.buffer), words: new Uint32Array(page.buffer), byteOff: 0, wordOff: 0 });
  // Word i: 0 when i % 4 == 0, else one pointer with a varying low part: per sampled run of 16,
  // 4 zero words, then 1 miss and 11 partials (same high bits, different low bits).
  const page = wordsPage((i) => (i % 4 === 0 ? 0 : 0x7f00a000 + (i & 0x3ff)));
  const f = c.measure(ref(page), wk);
  assert.equal(f.zeroWords, 32);
  assert.equal(f.miss, 1, 'the dictionary carries over between runs: only the first pointer misses');
  assert.equal(f.partial, 95);
  assert.equal(f.exact, 0);
  const same = c.measure(ref(wordsPage(() => 0x12345678)), wk);
  assert.deepEqual([same.zeroWords, same.miss, same.exact, same.partial], [0, 1, 127, 0]);
});
