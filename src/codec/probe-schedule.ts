/**
 * When the cost model (src/codec/cost-model.ts) has a batch also measure the codecs it is not
 * using: a probe. Probes are how the estimates follow the pages and the link, and they cost CPU
 * taken from the encoding, so this schedule keeps them within a budget:
 *
 *   - learning: probes at the first batch where one could pay and 2, 4 and 8 batches later
 *     (batches 0, 2, 4, 8 unless the model says otherwise, see `due`'s `couldPay`); until then,
 *     and from batch `probeEvery` on, the budgeted interval below;
 *   - afterwards at most every min(probeEvery, MIN_PROBE_EVERY) batches, and no more often than
 *     keeps the probes' measured extra time within PROBE_BUDGET of the encode time (or within
 *     half of the core the plan leaves idle, when a measurement says more than half is idle);
 *   - backoff: a probe after learning that leaves the plan as it was doubles the interval, up to
 *     `maxBackoff`; any change of plan resets it to 1.
 *
 * Pure bookkeeping on counts and the encoder's timings: no clocks, no I/O.
 */
import type { EncodeMeasure } from './choices.js';

/** Fewest batches between probes after the first batches. */
const MIN_PROBE_EVERY = 8;
/**
 * Default cap of the backoff. While the pages and the link stay as they are, a probe buys nothing
 * and costs a batch's encoding several times over.
 */
export const MAX_PROBE_BACKOFF = 8;

/** Share of encode time that probing may take when the CPU is (nearly) the limit. */
export const PROBE_BUDGET = 0.02;

export interface ProbeScheduleOptions {
  /** Length of the learning phase in batches, and the longest interval before backoff (default 32). */
  probeEvery?: number;
  /** Largest stretch of the interval (default MAX_PROBE_BACKOFF; 1 = none). */
  maxBackoff?: number;
  /** Weight of a new timing in the running averages (default 0.3). */
  alpha?: number;
}

export class ProbeSchedule {
  readonly probeEvery: number;
  private readonly maxBackoff: number;
  private readonly alpha: number;
  /** Batches handed to the encoder, and the probes among them. */
  private submitted = 0;
  private probed = 0;
  private lastProbe = 0;
  /** The batch at which learning began (the first one that could pay), undefined before. */
  private learnFrom: number | undefined = undefined;
  private backoff = 1;
  /** Running averages: seconds of a batch without probing, extra seconds of a probe. */
  private batchSeconds = 0;
  private probeCost = 0;

  constructor(opts: ProbeScheduleOptions = {}) {
    this.probeEvery = Math.max(1, opts.probeEvery ?? 32);
    this.maxBackoff = Math.max(1, opts.maxBackoff ?? MAX_PROBE_BACKOFF);
    this.alpha = opts.alpha ?? 0.3;
  }

  get batches(): number { return this.submitted; }
  get probes(): number { return this.probed; }
  /** Current multiplier of the probe interval. */
  get stretch(): number { return this.backoff; }
  /** Whether learning began (see `due`). */
  get learningBegun(): boolean { return this.learnFrom !== undefined; }

  /**
   * Whether the next batch should probe. `idle`: the share of one core the plan leaves idle, as
   * far as a measurement says so (0 when the slack would only come from a guessed link).
   * `couldPay`: whether compression could pay at all as things stand (the model's plan with its
   * whole CPU budget compresses something). Until it could, learning waits: four probes in the
   * first batches of a migration on a link faster than any codec cost a 2-core host ~0.1 CPU-s
   * and taught the model nothing it used (docs/benchmarks.md "Session 12"); the budgeted
   * interval still runs, so estimates that start from priors are still measured.
   */
  due(idle: number, couldPay = true): boolean {
    const b = this.submitted;
    if (this.learnFrom === undefined && couldPay) this.learnFrom = b;
    if (this.learnFrom !== undefined) {
      const l = b - this.learnFrom;
      if (l < this.probeEvery) return l === 0 || l === 2 || l === 4 || l === 8;
    } else if (b < this.probeEvery) {
      return false;
    }
    // A link-bound plan can still keep the CPU nearly busy (raw at 10 Gbit/s): "link-bound"
    // alone does not make probes free. The predicted slack is trusted only when it is large:
    // the model does not see the pool's own per-batch costs, so a plan predicted at 80% CPU may
    // already keep the workers busy.
    const share = idle > 0.5 ? Math.max(PROBE_BUDGET, idle / 2) : PROBE_BUDGET;
    let every = this.probeEvery;
    if (this.batchSeconds > 0) every = Math.max(Math.min(this.probeEvery, MIN_PROBE_EVERY), Math.ceil(this.probeCost / (share * this.batchSeconds)));
    return b - this.lastProbe >= every * this.backoff;
  }

  /** Count a batch handed to the encoder (once per batch). */
  noteSubmitted(probe: boolean): void {
    if (probe) {
      this.probed++;
      this.lastProbe = this.submitted;
    }
    this.submitted++;
  }

  /** Fold a finished batch's timings into the running averages. */
  noteTimings(m: Pick<EncodeMeasure, 'seconds' | 'probeSeconds'>): void {
    const a = this.alpha;
    const ps = m.probeSeconds ?? 0;
    if (ps > 0) this.probeCost = this.probeCost === 0 ? ps : (1 - a) * this.probeCost + a * ps;
    const bs = m.seconds - ps;
    if (bs > 0) this.batchSeconds = this.batchSeconds === 0 ? bs : (1 - a) * this.batchSeconds + a * bs;
  }

  /** A probe's measurements were folded in and the plan stayed: stretch (not while learning). */
  confirmed(): void {
    const learning = this.learnFrom !== undefined && this.submitted - this.learnFrom <= this.probeEvery;
    if (!learning && this.submitted > this.probeEvery) this.backoff = Math.min(this.maxBackoff, this.backoff * 2);
  }

  /** The plan changed: probe at the base interval again. */
  restart(): void {
    this.backoff = 1;
  }
}
