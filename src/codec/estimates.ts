/**
 * The cost model's running estimates (src/codec/cost-model.ts): what each codec choice yields
 * and costs per page class, the class mix, the base cost of a batch, and the whole-batch group
 * estimates, folded in from the frame encoder's measurements (`EncodeMeasure`). Pure arithmetic,
 * no clocks; the model decides from these and owns everything else (probing, link, CPU).
 */
import {
  GROUP_CHOICES, GROUP_RECORD_WIDTH, N_CHOICES, N_CLASSES, UNIFORM_WIDTH, cellIndex, type EncodeMeasure,
} from './choices.js';
import type { Estimates } from './plan.js';

/** 100 Mbit/s. */
export const DEFAULT_PRIOR_LINK_BPS = 12.5e6;

/**
 * Weight of one batch in the page-class mix. Low: QEMU walks RAM in address order, so a run of
 * zero pages or of one heap comes in a few batches and says little about the pages to come; a
 * mix that follows every batch swings the plan (to all-raw after an all-zero stretch).
 */
const MIX_ALPHA = 0.05;

/** Wire bytes per RAM byte never estimated above this (a codec that does not shrink is stored raw). */
const MAX_RATIO_ESTIMATE = 1.01;

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

/**
 * The estimates and which cells were measured. `fold` takes every batch's measurement; the
 * model reads `est` when it plans.
 */
export class EstimateBook {
  readonly est: Estimates;
  private readonly measuredCell: boolean[];

  /** alpha: weight of a new sample; allowed: per choice, whether the model may use it. */
  constructor(private readonly alpha: number, private readonly allowed: readonly boolean[]) {
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
  }

  /** Whether cell j (class * N_CHOICES + choice) was ever measured. */
  measured(j: number): boolean {
    return this.measuredCell[j];
  }

