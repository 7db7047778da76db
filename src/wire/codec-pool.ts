/**
 * Parallel frame encoding and decoding on worker threads, frames kept in order.
 *
 *   const pool = new EncodePool({ policy: 'adaptive', threads: 2 });
 *   while (...) {
 *     if (pool.full) await pool.whenAvailable();       // back-pressure: a few batches in flight
 *     pool.submit(builder.take()).then((frame) => socket.write(frame));  // .then runs in order
 *   }
 *   await pool.drained(); await pool.close();
 *
 * `submit` transfers the batch's buffers to a worker (the batch is unusable afterwards; a
 * BatchBuilder hands out fresh buffers on every `take`). Pass `{ transfer: false }` to copy.
 * With policy `adaptive` the pool owns a CostModel (src/codec/cost-model.ts): each batch gets the
 * model's current plan, every `probeEvery`-th batch also measures the alternatives, and every
 * result feeds the model. Feed the link throughput with `pool.model.setLink(bytesPerSecond)`.
 *
 * DecodePool does the same for FrameDecoder: `submit(frame)` resolves, in order, with a span
 * that the caller owns (a fresh buffer per frame).
 */
import os from 'node:os';
import { batchBuffers, copyBatch, type Batch } from './batch.js';
import type { CodecPolicy } from './frame-encode.js';
import { OrderedPool, PoolCodes } from './worker-pool.js';
import type { MecomError } from '../errors.js';
import { FrameDecoder } from './frame-decode.js';
import type { ChainCheck } from './stream-chain.js';
import { ENTRY_CODEC, FRAME_HEADER_LENGTH, FRAME_MAX_PAGES, OFF_PAGE_COUNT, PAGE_ENTRY_LENGTH } from './frame-format.js';
import { CodecId } from '../codec/ids.js';
import { CostModel, type CodecChoice, type EncodeMeasure, type ModelSnapshot } from '../codec/cost-model.js';

const WORKER = new URL('./codec-worker.js', import.meta.url);

/** Saturated wall time summed before the pool reports its throughput to the model. */
const SAT_WINDOW_MS = 100;

const NO_BATCH: Batch = { pageCount: 0, pages: new Uint8Array(0), addrs: new Float64Array(0), glue: new Uint8Array(0), glueLength: 0, glueBefore: new Uint32Array(0) };

/**
 * Cores the workers can count on before anything is measured: the producer (the thread that
 * feeds the pool: parsing, framing, the socket) shares the host's cores with them, and at a fast
 * link it keeps about half a core busy. With as many workers as cores, a budget of `threads`
 * cores would promise the workers CPU that the producer takes (the pool's measured efficiency
 * corrects this only once every worker has been busy for a while).
 */
export const PRODUCER_CORES = 0.5;

