/** Every rejection rule of QemuStreamParser, one table: code and stream offset, whole and in 1-byte chunks. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QemuStreamParser, type StreamSink } from '../../../src/qemu/stream-parser.js';
import { QemuStreamError, type QemuStreamErrorCode } from '../../../src/qemu/errors.js';
import { fixture } from './helpers.js';
import { BLOCKS, StreamBuilder } from './stream-builder.js';

const nullSink: StreamSink = { glue() {}, page() {}, boundary() {} };

/** Header, configuration, RAM START with the block list: where most cases continue. */
function started(): StreamBuilder {
  return new StreamBuilder().header().configuration().sectionStart().memSize(BLOCKS).eos().footer();
}
/** Offset of the next byte a builder would write. */
function at(b: StreamBuilder): number {
  return b.length;
}

interface Case {
  name: string;
  code: QemuStreamErrorCode;
  /** Returns the stream and the offset the error must name. */
  build: () => [Uint8Array, number];
}

function mk(prefix: StreamBuilder, rest: (b: StreamBuilder) => StreamBuilder, offsetDelta = 0): [Uint8Array, number] {
  const off = at(prefix) + offsetDelta;
  return [rest(prefix).build(), off];
}

const CASES: Case[] = [
  { name: 'bad magic', code: 'MECOM_QEMU_BAD_MAGIC', build: () => [new StreamBuilder().header(0x5145564e).configuration().build(), 0] },
  { name: 'bad version', code: 'MECOM_QEMU_BAD_VERSION', build: () => [new StreamBuilder().header(0x5145564d, 2).build(), 4] },
  { name: 'no configuration section', code: 'MECOM_QEMU_BAD_CONFIGURATION', build: () => mk(new StreamBuilder().header(), (b) => b.sectionStart()) },
  { name: 'empty machine name', code: 'MECOM_QEMU_BAD_CONFIGURATION', build: () => mk(new StreamBuilder().header(), (b) => b.u8(7).be32(0), 1) },
  { name: 'machine name over cap', code: 'MECOM_QEMU_BAD_CONFIGURATION', build: () => mk(new StreamBuilder().header(), (b) => b.u8(7).be32(100000), 1) },
  {
    name: 'second configuration', code: 'MECOM_QEMU_BAD_CONFIGURATION',
    build: () => mk(new StreamBuilder().header().configuration(), (b) => b.configuration()),
  },
  {
    name: 'configuration subsection (mapped-ram capabilities)', code: 'MECOM_QEMU_UNKNOWN_SUBSECTION',
    build: () => mk(new StreamBuilder().header().configuration(), (b) => b.u8(5).str8('configuration/capabilities').be32(1)),
  },
  { name: 'unknown section type 0x09', code: 'MECOM_QEMU_UNKNOWN_SECTION', build: () => mk(started(), (b) => b.u8(9)) },
  { name: 'QEMU_VM_EOF before RAM END', code: 'MECOM_QEMU_UNKNOWN_SECTION', build: () => mk(started(), (b) => b.u8(0)) },
  { name: 'stray section footer', code: 'MECOM_QEMU_UNKNOWN_SECTION', build: () => mk(started(), (b) => b.footer()) },
  {
    name: 'iterable section other than ram', code: 'MECOM_QEMU_UNKNOWN_SECTION',
    build: () => mk(new StreamBuilder().header().configuration(), (b) => b.sectionStart(3, 'dirty-bitmap', 0, 1)),
  },
  { name: 'second RAM START', code: 'MECOM_QEMU_UNKNOWN_SECTION', build: () => mk(started(), (b) => b.sectionStart()) },
  { name: 'PART of an unknown section', code: 'MECOM_QEMU_UNKNOWN_SECTION', build: () => mk(started(), (b) => b.sectionPart(7)) },
  { name: 'PART before RAM START', code: 'MECOM_QEMU_UNKNOWN_SECTION', build: () => mk(new StreamBuilder().header().configuration(), (b) => b.sectionPart(2)) },
  {
    name: 'RAM section version 3', code: 'MECOM_QEMU_UNSUPPORTED_SECTION',
    build: () => mk(new StreamBuilder().header().configuration(), (b) => b.sectionStart(2, 'ram', 0, 3)),
  },
  { name: 'SECTION_FULL before RAM END', code: 'MECOM_QEMU_UNSUPPORTED_SECTION', build: () => mk(started(), (b) => b.u8(4).be32(5).str8('timer')) },
  { name: 'command PING', code: 'MECOM_QEMU_UNKNOWN_COMMAND', build: () => mk(started(), (b) => b.command(2, [0, 0, 0, 1])) },
  { name: 'command OPEN_RETURN_PATH', code: 'MECOM_QEMU_UNKNOWN_COMMAND', build: () => mk(started(), (b) => b.command(1)) },
  { name: 'command 99', code: 'MECOM_QEMU_UNKNOWN_COMMAND', build: () => mk(started(), (b) => b.command(99)) },
  { name: 'SWITCHOVER_START with data', code: 'MECOM_QEMU_UNKNOWN_COMMAND', build: () => mk(started(), (b) => b.command(11, [1])) },
  ...[0x40, 0x80, 0x100, 0x200, 0x400, 0x800, 0x01].map((flag): Case => ({
    name: `RAM flag 0x${flag.toString(16)}`, code: 'MECOM_QEMU_UNKNOWN_FLAG',
    build: () => mk(started().sectionPart(), (b) => b.be64(0x1000 + flag + 0x08).str8('pc.ram')),
  })),
  { name: 'ZERO|PAGE combination', code: 'MECOM_QEMU_UNKNOWN_FLAG', build: () => mk(started().sectionPart(), (b) => b.be64(0x0a).str8('pc.ram')) },
  { name: 'no type flag (CONTINUE only)', code: 'MECOM_QEMU_UNKNOWN_FLAG', build: () => mk(started().sectionPart(), (b) => b.be64(0x20)) },
  { name: 'EOS with CONTINUE', code: 'MECOM_QEMU_UNKNOWN_FLAG', build: () => mk(started().sectionPart(), (b) => b.be64(0x30)) },
  { name: 'undeclared block', code: 'MECOM_QEMU_UNKNOWN_BLOCK', build: () => mk(started().sectionPart(), (b) => b.page(0, 1, 'vga.vram')) },
  { name: 'CONTINUE before any block', code: 'MECOM_QEMU_UNKNOWN_BLOCK', build: () => mk(started().sectionPart(), (b) => b.zero(0)) },
  {
    name: 'page offset at block end', code: 'MECOM_QEMU_BAD_OFFSET',
    build: () => mk(started().sectionPart(), (b) => b.page(BLOCKS[0][1], 1, 'pc.ram')),
  },
  {
    name: 'zero offset past second block (CONTINUE)', code: 'MECOM_QEMU_BAD_OFFSET',
    build: () => mk(started().sectionPart().zero(0, 'pc.bios'), (b) => b.zero(0x2000)),
  },
  {
    name: 'block list longer than MEM_SIZE total', code: 'MECOM_QEMU_BAD_BLOCK_LIST',
    build: () => mk(new StreamBuilder().header().configuration().sectionStart().be64(0x1000 + 4), (b) => b.str8('pc.ram').be64(0x2000)),
  },
  {
    name: 'block length not page aligned', code: 'MECOM_QEMU_BAD_BLOCK_LIST',
    build: () => mk(new StreamBuilder().header().configuration().sectionStart().be64(0x3000 + 4), (b) => b.str8('pc.ram').be64(0x1800)),
  },
  { name: 'MEM_SIZE in a PART', code: 'MECOM_QEMU_BAD_BLOCK_LIST', build: () => mk(started().sectionPart(), (b) => b.memSize(BLOCKS)) },
  { name: 'footer of another section', code: 'MECOM_QEMU_BAD_FOOTER', build: () => mk(started().sectionPart().eos(), (b) => b.footer(9)) },
  { name: 'ends after the header', code: 'MECOM_QEMU_TRUNCATED', build: () => [new StreamBuilder().header().build(), 8] },
  { name: 'ends inside a record header', code: 'MECOM_QEMU_TRUNCATED', build: () => mk(started().sectionPart(), (b) => b.be64(0x08).u8(6)) },
  {
    name: 'ends inside a page payload', code: 'MECOM_QEMU_TRUNCATED',
    build: () => { const b = started().sectionPart().record(0, 0x08, 'pc.ram'); const off = b.length; return [b.raw(new Uint8Array(100)).build(), off]; },
  },
  {
    name: 'ends after RAM END without EOF/VMDESCRIPTION', code: 'MECOM_QEMU_TRUNCATED',
    build: () => { const b = started().sectionEnd().eos().footer().u8(4).be32(3); return [b.build(), b.length]; },
  },
  {
    name: 'ends inside the VMDESCRIPTION', code: 'MECOM_QEMU_TRUNCATED',
    build: () => { const d = started().sectionEnd().eos().footer().tail().build(); return [d.subarray(0, d.length - 1), d.length - 1]; },
  },
];

