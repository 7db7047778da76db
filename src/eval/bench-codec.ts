/**
 * Codec benchmark: every fixed codec and the adaptive policy over a corpus of
 * real memory pages, one core, per 4 KiB page. Ratio = corpus bytes / payload
 * bytes (per-page frame table entries are not counted, for any codec).
 */
import { deflateRawSync, inflateRawSync, constants as zc } from 'node:zlib';
import { CodecId, CODEC_NAMES, PAGE_SIZE, PAGE_WORDS } from '../codec/ids.js';
import { PageEncoder, type PagePolicy } from '../codec/page-encoder.js';
import { CodecRegistry } from '../codec/registry.js';
import { isZeroPage } from '../codec/zero.js';
import { WkdmCodec } from '../codec/wkdm.js';
import type { Corpus } from './corpus.js';

export interface CodecResult {
  name: string;
  ratio: number;
  encodeMBps: number;
  decodeMBps: number;
  pagesByCodec?: Record<string, number>;
}

export interface CodecBenchReport {
  corpus: { name: string; pages: number };
  codecs: CodecResult[];
  zeroPages: number;
  /** isZeroPage over the corpus's zero pages (full 4 KiB scans), GB/s. */
  zeroDetectGBps: number;
  /** WKdm alone over the corpus's non-zero pages. */
  wkdm: { encodeMBps: number; decodeMBps: number; ratio: number };
  repetitions: number;
  node: string;
}

const MB = 1e6;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

interface Encoded { ids: Uint8Array; lens: Uint32Array; data: Uint8Array; bytes: number }

interface Runner {
  name: string;
  encode(c: Corpus, e: Encoded): void;
  decode(e: Encoded, n: number, dst: Uint8Array): void;
  counts?: () => Record<string, number>;
}

function pageRunner(name: string, policy: PagePolicy, zstdLevel?: number): Runner {
  const pe = new PageEncoder({ policy, zstdLevel });
  const reg = new CodecRegistry({ zstdLevel });
  let counts = new Float64Array(CODEC_NAMES.length);
  return {
    name,
    encode(c, e) {
      counts = new Float64Array(CODEC_NAMES.length);
      let pos = 0;
      for (let i = 0; i < c.pageCount; i++) {
        pe.encode(c.pages, i * PAGE_SIZE);
        e.ids[i] = pe.id;
        e.lens[i] = pe.length;
        if (pe.length > 0) e.data.set(pe.length === pe.payload.length ? pe.payload : pe.payload.subarray(0, pe.length), pos);
        pos += pe.length;
        counts[pe.id]++;
      }
      e.bytes = pos;
    },
    decode(e, n, dst) {
      let pos = 0;
      for (let i = 0; i < n; i++) {
        reg.get(e.ids[i])!.decode(e.data, pos, e.lens[i], dst, 0);
        pos += e.lens[i];
      }
    },
    counts() {
      const r: Record<string, number> = {};
      counts.forEach((v, id) => { if (v > 0) r[CODEC_NAMES[id]] = v; });
      return r;
    },
  };
}

function deflateRunner(level: number): Runner {
  const raw = new CodecRegistry().get(CodecId.Raw)!;
  return {
    name: `deflate-${level}`,
    encode(c, e) {
      const buf = Buffer.from(c.pages.buffer, c.pages.byteOffset, c.pages.byteLength);
      let pos = 0;
      for (let i = 0; i < c.pageCount; i++) {
        const page = buf.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE);
        const r = deflateRawSync(page, { level, strategy: zc.Z_DEFAULT_STRATEGY });
        if (r.length < PAGE_SIZE) { e.ids[i] = 1; e.lens[i] = r.length; e.data.set(r, pos); pos += r.length; }
        else { e.ids[i] = 0; e.lens[i] = PAGE_SIZE; e.data.set(page, pos); pos += PAGE_SIZE; }
      }
      e.bytes = pos;
    },
    decode(e, n, dst) {
      const buf = Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength);
      let pos = 0;
      for (let i = 0; i < n; i++) {
        const len = e.lens[i];
        if (e.ids[i] === 1) dst.set(inflateRawSync(buf.subarray(pos, pos + len)), 0);
        else raw.decode(e.data, pos, len, dst, 0);
        pos += len;
      }
    },
  };
}