function hostCores(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

function workerCores(threads: number): number {
  return Math.max(0.5, Math.min(threads, hostCores() - PRODUCER_CORES));
}

/** Default worker count: cores - 1, at least 1. */
export function defaultThreads(): number {
  return Math.max(1, hostCores() - 1);
}

export interface PoolCommonOptions {
  /** Worker threads (default cores - 1, at least 1). */
  threads?: number;
  /** Jobs in flight before `full` (default threads + 2). */
  maxInFlight?: number;
  /** CPU budget of the workers, percent of one core (default: unlimited). */
  maxCpuPercent?: number;
}

export interface EncodePoolOptions extends PoolCommonOptions {
  policy: CodecPolicy;
  zstdLevel?: number;
  /** Cost model for policy `adaptive` (default: on). false = classifier only. */
  model?: boolean;
  /** Link estimate before any measurement, bytes/s. */
  priorLinkBps?: number;
  /** Choices the model may use (default all). */
  allowed?: readonly CodecChoice[];
  probeEvery?: number;
  /**
   * Report encode timings as CPU time, not wall time (src/wire/thread-cpu.ts). For a model that
   * is also told the cores the workers can get (`setCpuAvailable`, as `mecom send` does): wall
   * time would count the host's contention a second time. Default false.
   */
  cpuTimeCosts?: boolean;
}

interface EncodeResult { frame: Uint8Array; batch: Batch; measure: EncodeMeasure | null; pagesByCodec: Record<string, number> }

/** A frame and the batch it was made from, handed back for reuse (BatchBuilder.recycle). */
export interface Encoded { frame: Uint8Array; batch: Batch }
/** How a producer sends a batch (EncodePool.nextRoute). */
export type BatchRoute = 'pass' | 'pass-probe' | 'pool';
interface DecodeResult {
  span: Uint8Array;
  pageCount: number;
  frameLength: number;
  /** A frame with a chained checksum, decoded with `deferChained`: the span is unverified until `verifyChained`. */
  chained?: ChainCheck;
}

/**
 * True if a well-formed frame's page table holds only RAW, ZERO and FILL pages (decoding it is a
 * copy). Reads the header and table only where they are in bounds; anything else is false and
 * goes to a worker, whose decoder checks every rule.
 */
function onlyCopies(frame: Uint8Array): boolean {
  if (frame.length < FRAME_HEADER_LENGTH) return false;
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const n = dv.getUint32(OFF_PAGE_COUNT, true);
  if (n > FRAME_MAX_PAGES || FRAME_HEADER_LENGTH + n * PAGE_ENTRY_LENGTH > frame.length) return false;
  for (let i = 0, e = FRAME_HEADER_LENGTH + ENTRY_CODEC; i < n; i++, e += PAGE_ENTRY_LENGTH) {
    const c = frame[e];
    if (c !== CodecId.Raw && c !== CodecId.Zero && c !== CodecId.Fill) return false;
  }
  return true;
}

/** A copy on a fresh ArrayBuffer (Buffer#slice would return a view, so copy explicitly). */
function copyBytes(a: Uint8Array): Uint8Array {
  const c = new Uint8Array(a.length);
  c.set(a);
  return c;
}


export class EncodePool {
  readonly policy: CodecPolicy;
  readonly threads: number;
  /** The cost model (policy adaptive with model on), else undefined. */
  readonly model?: CostModel;
  private readonly pool: OrderedPool<EncodeResult>;
  private readonly counts: Record<string, number> = {};
  frames = 0;
  /** Frames of those built by the producer as pass-through frames (`submitFrame`). */
  passThroughFrames = 0;
  bytesIn = 0;
  bytesOut = 0;
  /** Saturated stretches (every worker had a job): the seconds the model expected for the batches finished, and their wall time. */
  private satPredicted = 0;
  private satMs = 0;
  private lastDone = -1;
  private lastSaturated = false;

  constructor(opts: EncodePoolOptions) {
    this.policy = opts.policy;
    this.threads = opts.threads ?? defaultThreads();
    this.pool = new OrderedPool<EncodeResult>({
      script: WORKER, threads: this.threads, maxInFlight: opts.maxInFlight, maxCpuPercent: opts.maxCpuPercent,
      workerData: { kind: 'encode', policy: opts.policy, zstdLevel: opts.zstdLevel, cpuTimeCosts: opts.cpuTimeCosts === true }, name: 'encode',
    });
    if (opts.policy === 'adaptive' && opts.model !== false) {
      this.model = new CostModel({
        threads: this.threads,
        cpus: Math.min(opts.maxCpuPercent !== undefined ? opts.maxCpuPercent / 100 : this.threads, workerCores(this.threads)),
        priorLinkBps: opts.priorLinkBps,
        allowed: opts.allowed,
        probeEvery: opts.probeEvery,
      });
    }
  }

  get full(): boolean { return this.pool.full; }
  get inFlight(): number { return this.pool.inFlight; }
  get maxInFlight(): number { return this.pool.maxInFlight; }
  /** Seconds the workers spent encoding. */
  get cpuSeconds(): number { return this.pool.busySeconds; }
  whenAvailable(): Promise<void> { return this.pool.whenAvailable(); }
  drained(): Promise<void> { return this.pool.drained(); }
  close(): Promise<void> { return this.pool.close(); }
  /** Resolves once every worker has started and warmed up its encoder. */
  ready(): Promise<void> { return this.pool.ready(); }
  /** Fires when the pool stops being full. */
  onAvailable(fn: () => void): void { this.pool.on('available', fn); }

  /** Encode a batch; resolves with its frame, in submission order. */
  submit(batch: Batch, opts: { transfer?: boolean } = {}): Promise<Uint8Array> {
    return this.submitReturning(batch, opts).then((r) => r.frame);
  }

  /**
   * Like `submit`, and hands back the batch too (its buffers came back from the worker), so a
   * producer can reuse them. With `transfer: false` the returned batch is the pool's copy.
   */
  submitReturning(batch: Batch, opts: { transfer?: boolean } = {}): Promise<Encoded> {
    const b = opts.transfer === false ? copyBatch(batch) : batch;
    let plan: number[] | undefined;
    let probe = false;
    let probeGroupPages: number | undefined;
    if (this.model) {
      plan = this.model.plan();
      probe = this.model.shouldProbe();
      if (probe) probeGroupPages = this.model.probeGroupPages();
      this.model.noteSubmitted(probe);
    }
    const ram = batch.glueLength + batch.pageCount * 4096;
    this.bytesIn += ram;
    // Seconds the model expects this batch to take on its nominal CPU budget.
    const expected = this.model && !probe ? ram / this.model.nominalCpuRate() : 0;
    return this.pool.run({ batch: b, plan, probe, probeGroupPages }, batchBuffers(b)).then((r) => {
      this.noteDone(expected);
      this.frames++;
      this.bytesOut += r.frame.byteLength;
      for (const k of Object.keys(r.pagesByCodec)) this.counts[k] = (this.counts[k] ?? 0) + r.pagesByCodec[k];
      if (r.measure && this.model) this.model.observe(r.measure);
      return { frame: r.frame, batch: r.batch };
    });
  }

  /**
   * How the producer should send the next batch:
   * - 'pass': as a pass-through frame (a frame of glue only, src/wire/span-frame.ts) instead of
   *   submitting it: under policy `raw`, and when the cost model's plan sends every class raw;
   * - 'pass-probe': the same, and a copy of its pages goes to `submitAside` for a probe, when
   *   one is due and a worker is free. The probe then runs beside the stream: a batch probed on
   *   the workers held every pass-through frame behind it until it was done (~10 ms a batch at
   *   the start of a migration, a fifth of a half-second one at 10 Gbit/s);
   * - 'pool': to the workers (`submitReturning`), encoded per the plan.
   * A due probe with no worker free waits for a later batch. Call once per batch.
   */
  nextRoute(): BatchRoute {
    if (this.policy === 'raw') return 'pass';
    const m = this.model;
    if (!m || !m.allRaw) return 'pool';
    const probe = m.shouldProbe() && this.pool.canRunAside();
    m.noteSubmitted(probe);
    return probe ? 'pass-probe' : 'pass';
  }

  /**
   * Probe a copy of a batch sent as a pass-through frame (after nextRoute said 'pass-probe'): it
   * is encoded on a free worker under the model's plan with the probe on, only for the model's
   * measurements; no frame of it is sent or counted. Resolves with the batch (its buffers back)
   * or undefined if no worker was free after all; a pool closed meanwhile resolves undefined too.
   */
  submitAside(batch: Batch): Promise<Batch | undefined> {
    const m = this.model;
    if (!m) return Promise.resolve(undefined);
    const run = this.pool.runAside({ batch, plan: m.plan(), probe: true, probeGroupPages: m.probeGroupPages() }, batchBuffers(batch));
    if (!run) return Promise.resolve(undefined);
    return run.then(
      (r) => {
        if (r.measure) m.observe(r.measure);
        return r.batch;
      },
      (err: MecomError) => {
        if (err.code === PoolCodes.closed) return undefined;
        throw err;
      },
    );
  }

  /**
   * Queue a pass-through frame built on the caller's thread: it resolves in submission order
   * with the frames of `submitReturning` (so the socket sees the stream's order), counted as
   * `pages` raw pages.
   */
  submitFrame(frame: Uint8Array, pages: number, ramBytes: number): Promise<Uint8Array> {
    this.bytesIn += ramBytes;
    this.frames++;
    this.bytesOut += frame.byteLength;
    this.passThroughFrames++;
    if (pages > 0) this.counts.raw = (this.counts.raw ?? 0) + pages;
    // One `.then` after the pool's promise, as in submitReturning: the pool resolves jobs in
    // order in one go, and callbacks at equal depth then run in that order too.
    return this.pool.runHere(() => ({ frame, batch: NO_BATCH, measure: null, pagesByCodec: {} })).then((x) => x.frame);
  }

  pagesByCodec(): Record<string, number> {
    return { ...this.counts };
  }

  /**
   * A job finished. If every worker had a job both at the previous completion and now (jobs in
   * flight > threads), the workers were the bottleneck in between, and the job's expected
   * seconds are set against that wall time. Every SAT_WINDOW_MS of such time goes to the model.
   * Probe batches (expected 0) are left out: their cost is the probe budget's business.
   */
  private noteDone(expected: number): void {
    const now = performance.now();
    const saturated = this.pool.inFlight > this.threads;
    if (this.lastSaturated && saturated && expected > 0) {
      this.satPredicted += expected;
      this.satMs += now - this.lastDone;
      if (this.satMs >= SAT_WINDOW_MS) {
        this.model?.setCpuBound(this.satPredicted, this.satMs / 1000);
        this.satPredicted = 0;
        this.satMs = 0;
      }
    }
    this.lastSaturated = saturated;
    this.lastDone = now;
  }

  /** The model's current decision and estimates (undefined without a model). */
  modelSnapshot(): ModelSnapshot | undefined {
    return this.model?.snapshot();
  }
}

export interface DecodePoolOptions extends PoolCommonOptions {
  maxLength?: number;
}

export class DecodePool {
  readonly threads: number;
  private readonly pool: OrderedPool<DecodeResult>;
  private readonly maxLength?: number;
  /** Decoder for frames decoded on this thread (see `submit`). */
  private here?: FrameDecoder;

  constructor(opts: DecodePoolOptions = {}) {
    this.threads = opts.threads ?? defaultThreads();
    this.maxLength = opts.maxLength;
    this.pool = new OrderedPool<DecodeResult>({
      script: WORKER, threads: this.threads, maxInFlight: opts.maxInFlight, maxCpuPercent: opts.maxCpuPercent,
      workerData: { kind: 'decode', maxLength: opts.maxLength }, name: 'decode',
    });
  }

  get full(): boolean { return this.pool.full; }
  get inFlight(): number { return this.pool.inFlight; }
  get cpuSeconds(): number { return this.pool.busySeconds; }
  whenAvailable(): Promise<void> { return this.pool.whenAvailable(); }
  drained(): Promise<void> { return this.pool.drained(); }
  close(): Promise<void> { return this.pool.close(); }
  /** Resolves once every worker has started. */
  ready(): Promise<void> { return this.pool.ready(); }
  onAvailable(fn: () => void): void { this.pool.on('available', fn); }

  /**
   * Decode and verify a frame; resolves, in submission order, with the span (a buffer the caller
   * owns). Rejects with the decoder's WireError. The frame is copied unless `transfer` is set
   * (then its whole ArrayBuffer is moved to the worker). A frame of raw, zero and fill pages only
   * is decoded right here, before `submit` returns (the caller may reuse its bytes at once,
   * unless it set `owned`: then it promises never to modify the frame, and a frame of glue only
   * resolves with a view of it instead of a copy). `deferChained`: a frame with a chained
   * checksum resolves unverified, with its check in `chained` (FrameDecoder's DecodeOptions);
   * without it, such a frame is refused.
   */
  submit(frame: Uint8Array, opts: { transfer?: boolean; owned?: boolean; deferChained?: boolean } = {}): Promise<{ span: Uint8Array; pageCount: number; chained?: ChainCheck }> {
    if (onlyCopies(frame)) {
      // Raw, zero and fill pages only: decoding is a copy, cheaper here than the trip to a
      // worker (copy in, two messages, copy out). Settles in order with the workers' jobs.
      return this.pool.runHere(() => {
        const d = (this.here ??= new FrameDecoder({ maxLength: this.maxLength })).decode(frame, { deferChained: opts.deferChained });
        // A frame of glue only decodes to a view of itself: no copy if the caller gave it away.
        const own = opts.owned && d.span.buffer === frame.buffer;
        const r: DecodeResult = { span: own ? d.span : copyBytes(d.span), pageCount: d.pageCount, frameLength: d.frameLength };
        // The check's header must outlive the frame only as long as the frame itself: a view
        // when the caller owns the frame, else a copy.
        if (d.chained) r.chained = { header: own ? d.chained.header : copyBytes(d.chained.header), checksum: d.chained.checksum };
        return r;
      });
    }
    const f = opts.transfer ? frame : copyBytes(frame);
    return this.pool.run({ frame: f }, [f.buffer as ArrayBuffer]);
  }
}
