/**
 * Link/CPU cost model (issue 6): picks, per page class, the codec setting that maximises the
 * effective throughput of a migration, i.e. RAM bytes delivered per second:
 *
 *   time per RAM byte = max(cpu seconds per byte / cpus, wire bytes per RAM byte / link bytes/s)
 *
 * where the cpu and wire terms are sums over the page classes of the batch, weighted by how
 * often each class occurs. Everything here is pure arithmetic on measurements that the encoder
 * (src/wire/frame-encode.ts, `EncodeMeasure`) and the link meter feed in; no clocks are read, so
 * unit tests drive it with fixed numbers.
 *
 * Page classes come from the classifier (src/codec/classifier.ts): `words` (WKdm estimates a
 * good ratio), `text` (low byte entropy), `noise` (high entropy). Zero and fill pages are always
 * sent as ZERO/FILL (cheapest and smallest); they only dilute the other classes' costs.
 */
import {
  CODEC_CHOICES, GROUP_CHOICES, N_CHOICES, N_CLASSES, PAGE_CLASSES, UNIFORM_WIDTH, cellIndex, planToRecord,
  type CodecChoice, type EncodeMeasure, type PageClass, type Plan,
} from './choices.js';
import { bestPlan, type Estimates, type PlanResult } from './plan.js';

export * from './choices.js';
export * from './plan.js';

/** Group probe sample when the CPU is the limit (the frame encoder's default). */
export const PROBE_GROUP_PAGES_CPU_BOUND = 32;

/** Batches between re-plans when nothing but routine measurements arrived. */
const REPLAN_EVERY = 4;

/** Share of encode time that probing may take (after the first batches). */
export const PROBE_BUDGET = 0.03;

/** 100 Mbit/s. */
export const DEFAULT_PRIOR_LINK_BPS = 12.5e6;

/** Largest change of a cost estimate from one sample, natural log (x/÷ 1.65). */
const MAX_STEP = 0.5;

/**
 * Priors used until a cell has been measured: codec speeds and ratios from
 * /work/shared/docs/anchors.md (Node 20, one core, real process memory), conservative.
 * [seconds per byte, ratio] per choice.
 */
const PRIOR: ReadonlyArray<readonly [number, number]> = [
  [0.05e-9, 1], // raw: a copy
  [1 / 800e6, 0.4], // wkdm (the WebAssembly kernel; docs/benchmarks.md, "Codec benchmark")
  [1 / 450e6, 0.5], // lz4
  [1 / 300e6, 0.4], // zstd-1
  [1 / 450e6, 0.45], // lz4-group
  [1 / 300e6, 0.35], // zstd-group
];

export interface CostModelOptions {
  /** Encode threads (workers). */
  threads: number;
  /** CPU budget in cores (--max-cpu / 100); default = threads. */
  cpus?: number;
  /**
   * Link estimate before the first measurement, bytes/s (default DEFAULT_PRIOR_LINK_BPS). Low on
   * purpose: a guess that is too low costs CPU until the link meter raises it (x8 per 50 ms
   * without a queue), a guess that is too high fills the send buffer with weakly compressed
   * frames that then take the slow link a long time to drain.
   */
  priorLinkBps?: number;
  /** Weight of a new measurement in the running averages (default 0.3). */
  alpha?: number;
  /** Probe alternatives every this many batches (default 32; more often in the first batches). */
  probeEvery?: number;
  /** Restrict the choices (for fixed policies and tests); default all. */
  allowed?: readonly CodecChoice[];
}

export interface ModelSnapshot {
  linkMBps: number;
  /** QEMU's own rate when it is the limit, else null. */
  sourceMBps: number | null;
  threads: number;
  cpus: number;
  /** Predicted effective throughput of the current plan, MB/s of RAM. */
  predictedMBps: number;
  bound: 'cpu' | 'link' | 'source';
  choice: Record<PageClass, CodecChoice>;
  /** Measured ratio and MB/s per class and choice (measured cells only). */
  measured: Record<string, { ratio: number; MBps: number }>;
  batches: number;
  probes: number;
}

/** Running estimates + the current plan. Deterministic: no clocks, no I/O. */
export class CostModel {
  readonly threads: number;
  readonly cpus: number;
  private readonly alpha: number;
  private readonly probeEvery: number;
  private readonly allowed: boolean[];
  private linkBps: number;
  private sourceBps = Infinity;
  private readonly est: Estimates;
  private readonly measuredCell: boolean[];
  private current: PlanResult;
  private batches = 0;
  private probes = 0;
  private lastProbe = 0;
  private sinceReplan = 0;
  /** Running averages: seconds of a batch without probing, extra seconds of a probe. */
  private batchSeconds = 0;
  private probeCost = 0;

