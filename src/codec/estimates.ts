/**
 * The cost model's running estimates (src/codec/cost-model.ts): what each codec choice yields
 * and costs per page class, the class mix, the base cost of a batch, and the whole-batch group
 * estimates, folded in from the frame encoder's measurements (`EncodeMeasure`). Pure arithmetic,
 * no clocks; the model decides from these and owns everything else (probing, link, CPU).
 */
import {
  GROUP_CHOICES, GROUP_RECORD_WIDTH, N_CHOICES, N_CLASSES, UNIFORM_WIDTH, cellIndex, type EncodeMeasure,
} from './choices.js';
import { ENTRY_PER_BYTE, evaluatePlan, groupPlan, type Estimates } from './plan.js';

/** 100 Mbit/s. */
export const DEFAULT_PRIOR_LINK_BPS = 12.5e6;

/**
 * Pages over which the page-class mix is averaged (a running mean over about this many pages;
 * a cumulative mean until then). Long: QEMU walks RAM in address order, so a run of zero pages
 * or of one heap comes in a few batches and says little about the pages to come; a mix that
 * follows the batches swings every plan's prediction by a quarter (the share of zero pages
 * alone moves that much from one stretch of RAM to the next) and the plan with it. Until
 * session 7 this was a weight of 0.05 per batch (about 5,000 pages).
 */
const MIX_PAGES = 16384;

/** Wire bytes per RAM byte never estimated above this (a codec that does not shrink is stored raw). */
const MAX_RATIO_ESTIMATE = 1.01;

/**
 * Pages of a class over which the ratio of the choice in use is averaged (a running mean over
 * about this many pages): a few passes of a 256-page batch stream's worth of one class, long
 * enough to see several heaps, short enough to follow a migration from one phase to the next.
 */
const STREAM_PAGES = 4096;