  /** Fold one batch's measurements in. */
  fold(m: EncodeMeasure): void {
    const a = this.alpha;
    const e = this.est;
    if (m.pages > 0) {
      for (let c = 0; c < N_CLASSES; c++) e.classFraction[c] = (1 - MIX_ALPHA) * e.classFraction[c] + MIX_ALPHA * (m.classPages[c] / m.pages);
    } else if (m.cheap && m.otherPages !== undefined && m.allPages) {
      // Classes unknown, but the share of pages that are not zero/fill is: rescale to it.
      const sum = e.classFraction.reduce((x, y) => x + y, 0);
      const target = (1 - MIX_ALPHA) * sum + MIX_ALPHA * (m.otherPages / m.allPages);
      if (sum > 0) for (let c = 0; c < N_CLASSES; c++) e.classFraction[c] *= target / sum;
      else e.classFraction[1] = target;
    }
    if (m.bytesIn > 0 && m.baseSeconds >= 0) {
      const b = m.baseSeconds / m.bytesIn;
      // Like the codecs' costs (costStep): a preempted or cold batch moves the base only a
      // little. A plain average once took one slow first batch to 4 MB/s per core, and with
      // pass-through frames only probes reach the workers: too few samples to average that out,
      // and every compressing plan then looked CPU-bound at 1 Gbit/s.
      const w = sampleWeight(a, m.pages);
      const ema = (old: number | undefined, x: number) => (old === undefined || !(old > 0) ? x : x > 0 ? costStep(old, x, w) : old);
      if (m.cheap) e.cheapBaseCost = ema(e.cheapBaseCost, b);
      else {
        e.baseCost = ema(e.baseCost, b);
        // What an all-raw plan would have cost: the same work without the classifier's sampling.
        if (m.classifySeconds !== undefined) e.cheapBaseCost = ema(e.cheapBaseCost, Math.max(0, m.baseSeconds - m.classifySeconds) / m.bytesIn);
      }
    }
    const used = m.plan && !m.cheap ? m.plan.map((k, c) => e.ratio[c * N_CHOICES + k]) : undefined;
    for (let c = 0; c < N_CLASSES; c++) {
      for (let k = 0; k < N_CHOICES; k++) {
        const i = cellIndex(c, k);
        const pages = m.cells[i];
        if (pages <= 0) continue;
        const bytes = pages * 4096;
        this.updateCell(c * N_CHOICES + k, pages, m.cells[i + 1] / bytes, m.cells[i + 2] / bytes);
      }
    }
    // Group blocks: one call compressed pages of several classes, so only the block's total is
    // measured. Split it in proportion to what each member class is known to cost and yield
    // (probes compress each class alone), scaled so the parts add up to the block: a words page
    // then keeps its better ratio instead of sharing the noise pages' average.
    for (let o = 0; m.groups && o < m.groups.length; o += GROUP_RECORD_WIDTH) {
      const k = m.groups[o];
      let expBytes = 0, expSeconds = 0;
      for (let c = 0; c < N_CLASSES; c++) {
        const p = m.groups[o + 3 + c] * 4096;
        expBytes += p * e.ratio[c * N_CHOICES + k];
        expSeconds += p * e.cost[c * N_CHOICES + k];
      }
      if (!(expBytes > 0)) continue;
      const sb = m.groups[o + 1] / expBytes;
      const st = expSeconds > 0 ? m.groups[o + 2] / expSeconds : 1;
      for (let c = 0; c < N_CLASSES; c++) {
        const pages = m.groups[o + 3 + c];
        if (pages <= 0) continue;
        const j = c * N_CHOICES + k;
        this.updateCell(j, pages, sb * e.ratio[j], st * e.cost[j]);
      }
    }
    if (used) this.followDrift(m, m.plan!, used);
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
        const w = sampleWeight(a, pages);
        old.ratio = (1 - w) * old.ratio + w * ratio;
        if (cost > 0) old.cost = costStep(old.cost, cost, w);
      });
    }
  }

  /**
   * The pages change from batch to batch (another process's heap, a buffer of text), and every
   * codec compresses them better or worse alike. The choice in use is measured on every batch,
   * the others only when probed: compared as they are, a stale alternative would look better
   * whenever the current pages compress worse, and the plan would flap. So the ratio change of
   * each class's choice in use is applied to the class's alternatives that this batch did not
   * probe, and the pages-weighted mean change to the whole-batch group estimates not measured.
   */
  private followDrift(m: EncodeMeasure, plan: number[], before: number[]): void {
    const e = this.est;
    let logSum = 0, weight = 0;
    for (let c = 0; c < N_CLASSES; c++) {
      const k = plan[c];
      if (k === 0 || m.classPages[c] <= 0) continue;
      const f = e.ratio[c * N_CHOICES + k] / before[c];
      if (!(f > 0) || !Number.isFinite(f)) continue;
      for (let k2 = 1; k2 < N_CHOICES; k2++) {
        if (k2 === k || m.cells[cellIndex(c, k2)] > 0) continue;
        const j = c * N_CHOICES + k2;
        e.ratio[j] = Math.min(MAX_RATIO_ESTIMATE, e.ratio[j] * f);
      }
      logSum += m.classPages[c] * Math.log(f);
      weight += m.classPages[c];
    }
    if (weight === 0 || !e.uniform) return;
    const f = Math.exp(logSum / weight);
    GROUP_CHOICES.forEach((k, g) => {
      const u = e.uniform![g];
      if (!u || (m.uniform && m.uniform[g * UNIFORM_WIDTH] > 0)) return;
      u.ratio = Math.min(MAX_RATIO_ESTIMATE, u.ratio * f);
    });
  }

  /**
   * Fold a measurement of `pages` pages of one cell in. Weighed by sample size: a probe of 8
   * pages moves the estimate less than a batch of 200. Costs are averaged in log space and one
   * sample moves them by at most MAX_STEP: a thread preempted for 10 ms in a 0.1 ms measurement
   * must not make a codec look 100x slower for the rest of the migration.
   */
  private updateCell(j: number, pages: number, ratio: number, cost: number): void {
    const e = this.est;
    const first = !this.measuredCell[j];
    const w = first ? 1 : sampleWeight(this.alpha, pages);
    e.ratio[j] = (1 - w) * e.ratio[j] + w * ratio;
    if (cost > 0 && e.cost[j] > 0) {
      e.cost[j] = costStep(e.cost[j], cost, w);
    } else if (cost > 0) e.cost[j] = cost;
    this.measuredCell[j] = true;
  }

}

/**
 * Weight of a measurement of `pages` pages in a running estimate: alpha for a probe sample, up
 * to 2 x alpha (at most 0.6) for a whole batch. Not more: consecutive batches can hold very
 * different memory (one process's heap, then another's), and an estimate that follows every
 * batch makes near-equal plans alternate.
 */
function sampleWeight(alpha: number, pages: number): number {
  return Math.min(0.6, alpha * Math.max(1, pages / 128));
}

/**
 * A cost estimate moved towards a new sample: in log space, by at most MAX_STEP, and faster down
 * than up. The timings are wall time on shared cores: a sample can only be slowed by preemption,
 * never sped up, so a fast sample is believed at once and a slow one only a little. The estimate
 * then tracks what a codec costs when it runs; how much of the CPU the workers really get is
 * the pool's measured efficiency (setCpuBound), applied to every choice alike.
 */
function costStep(old: number, sample: number, w: number): number {
  const step = Math.max(-MAX_STEP, Math.min(MAX_STEP, Math.log(sample / old)));
  return old * Math.exp((step < 0 ? Math.min(1, 2 * w) : w / 3) * step);
}

