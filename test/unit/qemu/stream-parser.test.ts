/** QemuStreamParser against recorded QEMU 10.0.2 streams: byte-for-byte round trips under any chunking. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QemuStreamParser } from '../../../src/qemu/stream-parser.js';
import { QemuStreamError } from '../../../src/qemu/errors.js';
import { CheckingSink, fixture, parseChunked, parseSplit, rng } from './helpers.js';
import { BLOCKS, StreamBuilder, validStream } from './stream-builder.js';

/** Expected counts: PAGE/ZERO equal QEMU's query-migrate ram.normal / ram.duplicate for the run. */
const FIXTURES = [
  { name: 'default.bin.gz', pages: 52, zeroPages: 4142, ramSections: 3, blocks: 6 },
  { name: 'zpd-none.bin.gz', pages: 4194, zeroPages: 0, ramSections: 4, blocks: 6 },
  { name: 'multiround.bin.gz', pages: 452, zeroPages: 4142, ramSections: 29, blocks: 6 },
  { name: 'vga.bin.gz', pages: 62, zeroPages: 8244, ramSections: 3, blocks: 8 },
];

for (const f of FIXTURES) {
  test(`${f.name}: whole stream round-trips with the recorded counts`, () => {
    const data = fixture(f.name);
    const { parser, sink } = parseSplit(data, []);
    assert.equal(sink.emitted, data.length);
    const s = parser.stats;
    assert.equal(s.bytes, data.length);
    assert.equal(s.pages, f.pages);
    assert.equal(sink.pages, f.pages);
    assert.equal(s.zeroPages, f.zeroPages);
    assert.equal(s.ramSections, f.ramSections);
    assert.equal(s.blocks.length, f.blocks);
    assert.equal(s.machine, 'pc-i440fx-10.0');
    assert.equal(s.commands, 1, 'one SWITCHOVER_START');
    assert.deepEqual(sink.boundaries, [...Array(f.ramSections - 1).fill('section'), 'ram-end', 'eof']);
    // Global addresses: inside the concatenation of blocks, page aligned.
    const total = s.blocks.reduce((a, b) => a + b.length, 0);
    for (const a of sink.addrs) assert.ok(a % 4096 === 0 && a < total);
    assert.equal(s.blocks[0].idstr, 'pc.ram');
    assert.equal(s.blocks[0].base, 0);
    for (let i = 1; i < s.blocks.length; i++) assert.equal(s.blocks[i].base, s.blocks[i - 1].base + s.blocks[i - 1].length);
  });

  test(`${f.name}: random chunkings round-trip identically`, () => {
    const data = fixture(f.name);
    const whole = parseSplit(data, []).sink;
    const r = rng(0x5eed + f.pages);
    const sizes = data.length > 4e6 ? [300, 5000, 70000] : [7, 300, 5000, 70000];
    for (let run = 0; run < 12; run++) {
      const max = sizes[run % sizes.length];
      const cuts: number[] = [];
      for (let i = 1 + Math.floor(r() * max); i < data.length; i += 1 + Math.floor(r() * max)) cuts.push(i);
      const { sink } = parseSplit(data, cuts);
      assert.deepEqual(sink.addrs, whole.addrs);
      assert.deepEqual(sink.boundaries, whole.boundaries);
    }
  });
}

test('default.bin.gz: split at every offset of the first 4 KiB', () => {
  const data = fixture('default.bin.gz');
  for (let cut = 1; cut <= 4096; cut++) {
    const { sink } = parseSplit(data, [cut]);
    assert.equal(sink.pages, 52, `cut at ${cut}`);
  }
});

test('default.bin.gz: split around every page payload, record header and section boundary', () => {
  const data = fixture('default.bin.gz');
  const { sink: whole } = parseSplit(data, []);
  const points = new Set<number>();
  for (const off of whole.pageOffsets) {
    // Record header before the payload (8 + 1 + idstr), payload start and end.
    for (const p of [off - 16, off, off + 4096]) for (let d = -9; d <= 9; d += d > -3 && d < 3 ? 1 : 3) points.add(p + d);
  }
  for (const p of [...points].filter((p) => p > 0 && p < data.length)) {
    const { sink } = parseSplit(data, [p]);
    assert.deepEqual(sink.addrs, whole.addrs, `cut at ${p}`);
  }
  // The last 2 KiB (device tail, EOF, VMDESCRIPTION).
  for (let p = data.length - 2048; p < data.length; p++) {
    const { sink } = parseSplit(data, [p]);
    assert.deepEqual(sink.boundaries.at(-1), 'eof', `cut at ${p}`);
  }
});

test('default.bin.gz: 1-byte chunks', () => {
  const data = fixture('default.bin.gz');
  const { parser, sink } = parseChunked(data, 1);
  assert.equal(parser.stats.pages, 52);
  assert.equal(sink.emitted, data.length);
  assert.deepEqual(sink.boundaries, ['section', 'section', 'ram-end', 'eof']);
});

test('builder stream: addresses are block base + offset, boundaries in order', () => {
  const data = validStream().build();
  for (const size of [1, 2, 3, 5, 8, 13, 4096, 4097, data.length]) {
    const { parser, sink } = parseChunked(data, size);
    assert.deepEqual(sink.addrs, [0, 0x2000, BLOCKS[0][1] + 0x1000, 0xf000], `chunk ${size}`);
    assert.equal(parser.stats.zeroPages, 2);
    assert.deepEqual(sink.boundaries, ['section', 'section', 'ram-end', 'eof']);
  }
});

