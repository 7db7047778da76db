/**
 * Benchmark corpora: whole 4 KiB pages of real memory, never synthetic.
 * A corpus is built from a list of sources (a file of pages, the memory of
 * freshly spawned real processes; a guest RAM dump can be added as another
 * source). Zero pages are kept: they are part of real memory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { PAGE_SIZE } from '../codec/ids.js';
import { UsageError } from '../errors.js';

export interface Corpus {
  name: string;
  pageCount: number;
  /** pageCount * 4096 bytes. */
  pages: Uint8Array;
}

export interface CorpusSource {
  name: string;
  /** Load at most maxPages whole pages. */
  load(maxPages: number): Promise<Uint8Array>;
}

/** Any file of whole 4 KiB pages (refuses other sizes with a UsageError). */
export function fileSource(path: string): CorpusSource {
  return {
    name: path,
    async load(maxPages: number): Promise<Uint8Array> {
      let size: number;
      try {
        size = statSync(path).size;
      } catch (err) {
        throw new UsageError(`cannot read corpus ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      if (size === 0 || size % PAGE_SIZE !== 0) throw new UsageError(`corpus ${path} is ${size} bytes, not a whole number of 4096-byte pages`);
      const data = readFileSync(path);
      const n = Math.min(size / PAGE_SIZE, maxPages);
      return new Uint8Array(data.buffer, data.byteOffset, n * PAGE_SIZE);
    },
  };
}

interface Mapping { start: number; end: number; perms: string; path: string }

/** Readable private mappings of a process worth sampling: heap, stacks, anonymous and data segments. */
export function readableMappings(pid: number | 'self'): Mapping[] {
  const out: Mapping[] = [];
  for (const line of readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (!m) continue;
    const [, s, e, perms, path] = m;
    if (perms[0] !== 'r' || perms[3] !== 'p') continue;
    if (path === '[vvar]' || path === '[vsyscall]' || path === '[vdso]' || path.startsWith('[vvar')) continue;
    // Writable private mappings (heap, stacks, anon, .data/.bss) and read-only anonymous ones.
    if (perms[1] !== 'w' && path !== '' && !path.startsWith('[')) continue;
    out.push({ start: parseInt(s, 16), end: parseInt(e, 16), perms, path });
  }
  return out;
}

/** Skip single mappings larger than this (huge reservations of untouched address space). */
export const MAX_MAPPING_BYTES = 256 * 1024 * 1024;

/**
 * Read whole pages of a process's readable mappings via /proc/PID/mem.
 * Unreadable ranges are skipped. If there are more than maxPages, pages are
 * taken at an even stride across all mappings.
 */
export function readProcessPages(pid: number | 'self', maxPages: number): Uint8Array {
  const maps = readableMappings(pid).filter((m) => m.end - m.start <= MAX_MAPPING_BYTES);
  const total = maps.reduce((a, m) => a + (m.end - m.start) / PAGE_SIZE, 0);
  const stride = Math.max(1, total / maxPages);
  const out = new Uint8Array(Math.min(total, maxPages) * PAGE_SIZE);
  let n = 0;
  let fd: number;
  try {
    fd = openSync(`/proc/${pid}/mem`, 'r');
  } catch {
    return out.subarray(0, 0);
  }
  try {
    let idx = 0;
    let nextPick = 0;
    for (const m of maps) {
      const pagesIn = (m.end - m.start) / PAGE_SIZE;
      for (let p = 0; p < pagesIn && n < maxPages; p++, idx++) {
        if (idx < nextPick) continue;
        nextPick += stride;
        try {
          const got = readSync(fd, out, n * PAGE_SIZE, PAGE_SIZE, m.start + p * PAGE_SIZE);
          if (got === PAGE_SIZE) n++;
        } catch {
          break; // unreadable mapping: skip the rest of it
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return out.subarray(0, n * PAGE_SIZE);
}

const NODE_WORKLOAD = `
const zlib = require('zlib'), crypto = require('crypto'), http = require('http'), url = require('url'), util = require('util');
const objs = [];
for (let i = 0; i < 60000; i++) objs.push({ id: i, name: 'user' + i, email: 'u' + i + '@example.org', score: Math.floor(Math.sqrt(i) * 100), tags: ['a', 'b' + (i % 7)] });
const m = new Map(); for (let i = 0; i < 40000; i++) m.set('k' + i, i * 3);
const text = util.inspect(objs.slice(0, 3000), { depth: 4 });
const z = zlib.deflateSync(Buffer.from(text));
const arr = new Float64Array(200000); for (let i = 0; i < arr.length; i++) arr[i] = i * 0.5;
const bufs = []; for (let i = 0; i < 64; i++) bufs.push(crypto.randomBytes(4096));
globalThis.keep = [objs, m, text, z, arr, bufs];
process.stdout.write('ready\\n');
process.stdin.resume();
`;

const PYTHON_WORKLOAD = `
import sys, json, collections, random, re, decimal
random.seed(1)
d = {('key%d' % i): [i, str(i) * 3, float(i) / 7] for i in range(60000)}
lst = [collections.OrderedDict(a=i, b='x' * (i % 50)) for i in range(20000)]
s = json.dumps(lst[:5000])
nums = list(range(200000))
words = re.findall(r'\\w+', s)
rnd = bytes(random.getrandbits(8) for _ in range(200000))
sys.stdout.write('ready\\n'); sys.stdout.flush()
sys.stdin.read()
`;

function waitReady(child: ChildProcess, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('workload did not become ready')), timeoutMs);
    child.once('error', (e) => { clearTimeout(t); reject(e); });
    child.once('exit', (code) => { clearTimeout(t); reject(new Error(`workload exited with ${code}`)); });
    child.stdout!.once('data', () => { clearTimeout(t); resolve(); });
  });
}

/** Memory of a spawned real process running `cmd args`, read once it prints a line. */
export function processSource(name: string, cmd: string, args: string[]): CorpusSource {
  return {
    name,
    async load(maxPages: number): Promise<Uint8Array> {
      const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'ignore'] });
      try {
        await waitReady(child, 30000);
        return readProcessPages(child.pid!, maxPages);
      } finally {
        child.stdin!.destroy();
        child.kill('SIGKILL');
      }
    },
  };
}

export const nodeProcessSource = (): CorpusSource => processSource('node-heap', process.execPath, ['-e', NODE_WORKLOAD]);
export const pythonProcessSource = (): CorpusSource => processSource('python-heap', 'python3', ['-c', PYTHON_WORKLOAD]);

/** Default pages per built-in process source. */
export const DEFAULT_PROCESS_PAGES = 16384;

/** The built-in corpus: a node process and a python3 process. */
export function builtinSources(): CorpusSource[] {
  return [nodeProcessSource(), pythonProcessSource()];
}

/** Load every source (each capped at maxPagesPerSource) and concatenate the pages. */
export async function loadCorpus(sources: CorpusSource[], maxPagesPerSource: number = DEFAULT_PROCESS_PAGES): Promise<Corpus> {
  const parts: Uint8Array[] = [];
  const names: string[] = [];
  for (const s of sources) {
    let p: Uint8Array;
    try {
      p = await s.load(maxPagesPerSource);
    } catch (err) {
      if (err instanceof UsageError) throw err;
      process.stderr.write(`mecom: corpus source ${s.name} skipped: ${(err as Error).message}\n`);
      continue;
    }
    if (p.length === 0) continue;
    parts.push(p);
    names.push(s.name);
  }
  const total = parts.reduce((a, p) => a + p.length, 0);
  const pages = new Uint8Array(total);
  let o = 0;
  for (const p of parts) { pages.set(p, o); o += p.length; }
  return { name: names.join('+') || 'empty', pageCount: total / PAGE_SIZE, pages };
}
