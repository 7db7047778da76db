/** StreamDigest: the sender's one pass over QEMU's bytes, asked at frame boundaries. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { xxh64 } from '@node-rs/xxhash';
import { StreamDigest } from '../../../src/agent/stream-digest.js';
import { AgentCodes } from '../../../src/agent/errors.js';

test('StreamDigest: the digest at every boundary equals xxhash64 of the stream up to it, whatever the chunking and held bytes', () => {
  fc.assert(fc.property(
    fc.uint8Array({ minLength: 0, maxLength: 40_000 }),
    fc.array(fc.integer({ min: 1, max: 9000 }), { minLength: 1, maxLength: 40 }),
    fc.array(fc.integer({ min: 0, max: 4608 }), { minLength: 1, maxLength: 40 }),
    fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 40 }),
    (stream, sizes, helds, cutAt) => {
      const d = new StreamDigest();
      const read = new Uint8Array(9000); // the socket's reused read buffer
      let received = 0;
      let handed = 0;
      let lastCut = 0;
      let i = 0;
      const cut = (upTo: number) => {
        const c = lastCut + Math.floor(cutAt[i % cutAt.length] * (upTo - lastCut));
        assert.equal(d.at(c), xxh64(stream.subarray(0, c), 0n), `cut at ${c}`);
        lastCut = c;
      };
      while (received < stream.length) {
        const n = Math.min(sizes[i % sizes.length], stream.length - received);
        read.set(stream.subarray(received, received + n));
        const chunk = read.subarray(0, n);
        d.beginChunk(chunk);
        received += n;
        // The parser hands out all but a held tail (never less than before).
        handed = Math.max(handed, received === stream.length ? received : received - helds[i % helds.length]);
        cut(handed); // a batch cut inside the chunk
        d.endChunk(handed);
        lastCut = handed; // the open frame now ends at or past what was handed out
        read.fill(0xaa); // the next read overwrites the buffer
        if (i % 3 === 0) assert.equal(d.at(handed), xxh64(stream.subarray(0, handed), 0n), 'a timer flush between chunks');
        i++;
      }
      assert.equal(d.length, stream.length);
      assert.equal(d.final(), xxh64(stream, 0n));
    },
  ), { numRuns: 300 });
});

test('StreamDigest: refuses a boundary before one already given, past the bytes received, and a tail longer than a parser can hold', () => {
  const d = new StreamDigest();
  d.beginChunk(new Uint8Array(100));
  d.at(50);
  assert.throws(() => d.at(40), (e: unknown) => (e as { code?: string }).code === AgentCodes.internal);
  assert.throws(() => d.at(101), (e: unknown) => (e as { code?: string }).code === AgentCodes.internal);
  const big = new StreamDigest();
  big.beginChunk(new Uint8Array(20_000));
  assert.throws(() => big.endChunk(1000), (e: unknown) => (e as { code?: string }).code === AgentCodes.internal);
});
