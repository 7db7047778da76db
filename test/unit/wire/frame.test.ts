import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameEncoder, CODEC_POLICIES } from '../../../src/wire/frame-encode.js';
import { FrameDecoder } from '../../../src/wire/frame-decode.js';
import { BatchBuilder } from '../../../src/wire/batch.js';
import { xxh64 } from '@node-rs/xxhash';
import { WireCodes, WireError } from '../../../src/wire/errors.js';
import { FRAME_HEADER_LENGTH, PAGE_ENTRY_LENGTH, FRAME_MAX_PAGES } from '../../../src/wire/frame-format.js';
import { sampleBatch } from './helpers.js';
import { randomBytes } from 'node:crypto';
import { N_CHOICES } from '../../../src/codec/cost-model.js';

test('frames round-trip real pages with every policy', () => {
  const { batch, span } = sampleBatch();
  for (const policy of CODEC_POLICIES) {
    const enc = new FrameEncoder({ policy });
    const frame = enc.encode(batch);
    assert.equal(new DataView(frame.buffer, frame.byteOffset).getUint32(4, true), frame.length);
    const d = new FrameDecoder().decode(frame);
    assert.deepEqual(Buffer.from(d.span), Buffer.from(span), policy);
    assert.equal(d.pageCount, batch.pageCount);
    assert.equal(enc.stats.bytesIn, span.length);
    assert.equal(enc.stats.bytesOut, frame.length);
  }
});

test('glue-only batches and empty batches are valid frames', () => {
  const b = new BatchBuilder(4);
  const glue = new TextEncoder().encode('QEVM device state '.repeat(40));
  b.appendGlue(glue, 0, glue.length);
  const enc = new FrameEncoder({ policy: 'adaptive' });
  const f = enc.encode(b.take());
  assert.ok(f.length < glue.length, 'compressible glue is compressed');
  assert.deepEqual(Buffer.from(new FrameDecoder().decode(f).span), Buffer.from(glue));
  const empty = enc.encode(b.take());
  assert.equal(new FrameDecoder().decode(empty).span.length, 0);
});

test('BatchBuilder keeps stream order and continues fresh after take()', () => {
  const b = new BatchBuilder(2);
  const page = new Uint8Array(4096).fill(5);
  b.appendGlue(Uint8Array.of(1, 2, 3), 0, 3);
  b.appendPage(page, 0, 8192);
  b.appendPage(page, 0, 12288);
  assert.ok(b.isFull());
  assert.throws(() => b.appendPage(page, 0, 0), (e: unknown) => e instanceof WireError && e.code === WireCodes.length);
  b.appendGlue(Uint8Array.of(4), 0, 1);
  const batch = b.take();
  assert.deepEqual([...batch.glueBefore], [3, 0]);
  assert.equal(batch.glueLength, 4);
  assert.deepEqual([...batch.addrs], [8192, 12288]);
  assert.equal(b.pageCount, 0);
  assert.equal(b.glueLength, 0);
  const structured = structuredClone(batch);
  assert.deepEqual(Buffer.from(new FrameDecoder().decode(new FrameEncoder({ policy: 'lz4' }).encode(structured)).span),
    Buffer.concat([Buffer.of(1, 2, 3), page, page, Buffer.of(4)]));
});

test('plans: every codec choice per class round-trips, group blocks included', () => {
  const { batch, span } = sampleBatch(40);
  const enc = new FrameEncoder({ policy: 'adaptive' });
  const dec = new FrameDecoder();
  const seen = new Set<string>();
  for (let a = 0; a < N_CHOICES; a++) {
    for (let b = 0; b < N_CHOICES; b++) {
      const plan = [a, b, (a + b) % N_CHOICES];
      const before = enc.pagesByCodec().fill ?? 0;
      const f = enc.encode(batch, { plan, probe: (a + b) % 3 === 0 });
      assert.ok(Buffer.from(dec.decode(f).span).equals(Buffer.from(span)), `plan ${plan}`);
      assert.ok((enc.pagesByCodec().fill ?? 0) > before, `plan ${plan}: the FILL page was sent as FILL`);
      const m = enc.lastMeasure!;
      assert.equal(m.pages, batch.pageCount);
      assert.ok(m.seconds > 0 && m.baseSeconds >= 0);
    }
  }
  for (const k of Object.keys(enc.pagesByCodec())) seen.add(k);
  for (const k of ['zero', 'wkdm', 'lz4', 'zstd', 'lz4-group', 'zstd-group']) assert.ok(seen.has(k), `${k} used`);
});