  constructor(opts: CostModelOptions) {
    this.threads = Math.max(1, opts.threads);
    this.cpus = Math.max(0.05, Math.min(opts.cpus ?? this.threads, this.threads));
    this.alpha = opts.alpha ?? 0.3;
    this.probeEvery = Math.max(1, opts.probeEvery ?? 32);
    this.linkBps = opts.priorLinkBps ?? DEFAULT_PRIOR_LINK_BPS;
    const allowed = opts.allowed ?? CODEC_CHOICES;
    this.allowed = CODEC_CHOICES.map((c) => c === 'raw' || allowed.includes(c));
    this.est = {
      classFraction: [0.3, 0.3, 0.1],
      baseCost: 0.5e-9,
      cheapBaseCost: 0.25e-9,
      ratio: new Array(N_CLASSES * N_CHOICES),
      cost: new Array(N_CLASSES * N_CHOICES),
      uniform: GROUP_CHOICES.map(() => undefined),
    };
    for (let c = 0; c < N_CLASSES; c++) {
      for (let k = 0; k < N_CHOICES; k++) {
        // Noise pages do not shrink: assume so until measured.
        this.est.cost[c * N_CHOICES + k] = PRIOR[k][0];
        this.est.ratio[c * N_CHOICES + k] = c === 2 && k > 0 ? 1 : PRIOR[k][1];
      }
    }
    this.measuredCell = new Array(N_CLASSES * N_CHOICES).fill(false);
    this.current = this.recompute();
  }

  /** The plan for the next batch. */
  plan(): Plan {
    return this.current.plan;
  }

  /**
   * True if the next batch should also measure the alternatives on a sample: batches 0, 2, 4
   * and 8 (learn fast), then every `probeEvery`-th.
   */
  shouldProbe(): boolean {
    const b = this.batches;
    if (b < this.probeEvery) return b === 0 || b === 2 || b === 4 || b === 8;
    // When the CPU is the limit, keep probing under PROBE_BUDGET of the encode time: when batches
    // are cheap (all raw on a fast link) a probe costs many batches' worth of CPU, so it comes
    // less often. When the link or QEMU is the limit the CPU has room: probe every probeEvery.
    let every = this.probeEvery;
    if (this.current.bound === 'cpu' && this.batchSeconds > 0) every = Math.max(every, Math.ceil(this.probeCost / (PROBE_BUDGET * this.batchSeconds)));
    return b - this.lastProbe >= every;
  }

  /**
   * Pages per class on which a probe measures the group choices. A group's ratio grows with its
   * window, so a small sample understates it and the model would never pick a group it has not
   * used; when the CPU is not the limit, probes measure groups over the whole batch.
   */
  probeGroupPages(): number {
    return this.current.bound === 'cpu' ? PROBE_GROUP_PAGES_CPU_BOUND : 4096;
  }

  /** Count a batch handed to the encoder (call once per batch, after plan()/shouldProbe()). */
  noteSubmitted(probe: boolean): void {
    if (probe) {
      this.probes++;
      this.lastProbe = this.batches;
    }
    this.batches++;
  }

  /** Set the measured link throughput (bytes per second) and re-plan. */
  setLink(bytesPerSecond: number): void {
    if (!(bytesPerSecond > 0) || !Number.isFinite(bytesPerSecond)) return;
    this.linkBps = bytesPerSecond;
    this.current = this.recompute();
  }

  /**
   * Set how fast the source (QEMU) produces the stream when nothing holds it back, bytes/s;
   * Infinity when unknown or when we are what holds it back. When the source is the limit, every
   * plan that keeps up is equally fast, and the one with the fewest wire bytes is chosen.
   */
  setSource(bytesPerSecond: number): void {
    if (!(bytesPerSecond > 0)) return;
    this.sourceBps = bytesPerSecond;
    this.current = this.recompute();
  }

  get link(): number {
    return this.linkBps;
  }

