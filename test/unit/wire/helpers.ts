import { randomBytes } from 'node:crypto';
import { BatchBuilder, type Batch } from '../../../src/wire/batch.js';
import { readProcessPages } from '../../../src/eval/corpus.js';

/** A batch of real pages of this process plus special pages, with random glue; returns the batch and its expected span. */
export function sampleBatch(pages = 24, seedGlue = true): { batch: Batch; span: Uint8Array } {
  const real = readProcessPages('self', pages);
  const b = new BatchBuilder(pages + 4);
  const parts: Uint8Array[] = [];
  const add = (p: Uint8Array, off: number, addr: number) => {
    const g = seedGlue ? randomBytes(addr % 17) : new Uint8Array(0);
    b.appendGlue(g, 0, g.length);
    parts.push(g);
    b.appendPage(p, off, addr);
    parts.push(p.subarray(off, off + 4096));
  };
  for (let off = 0, i = 0; off < real.length; off += 4096, i++) add(real, off, i * 4096);
  add(new Uint8Array(4096), 0, 1 << 20);
  add(randomBytes(4096), 0, (1 << 20) + 4096);
  // One 64-bit word repeated (a FILL page), not all one byte.
  const fill = new Uint8Array(4096);
  for (let i = 0; i < 4096; i++) fill[i] = (i % 8) * 17 + 1;
  add(fill, 0, (1 << 20) + 8192);
  const tail = new Uint8Array(300).fill(9);
  b.appendGlue(tail, 0, tail.length);
  parts.push(tail);
  return { batch: b.take(), span: Buffer.concat(parts) };
}