test('group pages that do not shrink are sent RAW', () => {
  const b = new BatchBuilder(8);
  for (let i = 0; i < 8; i++) b.appendPage(randomBytes(4096), 0, i * 4096);
  const batch = b.take();
  for (const policy of ['lz4-group', 'zstd-group'] as const) {
    const enc = new FrameEncoder({ policy });
    const f = enc.encode(structuredClone(batch));
    assert.deepEqual(enc.pagesByCodec(), { raw: 8 });
    assert.equal(new FrameDecoder().decode(f).pageCount, 8);
  }
});

test('a group spans pages: 200 similar pages compress better together than one by one', () => {
  const { batch, span } = sampleBatch(200);
  const per = new FrameEncoder({ policy: 'zstd' }).encode(batch);
  const grp = new FrameEncoder({ policy: 'zstd-group' }).encode(batch);
  assert.ok(grp.length < per.length, `group ${grp.length} vs per-page ${per.length}`);
  assert.ok(Buffer.from(new FrameDecoder().decode(grp).span).equals(Buffer.from(span)));
});

/** Rewrite a frame's checksum so that a mutation reaches the rule under test. */
function reseal(f: Uint8Array): Uint8Array {
  new DataView(f.buffer, f.byteOffset).setBigUint64(f.length - 8, xxh64(f.subarray(0, f.length - 8), 0n), true);
  return f;
}

