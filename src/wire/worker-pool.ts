/**
 * OrderedPool: a small worker_threads pool that runs jobs in parallel and settles their promises
 * in submission order, with a bound on jobs in flight and an optional CPU budget.
 *
 * - `run(job, transfer)` posts the job to an idle worker (or queues it) and returns a promise that
 *   settles only after every earlier job's promise has settled, so `.then` callbacks run in
 *   submission order even when workers finish out of order.
 * - `full` is true while `inFlight` (submitted, not yet settled) ≥ `maxInFlight`; producers stop
 *   and wait for `whenAvailable()` (or the 'available' event). Submitting past the bound is
 *   allowed (the job queues) but the bound is the producer's contract.
 * - A job that throws in the worker rejects its promise with the typed error rebuilt from the
 *   worker's (`code` kept; `MECOM_POOL_JOB` when it had none). A worker that dies (uncaught error,
 *   exit) fails the pool: every unsettled job rejects with `MECOM_POOL_WORKER_FAILED`, later
 *   `run` calls with `MECOM_POOL_CLOSED`. Nothing hangs.
 * - `maxCpuPercent` (percent of one core, summed over workers) rests a worker after each job for
 *   long enough that its busy share stays within the budget.
 *
 * Worker protocol: the worker gets `{ id, job }` and answers `{ id, ok: true, result, seconds }`
 * or `{ id, ok: false, error: { code, message, name, fields } }` (see codec-worker.ts).
 */
import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import { MecomError } from '../errors.js';
import { WireError, type WireCode } from './errors.js';

export const PoolCodes = {
  workerFailed: 'MECOM_POOL_WORKER_FAILED',
  job: 'MECOM_POOL_JOB',
  closed: 'MECOM_POOL_CLOSED',
} as const;

export class PoolError extends MecomError {
  constructor(code: (typeof PoolCodes)[keyof typeof PoolCodes], message: string, opts: { cause?: unknown } = {}) {
    super(code, message, opts);
  }
}

export interface SerializedError {
  code?: string;
  message: string;
  name?: string;
  fields?: { offset?: number; expected?: number | string; received?: number | string };
}

export function serializeError(err: unknown): SerializedError {
  const e = err as { code?: unknown; message?: unknown; name?: unknown; offset?: number; expected?: number | string; received?: number | string };
  return {
    code: typeof e?.code === 'string' ? e.code : undefined,
    message: typeof e?.message === 'string' ? e.message : String(err),
    name: typeof e?.name === 'string' ? e.name : undefined,
    fields: { offset: e?.offset, expected: e?.expected, received: e?.received },
  };
}

export function rebuildError(s: SerializedError, what: string): MecomError {
  if (s.code?.startsWith('MECOM_WIRE_')) return new WireError(s.code as WireCode, s.message, s.fields ?? {});
  if (s.code?.startsWith('MECOM_')) return new MecomError(s.code, s.message);
  return new PoolError(PoolCodes.job, `${what} job failed: ${s.message}`);
}

export interface OrderedPoolOptions {
  /** Worker script (a module URL or path), or source text with `eval: true`. */
  script: URL | string;
  eval?: boolean;
  threads: number;
  /** Jobs in flight before `full` (default threads + 2). */
  maxInFlight?: number;
  /** CPU budget of all workers together, percent of one core (default: no limit). */
  maxCpuPercent?: number;
  workerData?: unknown;
  /** For messages: "encode", "decode". */
  name: string;
}

interface Job<Res> {
  seq: number;
  /** Run aside (`runAside`): settles on its own, outside the submission order. */
  aside?: boolean;
  msg: unknown;
  transfer: ArrayBuffer[];
  done: boolean;
  ok: boolean;
  value?: Res;
  error?: MecomError;
  resolve: (v: Res) => void;
  reject: (e: MecomError) => void;
}

interface Slot {
  worker: Worker;
  job?: Job<unknown>;
  restUntil: number;
  timer?: NodeJS.Timeout;
  /** The worker said `{ ready: true }`. */
  ready?: boolean;
}

export class OrderedPool<Res> extends EventEmitter<{ available: []; idle: []; ready: []; fail: [MecomError] }> {
  readonly threads: number;
  readonly maxInFlight: number;
  private readonly dutyFraction: number;
  private readonly slots: Slot[] = [];
  private readonly queue: Job<unknown>[] = [];
  /** Unsettled jobs in submission order. */
  private readonly order: Job<unknown>[] = [];
  /** Unsettled jobs run aside. */
  private readonly asides = new Set<Job<unknown>>();
  private seq = 0;
  private failure?: MecomError;
  private closed = false;
  /** Worker-measured seconds spent in jobs, all workers. */
  busySeconds = 0;