/** What one probe sample of a cell counts for, in pages, against the in-use pages that follow. */
const PROBE_SUPPORT_PAGES = 512;

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
  /** Pages behind each cell's estimate (in-use pages, plus PROBE_SUPPORT_PAGES per probe). */
  private readonly support: number[];
  private readonly uniformSupport: number[] = GROUP_CHOICES.map(() => 0);
  private mixPages = 0;

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
    this.support = new Array(N_CLASSES * N_CHOICES).fill(0);
  }

  /** Weight of a batch of `pages` pages in the class mix (see MIX_PAGES); counts them. */
  private mixWeight(pages: number): number {
    // The prior mix counts as a batch's worth of pages.
    if (this.mixPages === 0) this.mixPages = 256;
    const w = windowWeight(pages, this.mixPages, MIX_PAGES);
    this.mixPages += pages;
    return w;
  }

  /** Whether cell j (class * N_CHOICES + choice) was ever measured. */
  measured(j: number): boolean {
    return this.measuredCell[j];
  }

  /** Fold one batch's measurements in. */
  fold(m: EncodeMeasure): void {
    const a = this.alpha;
    const e = this.est;
    // The plan's wire bytes per classified RAM byte at stream level, before this batch moves any
    // estimate: what the whole-batch probes below are paired against.
    const plan = m.plan && !m.cheap ? m.plan : undefined;
    const streamWire = plan ? this.planWire(plan) : 0;
    if (m.pages > 0) {
      const w = this.mixWeight(m.pages);
      for (let c = 0; c < N_CLASSES; c++) e.classFraction[c] = (1 - w) * e.classFraction[c] + w * (m.classPages[c] / m.pages);
    } else if (m.cheap && m.otherPages !== undefined && m.allPages) {
      // Classes unknown, but the share of pages that are not zero/fill is: rescale to it.
      const sum = e.classFraction.reduce((x, y) => x + y, 0);
      const w = this.mixWeight(m.allPages);
      const target = (1 - w) * sum + w * (m.otherPages / m.allPages);
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
    // Stream level. The pages differ from batch to batch by a factor of 2-3 in how well they
    // compress (one heap, then another), far more than the codecs differ from each other on the
    // same pages. So the estimates are stream-level averages, and a probe, which sees one batch,
    // is read against the choice in use on that same batch: `level[c]` is how much better or worse
    // this batch's class-c pages compressed than that choice's estimate, and a probed ratio is
    // divided by it before it is folded in (paired measurement).
    const level = [1, 1, 1];
    // The same for time: zstd runs 3x faster on some heaps than on others.
    const costLevel = [1, 1, 1];
    let batchBytes = 0, batchPages = 0, batchSeconds = 0, expectedSeconds = 0;
    // Whether every estimate the plan's stream-level wire bytes rest on had been measured before
    // this batch (else the pairing would be against priors).
    let pairable = true;
    if (plan) {
      for (let c = 0; c < N_CLASSES; c++) {
        const k = plan[c];
        if (k >= 4) continue; // group blocks are below
        const i = cellIndex(c, k);
        const pages = m.cells[i];
        if (!(pages > 0)) continue;
        batchBytes += m.cells[i + 1];
        batchPages += pages;
        if (k === 0) continue; // raw: no level, nothing to learn
        const bytes = pages * 4096;
        const j = c * N_CHOICES + k;
        const r = m.cells[i + 1] / bytes;
        const t = m.cells[i + 2] / bytes;
        if (!this.measuredCell[j]) pairable = false;
        else {
          level[c] = r / e.ratio[j];
          if (t > 0 && e.cost[j] > 0) {
            costLevel[c] = clampLevel(t / e.cost[j]);
            batchSeconds += m.cells[i + 2];
            expectedSeconds += bytes * e.cost[j];
          }
        }
        this.updateInUse(j, pages, r, t);
      }
    }
    // Group blocks: one call compressed pages of several classes, so only the block's total is
    // measured. Split it in proportion to what each member class is known to cost and yield
    // (probes compress each class alone), scaled so the parts add up to the block: a words page
    // then keeps its better ratio instead of sharing the noise pages' average. The scale is the
    // block's level.
    for (let o = 0; m.groups && o < m.groups.length; o += GROUP_RECORD_WIDTH) {
      const k = m.groups[o];
      let expBytes = 0, expSeconds = 0, pagesIn = 0;
      for (let c = 0; c < N_CLASSES; c++) {
        const p = m.groups[o + 3 + c] * 4096;
        pagesIn += m.groups[o + 3 + c];
        expBytes += p * e.ratio[c * N_CHOICES + k];
        expSeconds += p * e.cost[c * N_CHOICES + k];
      }
      if (!(expBytes > 0)) continue;
      const sb = m.groups[o + 1] / expBytes;
      const st = expSeconds > 0 ? m.groups[o + 2] / expSeconds : 1;
      batchBytes += m.groups[o + 1];
      batchPages += pagesIn;
      if (expSeconds > 0 && m.groups[o + 2] > 0) {
        batchSeconds += m.groups[o + 2];
        expectedSeconds += expSeconds;
      }
      for (let c = 0; c < N_CLASSES; c++) {
        const pages = m.groups[o + 3 + c];
        if (pages <= 0) continue;
        const j = c * N_CHOICES + k;
        if (!this.measuredCell[j]) pairable = false;
        else {
          level[c] = sb;
          if (expSeconds > 0 && m.groups[o + 2] > 0) costLevel[c] = clampLevel(st);
        }
        this.updateInUse(j, pages, sb * e.ratio[j], st * e.cost[j]);
      }
      // A group plan (one block for every class not sent raw): the block is the whole-batch
      // group's own measurement, once the raw classes' pages are added back at what they are
      // known to cost and yield in the group (as evaluatePlan takes them out).
      const g = GROUP_CHOICES.indexOf(k as 4 | 5);
      if (plan && g >= 0 && e.uniform && pagesIn > 0 && groupPlan(e, plan) === k) {
        let bytes = m.groups[o + 1], seconds = m.groups[o + 2], pages = pagesIn;
        for (let c = 0; c < N_CLASSES; c++) {
          if (plan[c] !== 0 || !(m.classPages[c] > 0)) continue;
          const j = c * N_CHOICES + k;
          bytes += m.classPages[c] * 4096 * e.ratio[j];
          seconds += m.classPages[c] * 4096 * e.cost[j];
          pages += m.classPages[c];
        }
        this.updateUniformInUse(g, pages, bytes / (pages * 4096), seconds / (pages * 4096));
      }
    }
    // Whole-batch probes are paired with the plan in use over the same pages: the probe's gain
    // over it on this batch, applied to the plan's stream-level wire bytes. (A level per class
    // would not do: how many pages of each class a batch holds also moves its whole-batch ratio.)
    const pairUniform = plan !== undefined && pairable && batchPages > 0 && batchBytes > 0 && streamWire > 0;
    const batchCostLevel = expectedSeconds > 0 && batchSeconds > 0 ? clampLevel(batchSeconds / expectedSeconds) : 1;
    // Alternatives measured on this batch (a probe), or every cell when the batch had no plan.
    for (let c = 0; c < N_CLASSES; c++) {
      for (let k = 0; k < N_CHOICES; k++) {
        if (plan && k === plan[c]) continue;
        const i = cellIndex(c, k);
        const pages = m.cells[i];
        if (pages <= 0) continue;
        const bytes = pages * 4096;
        // Raw is 1 whatever the pages: nothing to pair.
        const paired = k === 0 ? m.cells[i + 1] / bytes : Math.min(MAX_RATIO_ESTIMATE, m.cells[i + 1] / bytes / level[c]);
        this.updateCell(c * N_CHOICES + k, pages, paired, m.cells[i + 2] / bytes / costLevel[c]);
      }
    }
    if (m.uniform) {
      GROUP_CHOICES.forEach((k, g) => {
        if (!this.allowed[k]) return;
        const o = g * UNIFORM_WIDTH;
        const pages = m.uniform![o];
        if (!(pages > 0)) return;
        const bytes = pages * 4096;
        const probed = m.uniform![o + 1] / bytes;
        const ratio = Math.min(MAX_RATIO_ESTIMATE, pairUniform ? (probed / (batchBytes / (batchPages * 4096))) * streamWire : probed);
        const cost = m.uniform![o + 2] / bytes / batchCostLevel;
        const old = e.uniform![g];
        if (old === undefined) { e.uniform![g] = { ratio, cost: Math.max(cost, 1e-12) }; this.uniformSupport[g] = PROBE_SUPPORT_PAGES; return; }
        const w = sampleWeight(a, pages);
        old.ratio = (1 - w) * old.ratio + w * ratio;
        if (cost > 0) old.cost = costStep(old.cost, cost, w);
        this.uniformSupport[g] += PROBE_SUPPORT_PAGES;
      });
    }
  }

  /**
   * Wire bytes per classified RAM byte of `plan` under the estimates (as plan.ts evaluates it):
   * the whole-batch estimate for a uniform group plan, else the class-weighted mean.
   */
  private planWire(plan: number[]): number {
    const e = this.est;
    const f = e.classFraction[0] + e.classFraction[1] + e.classFraction[2];
    if (!(f > 0)) return 0;
    return Math.max(0, evaluatePlan(e, plan, 1, 1).wirePerByte - ENTRY_PER_BYTE) / f;
  }

  /**
   * Fold the choice in use's own measurement of a batch in: its ratio as a stream-level running
   * mean over the last STREAM_PAGES pages of the class (a cumulative mean until then, counting a
   * probe as PROBE_SUPPORT_PAGES), its cost like any other sample.
   */
  private updateInUse(j: number, pages: number, ratio: number, cost: number): void {
    const e = this.est;
    if (!this.measuredCell[j]) {
      this.updateCell(j, pages, ratio, cost);
      this.support[j] = pages;
      return;
    }
    const w = windowWeight(pages, this.support[j], STREAM_PAGES);
    e.ratio[j] = (1 - w) * e.ratio[j] + w * ratio;
    if (cost > 0) e.cost[j] = e.cost[j] > 0 ? streamCostStep(e.cost[j], cost, w) : cost;
    this.support[j] += pages;
  }

  /** As updateInUse, for the whole-batch estimate of a uniform plan in use. */
  private updateUniformInUse(g: number, pages: number, ratio: number, cost: number): void {
    const u = this.est.uniform![g];
    if (u === undefined) {
      this.est.uniform![g] = { ratio, cost: Math.max(cost, 1e-12) };
      this.uniformSupport[g] = pages;
      return;
    }
    const w = windowWeight(pages, this.uniformSupport[g], STREAM_PAGES);
    u.ratio = (1 - w) * u.ratio + w * ratio;
    if (cost > 0) u.cost = streamCostStep(u.cost, cost, w);
    this.uniformSupport[g] += pages;
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
    this.support[j] += PROBE_SUPPORT_PAGES;
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
 * Weight of `pages` new pages in a running mean over about `window` pages that has `seen` pages
 * behind it: a cumulative mean until the window is full.
 */
function windowWeight(pages: number, seen: number, window: number): number {
  return pages / Math.min(window, seen + pages);
}

/** A batch's cost level, bounded: one preempted measurement must not rescale a probe 10x. */
function clampLevel(x: number): number {
  return Math.max(0.33, Math.min(3, x));
}

/**
 * The in-use choice's cost as a stream-level mean: in log space with weight `w` (the pages'
 * share of the stream window), each sample's step bounded by MAX_STEP as in costStep.
 */
function streamCostStep(old: number, sample: number, w: number): number {
  const step = Math.max(-MAX_STEP, Math.min(MAX_STEP, Math.log(sample / old)));
  return old * Math.exp(w * step);
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