export interface BenchOptions {
  repetitions?: number;
  /** Verify every decoded page against the corpus on the first repetition. */
  verify?: boolean;
  onProgress?: (msg: string) => void;
}

export function benchCodecs(corpus: Corpus, opts: BenchOptions = {}): CodecBenchReport {
  const reps = opts.repetitions ?? 7;
  const n = corpus.pageCount;
  const bytes = n * PAGE_SIZE;
  const e: Encoded = { ids: new Uint8Array(n), lens: new Uint32Array(n), data: new Uint8Array(bytes), bytes: 0 };
  const dst = new Uint8Array(PAGE_SIZE);
  const runners: Runner[] = [
    pageRunner('raw', 'raw'),
    pageRunner('zero-only', 'zero'),
    pageRunner('wkdm', 'wkdm'),
    pageRunner('lz4', 'lz4'),
    pageRunner('zstd-1', 'zstd', 1),
    pageRunner('zstd-3', 'zstd', 3),
    deflateRunner(1),
    pageRunner('adaptive', 'adaptive'),
  ];
  // Repetitions are interleaved across codecs (every codec once per round), so a noisy spell on
  // this shared machine hits all codecs alike instead of sinking one codec's whole measurement.
  const enc = runners.map((): number[] => []);
  const dec = runners.map((): number[] => []);
  const encodedBytes = runners.map(() => 0);
  for (let k = 0; k < reps; k++) {
    opts.onProgress?.(`round ${k + 1}/${reps}`);
    runners.forEach((r, ri) => {
      let t = process.hrtime.bigint();
      r.encode(corpus, e);
      enc[ri].push(Number(process.hrtime.bigint() - t) / 1e9);
      encodedBytes[ri] = e.bytes;
      t = process.hrtime.bigint();
      r.decode(e, n, dst);
      dec[ri].push(Number(process.hrtime.bigint() - t) / 1e9);
      if (k === 0 && opts.verify) verify(r, e, corpus);
    });
  }
  const codecs: CodecResult[] = runners.map((r, ri) => {
    const res: CodecResult = { name: r.name, ratio: bytes / encodedBytes[ri], encodeMBps: bytes / MB / median(enc[ri]), decodeMBps: bytes / MB / median(dec[ri]) };
    if (r.name === 'adaptive' && r.counts) res.pagesByCodec = r.counts();
    return res;
  });
  return {
    corpus: { name: corpus.name, pages: n },
    codecs,
    ...zeroAndWkdm(corpus, reps),
    repetitions: reps,
    node: process.version,
  };
}

function verify(r: Runner, e: Encoded, c: Corpus): void {
  const full = new Uint8Array(PAGE_SIZE);
  const one: Encoded = { ids: new Uint8Array(1), lens: new Uint32Array(1), data: e.data, bytes: 0 };
  let pos = 0;
  for (let i = 0; i < c.pageCount; i++) {
    one.ids[0] = e.ids[i];
    one.lens[0] = e.lens[i];
    one.data = e.data.subarray(pos);
    r.decode(one, 1, full);
    pos += e.lens[i];
    const off = i * PAGE_SIZE;
    for (let j = 0; j < PAGE_SIZE; j++) {
      if (full[j] !== c.pages[off + j]) throw new Error(`${r.name}: page ${i} does not round-trip`);
    }
  }
}