test('eof boundary is sent as soon as the VMDESCRIPTION is complete, before end()', () => {
  const data = validStream().build();
  const sink = new CheckingSink(data);
  const p = new QemuStreamParser(sink);
  p.push(data);
  assert.deepEqual(sink.boundaries.at(-1), 'eof');
  p.end();
  assert.equal(sink.boundaries.filter((b) => b === 'eof').length, 1);
});

test('xbzrle.bin.gz is refused at its first XBZRLE record, before any of its bytes are passed on', () => {
  const data = fixture('xbzrle.bin.gz');
  for (const size of [data.length, 65536, 4099, 1]) {
    const sink = new CheckingSink(data);
    const p = new QemuStreamParser(sink);
    let err: unknown;
    try {
      for (let i = 0; i < data.length; i += size) p.push(data.subarray(i, i + size));
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof QemuStreamError, `chunk ${size}: ${String(err)}`);
    assert.equal(err.code, 'MECOM_QEMU_UNKNOWN_FLAG');
    assert.equal(err.offset, 251051);
    assert.equal(err.received, 0x60); // XBZRLE | CONTINUE
    // Only bytes before the record may have gone out (at most its 8-byte header when split).
    assert.ok(sink.emitted <= err.offset + 8, `chunk ${size}: emitted ${sink.emitted}`);
    assert.ok(sink.pageOffsets.every((o) => o < err.offset));
    // Sticky: the parser stays failed.
    assert.throws(() => p.push(new Uint8Array(1)), { code: 'MECOM_QEMU_UNKNOWN_FLAG' });
    assert.throws(() => p.end(), { code: 'MECOM_QEMU_UNKNOWN_FLAG' });
  }
});

/** Heads (first 256 bytes) of streams recorded with capabilities the parser must refuse. */
function refuseHead(name: string): QemuStreamError {
  const data = fixture(name);
  const p = new QemuStreamParser(new CheckingSink(data));
  try {
    p.push(data);
  } catch (e) {
    assert.ok(e instanceof QemuStreamError);
    return e;
  }
  assert.fail(`${name} was accepted`);
}

test('mapped-ram stream head: configuration/capabilities subsection refused', () => {
  const err = refuseHead('mapped-ram-head.bin.gz');
  assert.equal(err.code, 'MECOM_QEMU_UNKNOWN_SUBSECTION');
  assert.equal(err.offset, 27);
  assert.equal(err.received, 'configuration/capabilities');
});

test('return-path stream head: OPEN_RETURN_PATH command refused', () => {
  const err = refuseHead('return-path-head.bin.gz');
  assert.equal(err.code, 'MECOM_QEMU_UNKNOWN_COMMAND');
  assert.equal(err.offset, 27);
  assert.equal(err.received, 1);
});

test('device bytes that look like EOF + VMDESCRIPTION do not end the stream early', () => {
  // A fake "00 06 <len> {" inside device state whose length points before the real end.
  const fake = [0x04, 0, 0, 0, 9, 1, 0x41, 0, 0, 0, 0, 0, 0, 0, 1, 0x00, 0x06, 0, 0, 0, 5, 0x7b, 0x7d, 0x7e, 0, 0, 0, 9];
  const data = new StreamBuilder().header().configuration().sectionStart().memSize(BLOCKS).eos().footer()
    .sectionEnd().page(0, 7, 'pc.ram').eos().footer().tail(fake).build();
  for (const size of [1, 5, data.length]) {
    const { sink } = parseChunked(data, size);
    assert.deepEqual(sink.boundaries, ['section', 'ram-end', 'eof'], `chunk ${size}`);
  }
  // Cut right after the fake pattern's "}": the stream is not complete. (A fake whose length
  // pointed exactly at where the input stops would be taken for the end: see docs/qemu-stream.md.)
  const cut = Buffer.from(data).indexOf(Buffer.from([0x00, 0x06, 0, 0, 0, 5, 0x7b, 0x7d])) + 8;
  assert.ok(cut > 8);
  const p = new QemuStreamParser(new CheckingSink(data));
  p.push(data.subarray(0, cut));
  assert.throws(() => p.end(), { code: 'MECOM_QEMU_TRUNCATED' });
});

// Regression: the parser kept a view of the caller's chunk (a RAM block's name, via Buffer#slice,
// which does not copy), so `mecom send` reading QEMU into one reused buffer refused the stream
// at the first page of a later block ("RAM block ... was not declared in MEM_SIZE").
test('the parser keeps no view of a pushed chunk (one reused buffer, scribbled over after each push)', () => {
  for (const f of FIXTURES) {
    const data = fixture(f.name);
    const sink = new CheckingSink(data);
    const parser = new QemuStreamParser(sink);
    const shared = Buffer.alloc(8192);
    for (let off = 0, i = 0; off < data.length; i++) {
      const n = Math.min(1000 + ((i * 2654435761) % 7000), data.length - off);
      data.copy(shared, 0, off, off + n);
      parser.push(shared.subarray(0, n));
      shared.fill(0xa5);
      off += n;
    }
    parser.end();
    assert.equal(sink.emitted, data.length, f.name);
    assert.equal(parser.stats.pages, f.pages, f.name);
  }
});