test('decoder rejection rules: one case per code', () => {
  const { batch } = sampleBatch(8);
  const good = new FrameEncoder({ policy: 'adaptive' }).encode(batch);
  const raw = new FrameEncoder({ policy: 'raw' }).encode(batch);
  const n = batch.pageCount;
  const mut = (base: Uint8Array, f: (b: Uint8Array, dv: DataView) => void): Uint8Array => {
    const b = Uint8Array.from(base);
    f(b, new DataView(b.buffer));
    return b;
  };
  const e0 = FRAME_HEADER_LENGTH;
  const grp = new FrameEncoder({ policy: 'zstd-group' }).encode(batch);
  const grpLz4 = new FrameEncoder({ policy: 'lz4-group' }).encode(batch);
  const layout = (f: Uint8Array, pages = n) => {
    const dv = new DataView(f.buffer, f.byteOffset);
    let member = -1, members = 0, payload = 0;
    for (let i = 0; i < pages; i++) {
      const e = e0 + i * PAGE_ENTRY_LENGTH;
      if (f[e] >= 0x80) { members++; if (member < 0) member = e; }
      payload += dv.getUint16(e + 2, true);
    }
    return { member, members, block: e0 + pages * PAGE_ENTRY_LENGTH + dv.getUint32(20, true) + payload };
  };
  const { member: grpMember, members: grpMembers, block: grpBlock } = layout(grp);
  const { block: grpLz4Block } = layout(grpLz4);
  assert.ok(grpMember > 0 && grpMembers > 1);
  const cases: Array<[string, string, Uint8Array]> = [
    ['short frame', WireCodes.truncated, good.subarray(0, 3)],
    ['bad magic', WireCodes.badMagic, mut(good, (b) => { b[0] = 0x58; })],
    ['header cut', WireCodes.truncated, good.subarray(0, 20)],
    ['length below minimum', WireCodes.length, mut(good, (_b, dv) => dv.setUint32(4, 10, true))],
    ['length over cap', WireCodes.length, mut(good, (_b, dv) => dv.setUint32(4, 0xffffffff, true))],
    ['frame cut short', WireCodes.truncated, good.subarray(0, good.length - 1)],
    ['trailing bytes', WireCodes.length, (() => { const b = new Uint8Array(good.length + 1); b.set(good); return b; })()],
    ['version 1 (before group blocks)', WireCodes.badVersion, mut(good, (b) => { b[8] = 1; })],
    ['version 2 (checksum of the span)', WireCodes.badVersion, mut(good, (b) => { b[8] = 2; })],
    ['version 3 (no chained checksum)', WireCodes.badVersion, mut(good, (b) => { b[8] = 3; })],
    ['version 5', WireCodes.badVersion, mut(good, (b) => { b[8] = 5; })],
    ['reserved flag', WireCodes.reserved, mut(good, (b) => { b[9] |= 0x80; })],
    ['reserved header bytes', WireCodes.reserved, mut(good, (b) => { b[10] = 1; })],
    ['page count overflow', WireCodes.length, mut(good, (_b, dv) => dv.setUint32(12, FRAME_MAX_PAGES + 1, true))],
    ['page count past table', WireCodes.length, mut(good, (_b, dv) => dv.setUint32(12, 4000, true))],
    ['glue length huge', WireCodes.length, mut(raw, (_b, dv) => dv.setUint32(16, 0x7fffffff, true))],
    ['glue stored mismatch', WireCodes.length, mut(raw, (_b, dv) => dv.setUint32(20, dv.getUint32(20, true) + 1, true))],
    ['unassigned group tag 0x80', WireCodes.unknownCodec, mut(good, (b) => { b[e0] = 0x80; })],
    ['unassigned group tag 0x83 (wkdm)', WireCodes.unknownCodec, mut(good, (b) => { b[e0] = 0x83; })],
    ['unassigned tag 0xff', WireCodes.unknownCodec, mut(good, (b) => { b[e0] = 0xff; })],
    ['group member with a payload length', WireCodes.length, mut(grp, (_b, dv) => dv.setUint16(grpMember + 2, 1, true))],
    ['group block stored length 0', WireCodes.length, mut(grp, (_b, dv) => dv.setUint32(grpBlock, 0, true))],
    ['group block past the payloads', WireCodes.length, mut(grp, (_b, dv) => dv.setUint32(grpBlock, dv.getUint32(grpBlock, true) + 1, true))],
    ['group block not smaller than its pages', WireCodes.length, mut(grp, (_b, dv) => dv.setUint32(grpBlock, grpMembers * 4096 - 4, true))],
    ['page moved out of its group: block decodes too long', WireCodes.decode, (() => {
      // Eight text pages, all in one group, so that the group still has room after losing a
      // member (the random sample may leave a group of two, which then fails the length rule).
      const tb = new BatchBuilder(8);
      const text = Buffer.alloc(4096);
      for (let i = 0; i < 8; i++) {
        text.fill(`page ${i}: the quick brown fox jumps over the lazy dog; `);
        tb.appendPage(text, 0, i * 4096);
      }
      const tf = new FrameEncoder({ policy: 'zstd-group' }).encode(tb.take());
      const { member, members } = layout(tf, 8);
      assert.equal(members, 8);
      return mut(tf, (b) => { b[member] = 1; });
    })()],
    ['group block missing its prefix', WireCodes.length, (() => {
      // Drop the block (prefix and data): members now point at a group block that is not there.
      const L = 4 + new DataView(grp.buffer).getUint32(grpBlock, true);
      const g = new Uint8Array(grp.length - L);
      g.set(grp.subarray(0, grpBlock));
      g.set(grp.subarray(grpBlock + L), grpBlock);
      new DataView(g.buffer).setUint32(4, g.length, true);
      return g;
    })()],
    ['group block does not decode', WireCodes.decode, mut(grp, (b) => { b[grpBlock + 4] ^= 0xff; })],
    ['group block decodes to the wrong bytes', WireCodes.checksum, mut(grpLz4, (b) => { b[grpLz4Block + 4 + 7] ^= 0x01; })],
    ['unknown codec', WireCodes.unknownCodec, mut(good, (b) => { b[e0] = 0x33; })],
    ['reserved entry byte', WireCodes.reserved, mut(good, (b) => { b[e0 + 1] = 1; })],
    ['raw page with wrong length', WireCodes.length, mut(raw, (_b, dv) => dv.setUint16(e0 + 2, 4095, true))],
    ['payload sum mismatch', WireCodes.length, mut(raw, (b, dv) => { b[e0 + PAGE_ENTRY_LENGTH * (n - 1)] = 1; dv.setUint16(e0 + PAGE_ENTRY_LENGTH * (n - 1) + 2, 0, true); })],
    ['glueBefore past glue', WireCodes.range, mut(raw, (_b, dv) => dv.setUint32(e0 + 4, 0xffffff, true))],
    ['address too large', WireCodes.range, mut(raw, (_b, dv) => dv.setUint32(e0 + 12, 0xffffffff, true))],
    ['corrupt payload', WireCodes.decode, (() => {
      // Turn the last (random, RAW) page into a "zstd" page of garbage, keeping lengths consistent.
      const f = new FrameEncoder({ policy: 'raw' }).encode(batch);
      const dv = new DataView(f.buffer);
      const last = e0 + PAGE_ENTRY_LENGTH * (n - 1);
      f[last] = 5;
      dv.setUint16(last + 2, 4095, true);
      dv.setUint32(4, f.length - 1, true);
      const g = new Uint8Array(f.length - 1);
      g.set(f.subarray(0, f.length - 9));
      g.set(f.subarray(f.length - 8), g.length - 8);
      return reseal(g);
    })()],
    ['checksum mismatch', WireCodes.checksum, mut(good, (b) => { b[b.length - 1] ^= 1; })],
    ['payload bit flip caught by checksum', WireCodes.checksum, mut(raw, (b) => { b[b.length - 20] ^= 1; })],
  ];
  const seen = new Set<string>();
  for (const [name, code, frame] of cases) {
    assert.throws(() => new FrameDecoder().decode(frame), (e: unknown) => {
      assert.ok(e instanceof WireError, `${name}: ${String(e)}`);
      assert.equal(e.code, code, `${name}: ${e.message}`);
      return true;
    }, name);
    seen.add(code);
  }
  for (const code of Object.values(WireCodes)) if (code !== WireCodes.badMagic || true) assert.ok(seen.has(code), `no case for ${code}`);
});
