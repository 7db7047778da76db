// The WebAssembly WKdm kernel against the TypeScript reference: same payload bytes for every
// page, same pages back, and the same refusals of corrupt payloads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { WkdmCodec } from '../../../src/codec/wkdm.js';
import { PAGE_SIZE, PAGE_WORDS } from '../../../src/codec/ids.js';
import { CodecError } from '../../../src/codec/errors.js';
import { readProcessPages } from '../../../src/eval/corpus.js';
import { WkdmReference } from './wkdm-reference.js';

const kernel = new WkdmCodec();
const ref = new WkdmReference();

/** Encode with both; assert identical results; return the payload (or null when both refuse). */
function both(page: Uint8Array): Uint8Array | null {
  const aligned = new Uint8Array(PAGE_SIZE);
  aligned.set(page);
  const n = kernel.encodeAt(aligned, 0);
  const m = ref.encodeWords(new Uint32Array(aligned.buffer), 0);
  assert.equal(n, m, 'payload lengths differ');
  if (n < 0) return null;
  assert.ok(Buffer.from(kernel.out.subarray(0, n)).equals(ref.out.subarray(0, n)), 'payload bytes differ');
  const back = new Uint8Array(PAGE_SIZE + 5);
  kernel.decode(Uint8Array.from(kernel.out.subarray(0, n)), 0, n, back, 5);
  assert.ok(Buffer.from(back.subarray(5)).equals(aligned), 'kernel decode differs from the page');
  return Uint8Array.from(kernel.out.subarray(0, n));
}

const wordArb = fc.oneof(
  fc.constant(0),
  fc.integer({ min: 0, max: 0xffffffff }),
  fc.integer({ min: 0, max: 0x3ff }).map((lo) => (0x7f00a000 | lo) >>> 0), // PARTIAL-rich
  fc.constantFrom(0x7f00a123, 0x55aa55aa, 1),                           // EXACT-rich
);
const pageArb = fc.array(wordArb, { minLength: PAGE_WORDS, maxLength: PAGE_WORDS })
  .map((ws) => new Uint8Array(Uint32Array.from(ws).buffer));

test('kernel and reference agree on random word mixes', () => {
  fc.assert(fc.property(pageArb, (page) => { both(page); }), { numRuns: 300 });
});

test('kernel and reference agree on real pages of this process', () => {
  const pages = readProcessPages('self', 600);
  let encoded = 0;
  for (let off = 0; off < pages.length; off += PAGE_SIZE) if (both(pages.subarray(off, off + PAGE_SIZE))) encoded++;
  assert.ok(encoded > 50, `only ${encoded} pages were WKdm-compressible`);
});

test('kernel decode rejects every corrupt payload the reference rejects, and decodes the rest identically', () => {
  const page = new Uint8Array(Uint32Array.from({ length: PAGE_WORDS }, (_, i) => (i % 5 === 0 ? 0 : 0x7f00a000 + ((i * 37) & 0x3fff))).buffer);
  const payload = both(page)!;
  assert.ok(payload);
  const a = new Uint8Array(PAGE_SIZE);
  const b = new Uint32Array(PAGE_WORDS);
  fc.assert(fc.property(fc.nat(payload.length - 1), fc.integer({ min: 1, max: 255 }), (at, x) => {
    const bad = Uint8Array.from(payload);
    bad[at] ^= x;
    let kErr: unknown = null;
    let rErr: unknown = null;
    try { kernel.decode(bad, 0, bad.length, a, 0); } catch (e) { kErr = e; }
    try { ref.decodeWords(new Uint32Array(bad.buffer), bad.length >>> 2, b); } catch (e) { rErr = e; }
    assert.equal(kErr === null, rErr === null, `kernel ${String(kErr)} vs reference ${String(rErr)}`);
    if (kErr !== null) assert.ok(kErr instanceof CodecError);
    else assert.ok(Buffer.from(a).equals(new Uint8Array(b.buffer)));
  }), { numRuns: 2000 });
});

test('kernel decode refuses a payload that claims more bytes than its source holds', () => {
  const page = new Uint8Array(Uint32Array.from({ length: PAGE_WORDS }, (_, i) => 0x7f00a000 + (i & 0xff)).buffer);
  const payload = both(page)!;
  assert.throws(() => kernel.decode(payload, 8, payload.length, new Uint8Array(PAGE_SIZE), 0), CodecError);
});