function run(data: Uint8Array, chunk: number): unknown {
  const p = new QemuStreamParser(nullSink);
  try {
    for (let i = 0; i < data.length; i += chunk) p.push(data.subarray(i, i + chunk));
    p.end();
  } catch (e) {
    return e;
  }
  return undefined;
}

test('every rejection code has a case', () => {
  const codes: QemuStreamErrorCode[] = ['MECOM_QEMU_BAD_MAGIC', 'MECOM_QEMU_BAD_VERSION', 'MECOM_QEMU_BAD_CONFIGURATION',
    'MECOM_QEMU_UNKNOWN_SUBSECTION', 'MECOM_QEMU_UNKNOWN_SECTION', 'MECOM_QEMU_UNKNOWN_COMMAND', 'MECOM_QEMU_UNKNOWN_FLAG',
    'MECOM_QEMU_UNKNOWN_BLOCK', 'MECOM_QEMU_BAD_OFFSET', 'MECOM_QEMU_BAD_BLOCK_LIST', 'MECOM_QEMU_BAD_FOOTER',
    'MECOM_QEMU_UNSUPPORTED_SECTION', 'MECOM_QEMU_TRUNCATED'];
  for (const c of codes) assert.ok(CASES.some((k) => k.code === c), c);
});

for (const c of CASES) {
  test(`refuses: ${c.name} -> ${c.code}`, () => {
    const [data, offset] = c.build();
    for (const chunk of [data.length || 1, 1, 3]) {
      const err = run(data, chunk);
      assert.ok(err instanceof QemuStreamError, `chunk ${chunk}: got ${String(err)}`);
      assert.equal(err.code, c.code, `chunk ${chunk}: ${err.message}`);
      assert.equal(err.offset, offset, `chunk ${chunk}: ${err.message}`);
      assert.match(err.message, /stream offset \d+/);
    }
  });
}

test('recorded stream with an unknown flag bit flipped in its first RAM record', () => {
  const data = Buffer.from(fixture('default.bin.gz'));
  // First record of the first PART: 0x02 id(4), then the be64 (offset | ZERO or PAGE).
  const start = data.indexOf(Buffer.from([0x7e, 0, 0, 0, 1, 0x02, 0, 0, 0, 1])) + 10;
  assert.ok((data[start + 7] & 0x0a) !== 0);
  data[start + 6] |= 0x04; // 0x400: no such RAM_SAVE_FLAG
  const err = run(data, data.length);
  assert.ok(err instanceof QemuStreamError);
  assert.equal(err.code, 'MECOM_QEMU_UNKNOWN_FLAG');
  assert.equal(err.offset, start);
});

test('recorded stream truncated anywhere is refused at end()', () => {
  const data = fixture('default.bin.gz');
  for (const cut of [0, 3, 8, 20, 300, 4000, 100000, data.length - 100000, data.length - 1]) {
    const err = run(data.subarray(0, cut), 65536);
    assert.ok(err instanceof QemuStreamError, `cut ${cut}`);
    assert.equal(err.code, 'MECOM_QEMU_TRUNCATED');
  }
});
