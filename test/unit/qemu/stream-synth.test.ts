/** The synthetic stream behind the sender's warm-up: the real parser takes all of it, every stage. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { synthStream } from '../../../src/qemu/stream-synth.js';
import { parseChunked } from './helpers.js';

test('synthStream: parses to the end with the pages, zero pages and sections it was asked for', () => {
  const data = synthStream({ sections: 3, recordsPerSection: 100, pageRun: 7, zeroRun: 3 });
  for (const size of [data.length, 65536, 4099, 333]) {
    const { parser, sink } = parseChunked(data, size); // end() throws unless the tail was complete
    assert.equal(sink.emitted, data.length, 'glue and pages rebuild the stream');
    // 70 pages and 30 zero pages per section, 16 pages in the END section.
    assert.equal(parser.stats.pages, 3 * 70 + 16);
    assert.equal(parser.stats.zeroPages, 3 * 30);
    assert.equal(parser.stats.ramSections, 1 + 3 + 1);
    assert.equal(parser.stats.commands, 1);
    assert.deepEqual(sink.boundaries.slice(-2), ['ram-end', 'eof']);
    assert.deepEqual(parser.stats.blocks.map((b) => [b.idstr, b.length]), [['pc.ram', 300 * 4096]]);
  }
});

test('synthStream: several blocks and mixed runs, as a live stream has them; the parser takes it whole', () => {
  const blocks = ['pc.ram', '0000:00:02.0/vga.vram', '/rom@etc/acpi/tables'];
  const data = synthStream({ sections: 4, recordsPerSection: 300, pageRun: 12, zeroRun: 40, blocks, blockEvery: 50, mixedRuns: true });
  for (const size of [data.length, 800 * 1024, 4099, 333]) {
    const { parser, sink } = parseChunked(data, size);
    assert.equal(sink.emitted, data.length, 'glue and pages rebuild the stream');
    assert.equal(parser.stats.pages + parser.stats.zeroPages, 4 * 300 + 16);
    assert.ok(parser.stats.pages > 16 && parser.stats.zeroPages > 0, 'both kinds of record');
    assert.deepEqual(parser.stats.blocks.map((b) => b.idstr), blocks);
  }
  // Mixed runs: lone pages between zero records, and runs longer than one.
  const one = synthStream({ sections: 1, recordsPerSection: 400, pageRun: 12, zeroRun: 40, mixedRuns: true });
  const { parser } = parseChunked(one, one.length);
  assert.ok(parser.stats.pages < 400 && parser.stats.zeroPages < 400);
});
