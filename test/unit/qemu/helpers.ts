/** Test helpers: fixtures and a sink that checks the rebuilt stream against the input as it goes. */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { QemuStreamParser, type BoundaryKind, type StreamSink } from '../../../src/qemu/stream-parser.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** test/fixtures/qemu from dist/test/unit/qemu (compiled) or test/unit/qemu (source). */
export const FIXTURE_DIR = [path.resolve(here, '../../../../test/fixtures/qemu'), path.resolve(here, '../../fixtures/qemu')]
  .find((d) => fs.existsSync(d)) as string;

const cache = new Map<string, Buffer>();
export function fixture(name: string): Buffer {
  let b = cache.get(name);
  if (!b) {
    b = zlib.gunzipSync(fs.readFileSync(path.join(FIXTURE_DIR, name)));
    cache.set(name, b);
  }
  return b;
}

/** Compares every glue/page byte with the original, in order, without concatenating. */
export class CheckingSink implements StreamSink {
  emitted = 0;
  pages = 0;
  boundaries: BoundaryKind[] = [];
  /** Page addresses in order (for comparing chunkings). */
  addrs: number[] = [];
  /** Stream offsets where page payloads start. */
  pageOffsets: number[] = [];
  constructor(private readonly original: Uint8Array) {}
  private check(buf: Uint8Array, start: number, end: number): void {
    const want = this.original.subarray(this.emitted, this.emitted + (end - start));
    if (want.length !== end - start || Buffer.compare(Buffer.from(buf.buffer, buf.byteOffset + start, end - start), want) !== 0) {
      throw new Error(`rebuilt stream differs at or after offset ${this.emitted}`);
    }
    this.emitted += end - start;
  }
  glue(buf: Uint8Array, start: number, end: number): void {
    if (end <= start) throw new Error(`empty glue call at ${this.emitted}`);
    this.check(buf, start, end);
  }
  page(buf: Uint8Array, start: number, addr: number): void {
    this.pageOffsets.push(this.emitted);
    this.check(buf, start, start + 4096);
    this.pages++;
    this.addrs.push(addr);
  }
  boundary(kind: BoundaryKind): void {
    this.boundaries.push(kind);
  }
}

/** Parses `data` cut at the given offsets (ascending); returns parser and sink. */
export function parseSplit(data: Uint8Array, cuts: number[]): { parser: QemuStreamParser; sink: CheckingSink } {
  const sink = new CheckingSink(data);
  const parser = new QemuStreamParser(sink);
  let prev = 0;
  for (const c of [...cuts, data.length]) {
    if (c > prev) parser.push(data.subarray(prev, c));
    prev = Math.max(prev, c);
  }
  parser.end();
  return { parser, sink };
}

export function parseChunked(data: Uint8Array, size: number): { parser: QemuStreamParser; sink: CheckingSink } {
  const cuts: number[] = [];
  for (let i = size; i < data.length; i += size) cuts.push(i);
  return parseSplit(data, cuts);
}

/** Deterministic PRNG (mulberry32) so failures replay. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