  /** Fold one batch's measurements in and re-plan. */
  observe(m: EncodeMeasure): void {
    const a = this.alpha;
    const e = this.est;
    const ps = m.probeSeconds ?? 0;
    if (ps > 0) this.probeCost = this.probeCost === 0 ? ps : (1 - a) * this.probeCost + a * ps;
    const bs = m.seconds - ps;
    if (bs > 0) this.batchSeconds = this.batchSeconds === 0 ? bs : (1 - a) * this.batchSeconds + a * bs;
    if (m.pages > 0) {
      for (let c = 0; c < N_CLASSES; c++) e.classFraction[c] = (1 - a) * e.classFraction[c] + a * (m.classPages[c] / m.pages);
    } else if (m.cheap && m.otherPages !== undefined && m.allPages) {
      // Classes unknown, but the share of pages that are not zero/fill is: rescale to it.
      const sum = e.classFraction.reduce((x, y) => x + y, 0);
      const target = (1 - a) * sum + a * (m.otherPages / m.allPages);
      if (sum > 0) for (let c = 0; c < N_CLASSES; c++) e.classFraction[c] *= target / sum;
      else e.classFraction[1] = target;
    }
    if (m.bytesIn > 0 && m.baseSeconds >= 0) {
      const b = m.baseSeconds / m.bytesIn;
      const ema = (old: number | undefined, x: number) => (old === undefined ? x : (1 - a) * old + a * x);
      if (m.cheap) e.cheapBaseCost = ema(e.cheapBaseCost, b);
      else {
        e.baseCost = ema(e.baseCost, b);
        // What an all-raw plan would have cost: the same work without the classifier's sampling.
        if (m.classifySeconds !== undefined) e.cheapBaseCost = ema(e.cheapBaseCost, Math.max(0, m.baseSeconds - m.classifySeconds) / m.bytesIn);
      }
    }
    for (let c = 0; c < N_CLASSES; c++) {
      for (let k = 0; k < N_CHOICES; k++) {
        const i = cellIndex(c, k);
        const pages = m.cells[i];
        if (pages <= 0) continue;
        const bytes = pages * 4096;
        const ratio = m.cells[i + 1] / bytes;
        const cost = m.cells[i + 2] / bytes;
        const j = c * N_CHOICES + k;
        // Weigh by sample size: a probe of 8 pages moves the estimate less than a batch of 200.
        // Costs are averaged in log space and one sample moves them by at most MAX_STEP: a
        // thread preempted for 10 ms in a 0.1 ms measurement must not make a codec look 100x
        // slower for the rest of the migration.
        const first = !this.measuredCell[j];
        const w = first ? 1 : Math.min(1, a * Math.max(1, pages / 64));
        e.ratio[j] = (1 - w) * e.ratio[j] + w * ratio;
        if (cost > 0 && e.cost[j] > 0) {
          const step = Math.max(-MAX_STEP, Math.min(MAX_STEP, Math.log(cost / e.cost[j])));
          e.cost[j] *= Math.exp(w * step);
        } else if (cost > 0) e.cost[j] = cost;
        this.measuredCell[j] = true;
      }
    }
    if (m.uniform) {
      GROUP_CHOICES.forEach((k, g) => {
        if (!this.allowed[k]) return;
        const o = g * UNIFORM_WIDTH;
        const pages = m.uniform![o];
        if (!(pages > 0)) return;
        const bytes = pages * 4096;
        const ratio = m.uniform![o + 1] / bytes;
        const cost = m.uniform![o + 2] / bytes;
        const old = e.uniform![g];
        if (old === undefined) { e.uniform![g] = { ratio, cost: Math.max(cost, 1e-12) }; return; }
        const w = Math.min(1, a * Math.max(1, pages / 64));
        old.ratio = (1 - w) * old.ratio + w * ratio;
        if (cost > 0) old.cost *= Math.exp(w * Math.max(-MAX_STEP, Math.min(MAX_STEP, Math.log(cost / old.cost))));
      });
    }
    // Re-plan after a probe, and otherwise every REPLAN_EVERY batches: on a fast link batches
    // take ~1 ms and planning after each would cost the main thread a few percent.
    if (m.probeSeconds || ++this.sinceReplan >= REPLAN_EVERY) {
      this.sinceReplan = 0;
      this.current = this.recompute();
    }
  }

  /** Estimates (copy) and the current prediction, for tests and reports. */
  estimates(): Estimates {
    return { classFraction: [...this.est.classFraction], baseCost: this.est.baseCost, cheapBaseCost: this.est.cheapBaseCost, ratio: [...this.est.ratio], cost: [...this.est.cost], uniform: this.est.uniform?.map((u) => (u ? { ...u } : undefined)) };
  }

  snapshot(): ModelSnapshot {
    const measured: ModelSnapshot['measured'] = {};
    for (let c = 0; c < N_CLASSES; c++) {
      for (let k = 0; k < N_CHOICES; k++) {
        const j = c * N_CHOICES + k;
        if (!this.measuredCell[j]) continue;
        measured[`${PAGE_CLASSES[c]}/${CODEC_CHOICES[k]}`] = {
          ratio: round(1 / Math.max(this.est.ratio[j], 1e-9), 2),
          MBps: round(1 / Math.max(this.est.cost[j], 1e-12) / 1e6, 0),
        };
      }
    }
    GROUP_CHOICES.forEach((k, g) => {
      const u = this.est.uniform?.[g];
      if (u) measured[`all/${CODEC_CHOICES[k]}`] = { ratio: round(1 / Math.max(u.ratio, 1e-9), 2), MBps: round(1 / Math.max(u.cost, 1e-12) / 1e6, 0) };
    });
    return {
      linkMBps: round(this.linkBps / 1e6, 1),
      sourceMBps: Number.isFinite(this.sourceBps) ? round(this.sourceBps / 1e6, 1) : null,
      threads: this.threads,
      cpus: this.cpus,
      predictedMBps: round(this.current.bytesPerSecond / 1e6, 1),
      bound: this.current.bound,
      choice: planToRecord(this.current.plan),
      measured,
      batches: this.batches,
      probes: this.probes,
    };
  }

  private recompute(): PlanResult {
    return bestPlan(this.est, this.linkBps, this.cpus, 0.03, this.allowed, this.sourceBps);
  }
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