  constructor(private readonly opts: OrderedPoolOptions) {
    super();
    if (!Number.isInteger(opts.threads) || opts.threads < 1) throw new RangeError(`threads must be a positive integer, got ${opts.threads}`);
    this.threads = opts.threads;
    this.maxInFlight = Math.max(1, opts.maxInFlight ?? opts.threads + 2);
    const cpu = opts.maxCpuPercent;
    this.dutyFraction = cpu === undefined ? 1 : Math.min(1, Math.max(0.01, cpu / 100 / opts.threads));
    for (let i = 0; i < opts.threads; i++) this.slots.push(this.spawn());
  }

  get inFlight(): number {
    return this.order.length;
  }
  get full(): boolean {
    return this.order.length >= this.maxInFlight;
  }

  /** Resolves when a job may be submitted without passing the bound (rejects if the pool failed). */
  whenAvailable(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (!this.full) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const cleanup = () => { this.off('available', onAvail); this.off('fail', onFail); };
      const onAvail = () => { if (!this.full) { cleanup(); resolve(); } };
      const onFail = (e: MecomError) => { cleanup(); reject(e); };
      this.on('available', onAvail);
      this.on('fail', onFail);
    });
  }

  /**
   * Resolves when every submitted job has settled and the callbacks chained to their promises
   * (however many `.then` hops) have run: it resolves from a macrotask (setImmediate) after the
   * pool went idle, so e.g. a sender's "END" can never overtake the write of its last frame.
   */
  drained(): Promise<void> {
    return new Promise((resolve) => {
      const later = () => setImmediate(resolve);
      if (this.order.length === 0) later();
      else this.once('idle', later);
    });
  }

  run(msg: unknown, transfer: ArrayBuffer[] = []): Promise<Res> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new PoolError(PoolCodes.closed, `${this.opts.name} pool is closed`));
    let resolve!: (v: Res) => void, reject!: (e: MecomError) => void;
    const p = new Promise<Res>((res, rej) => { resolve = res; reject = rej; });
    const job: Job<Res> = { seq: this.seq++, msg, transfer, done: false, ok: false, resolve, reject };
    this.order.push(job as Job<unknown>);
    this.queue.push(job as Job<unknown>);
    this.dispatch();
    return p;
  }

  /**
   * Run a job on a worker now, outside the submission order, if one is idle and nothing waits:
   * its promise settles when it is done, whatever the ordered jobs do, and it counts neither in
   * `inFlight` nor toward `full` or `drained`. For work whose result nobody waits on in order
   * (the cost model's probes, src/wire/codec-pool.ts `submitAside`). Returns undefined, doing
   * nothing, when no worker is free: such work is skipped rather than queued in front of the
   * stream's own jobs.
   */
  runAside(msg: unknown, transfer: ArrayBuffer[] = []): Promise<Res> | undefined {
    if (this.failure || this.closed || !this.canRunAside()) return undefined;
    let resolve!: (v: Res) => void, reject!: (e: MecomError) => void;
    const p = new Promise<Res>((res, rej) => { resolve = res; reject = rej; });
    const job: Job<Res> = { seq: this.seq++, aside: true, msg, transfer, done: false, ok: false, resolve, reject };
    this.asides.add(job as Job<unknown>);
    const slot = this.slots.find((sl) => this.isFree(sl))!;
    slot.job = job as Job<unknown>;
    slot.worker.ref();
    slot.worker.postMessage({ id: job.seq, job: job.msg }, job.transfer);
    return p;
  }

  /** Whether `runAside` would run a job now. */
  canRunAside(): boolean {
    return this.queue.length === 0 && this.slots.some((sl) => this.isFree(sl));
  }

  private isFree(slot: Slot): boolean {
    return slot.ready === true && !slot.job && !slot.timer && slot.restUntil <= performance.now();
  }

  /**
   * Run `compute` here, on the calling thread, now, and settle its promise in submission order
   * with the workers' jobs, as if it were one. For jobs cheaper than the trip to a worker (the
   * copy in, two messages, the copy out). A throw rejects the promise with it (MecomError kept,
   * anything else wrapped as MECOM_POOL_JOB).
   */
  runHere(compute: () => Res): Promise<Res> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new PoolError(PoolCodes.closed, `${this.opts.name} pool is closed`));
    let resolve!: (v: Res) => void, reject!: (e: MecomError) => void;
    const p = new Promise<Res>((res, rej) => { resolve = res; reject = rej; });
    const job: Job<Res> = { seq: this.seq++, msg: undefined, transfer: [], done: true, ok: true, resolve, reject };
    try {
      job.value = compute();
    } catch (err) {
      job.ok = false;
      job.error = err instanceof MecomError ? err : new PoolError(PoolCodes.job, `${this.opts.name} job failed: ${(err as Error)?.message ?? String(err)}`);
    }
    this.order.push(job as Job<unknown>);
    this.settleInOrder();
    return p;
  }

  /**
   * Resolves once every worker said it is ready (a `{ ready: true }` message after its start-up
   * work, such as the encoder warm-up), rejects if the pool fails first. A worker script that
   * never says so leaves it pending: use it only with workers that do (src/wire/codec-worker.ts).
   */
  ready(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.slots.every((s) => s.ready)) return Promise.resolve();
    // Workers are unref'd: keep the ones not ready yet referenced, or a caller with nothing
    // else pending would see its process exit while it waits.
    for (const s of this.slots) if (!s.ready) s.worker.ref();
    return new Promise((resolve, reject) => {
      const cleanup = () => { this.off('ready', onReady); this.off('fail', onFail); };
      const onReady = () => { cleanup(); resolve(); };
      const onFail = (e: MecomError) => { cleanup(); reject(e); };
      this.on('ready', onReady);
      this.on('fail', onFail);
    });
  }

  /** Stop the workers. Unsettled jobs reject with MECOM_POOL_CLOSED. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.failure) this.failAll(new PoolError(PoolCodes.closed, `${this.opts.name} pool closed`));
    await Promise.all(this.slots.map((s) => { if (s.timer) clearTimeout(s.timer); return s.worker.terminate(); }));
  }

  private spawn(): Slot {
    const worker = new Worker(this.opts.script, { eval: this.opts.eval, workerData: this.opts.workerData });
    const slot: Slot = { worker, restUntil: 0 };
    worker.on('message', (m: { id: number; ok: boolean; result?: unknown; seconds?: number; error?: SerializedError; ready?: boolean }) => this.onMessage(slot, m));
    worker.on('error', (err) => this.failAll(new PoolError(PoolCodes.workerFailed, `${this.opts.name} worker crashed: ${err.message}`, { cause: err })));
    worker.on('exit', (code) => {
      if (!this.closed) this.failAll(new PoolError(PoolCodes.workerFailed, `${this.opts.name} worker exited (code ${code})`));
    });
    worker.unref();
    return slot;
  }

  private dispatch(): void {
    if (this.failure) return;
    const now = performance.now();
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.job || slot.timer) continue;
      if (slot.restUntil > now) {
        slot.timer = setTimeout(() => { slot.timer = undefined; this.dispatch(); }, slot.restUntil - now);
        continue;
      }
      const job = this.queue.shift()!;
      slot.job = job;
      slot.worker.ref();
      slot.worker.postMessage({ id: job.seq, job: job.msg }, job.transfer);
    }
  }

  private onMessage(slot: Slot, m: { id: number; ok: boolean; result?: unknown; seconds?: number; error?: SerializedError; ready?: boolean }): void {
    if (m.ready) {
      if (!slot.ready) {
        slot.ready = true;
        if (!slot.job) slot.worker.unref(); // ready() held it (a job holds it while it runs)
        if (this.slots.every((s) => s.ready)) this.emit('ready');
      }
      return;
    }
    const job = slot.job;
    if (!job || job.seq !== m.id) return;
    slot.job = undefined;
    slot.worker.unref();
    const secs = m.seconds ?? 0;
    this.busySeconds += secs;
    if (this.dutyFraction < 1) slot.restUntil = performance.now() + secs * 1000 * (1 / this.dutyFraction - 1);
    job.done = true;
    job.ok = m.ok;
    if (m.ok) job.value = m.result;
    else job.error = rebuildError(m.error ?? { message: 'unknown error' }, this.opts.name);
    if (job.aside) {
      this.asides.delete(job);
      if (job.ok) job.resolve(job.value);
      else job.reject(job.error!);
    } else {
      this.settleInOrder();
    }
    this.dispatch();
  }

  private settleInOrder(): void {
    const wasFull = this.full;
    while (this.order.length > 0 && this.order[0].done) {
      const job = this.order.shift()!;
      if (job.ok) job.resolve(job.value);
      else job.reject(job.error!);
    }
    if (wasFull && !this.full) this.emit('available');
    if (this.order.length === 0) this.emit('idle');
  }

  private failAll(err: MecomError): void {
    if (this.failure) return;
    this.failure = err;
    for (const job of this.order) job.reject(err);
    this.order.length = 0;
    for (const job of this.asides) job.reject(err);
    this.asides.clear();
    this.queue.length = 0;
    this.emit('fail', err);
    this.emit('idle');
    if (!this.closed) {
      this.closed = true;
      for (const s of this.slots) { if (s.timer) clearTimeout(s.timer); void s.worker.terminate(); }
    }
  }
}