function zeroAndWkdm(c: Corpus, reps: number): Pick<CodecBenchReport, 'zeroPages' | 'zeroDetectGBps' | 'wkdm'> {
  const words = new Uint32Array(c.pages.buffer, c.pages.byteOffset, c.pageCount * PAGE_WORDS);
  const zeroIdx: number[] = [];
  const nonZero: number[] = [];
  for (let i = 0; i < c.pageCount; i++) (isZeroPage(words, i * PAGE_WORDS) ? zeroIdx : nonZero).push(i * PAGE_WORDS);
  const zi = Int32Array.from(zeroIdx);
  const zt: number[] = [];
  let sink = 0;
  for (let k = 0; k < Math.max(reps, 5); k++) {
    const t = process.hrtime.bigint();
    for (let rep = 0; rep < 4; rep++) for (let i = 0; i < zi.length; i++) if (isZeroPage(words, zi[i])) sink++;
    zt.push(Number(process.hrtime.bigint() - t) / 1e9);
  }
  const zeroDetectGBps = zi.length === 0 ? 0 : (4 * zi.length * PAGE_SIZE) / 1e9 / median(zt);

  const wk = new WkdmCodec();
  const nz = Int32Array.from(nonZero);
  const outs = new Uint8Array(nz.length * PAGE_SIZE);
  const outLen = new Int32Array(nz.length);
  const back = new Uint8Array(PAGE_SIZE);
  const et: number[] = [];
  const dt: number[] = [];
  let outBytes = 0;
  for (let k = 0; k < reps; k++) {
    let t = process.hrtime.bigint();
    outBytes = 0;
    for (let i = 0; i < nz.length; i++) {
      const len = wk.encodeAt(c.pages, nz[i] * 4);
      outLen[i] = len;
      if (len > 0) { outs.set(wk.out.subarray(0, len), i * PAGE_SIZE); outBytes += len; } else outBytes += PAGE_SIZE;
    }
    et.push(Number(process.hrtime.bigint() - t) / 1e9);
    t = process.hrtime.bigint();
    let decBytes = 0;
    for (let i = 0; i < nz.length; i++) {
      if (outLen[i] < 0) continue;
      wk.decode(outs, i * PAGE_SIZE, outLen[i], back, 0);
      decBytes += PAGE_SIZE;
    }
    dt.push((Number(process.hrtime.bigint() - t) / 1e9) * (nz.length * PAGE_SIZE) / Math.max(1, decBytes));
  }
  if (sink < 0) console.log(sink);
  const nb = nz.length * PAGE_SIZE;
  return {
    zeroPages: zi.length,
    zeroDetectGBps,
    wkdm: { encodeMBps: nb / MB / median(et), decodeMBps: nb / MB / median(dt), ratio: nb / Math.max(1, outBytes) },
  };
}

/** A table for people: one row per codec. */
export function formatReport(r: CodecBenchReport): string {
  const lines: string[] = [];
  lines.push(`corpus ${r.corpus.name}: ${r.corpus.pages} pages (${r.zeroPages} zero), ${r.repetitions} repetitions, median, node ${r.node}, one core`);
  lines.push(`${'codec'.padEnd(10)} ${'ratio'.padStart(7)} ${'enc MB/s'.padStart(9)} ${'dec MB/s'.padStart(9)}  pages by codec`);
  for (const c of r.codecs) {
    const by = c.pagesByCodec ? Object.entries(c.pagesByCodec).map(([k, v]) => `${k}=${v}`).join(' ') : '';
    lines.push(`${c.name.padEnd(10)} ${c.ratio.toFixed(3).padStart(7)} ${c.encodeMBps.toFixed(0).padStart(9)} ${c.decodeMBps.toFixed(0).padStart(9)}  ${by}`);
  }
  lines.push(`zero detection: ${r.zeroDetectGBps.toFixed(2)} GB/s (full scans of zero pages)`);
  lines.push(`wkdm alone on non-zero pages: ratio ${r.wkdm.ratio.toFixed(3)}, encode ${r.wkdm.encodeMBps.toFixed(0)} MB/s, decode ${r.wkdm.decodeMBps.toFixed(0)} MB/s`);
  return lines.join('\n');
}
