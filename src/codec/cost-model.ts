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

/** Page classes the model decides for; index = position. */
export const PAGE_CLASSES = ['words', 'text', 'noise'] as const;
export type PageClass = (typeof PAGE_CLASSES)[number];
export const N_CLASSES = PAGE_CLASSES.length;

/**
 * Codec settings. The `-group` settings compress all pages of a batch that chose them in one
 * call (frame format "Group blocks"), so the codec's window spans many pages.
 */
export const CODEC_CHOICES = ['raw', 'wkdm', 'lz4', 'zstd', 'lz4-group', 'zstd-group'] as const;
export type CodecChoice = (typeof CODEC_CHOICES)[number];
export const N_CHOICES = CODEC_CHOICES.length;

/** A decision: choice index (into CODEC_CHOICES) per class (index into PAGE_CLASSES). */
export type Plan = number[];

export function planToRecord(plan: Plan): Record<PageClass, CodecChoice> {
  const r = {} as Record<PageClass, CodecChoice>;
  PAGE_CLASSES.forEach((c, i) => (r[c] = CODEC_CHOICES[plan[i]]));
  return r;
}

export function planFromChoice(choice: CodecChoice): Plan {
  const k = CODEC_CHOICES.indexOf(choice);
  if (k < 0) throw new RangeError(`unknown codec choice ${choice}`);
  return PAGE_CLASSES.map(() => k);
}

/**
 * What one encoded batch measured. `cells` is a flat [class][choice] table of 3 numbers per cell
 * (pages, wire bytes, seconds), filled for the choice actually used and for probed alternatives.
 * Plain numbers only, so it crosses worker threads cheaply.
 */
export interface EncodeMeasure {
  pages: number;
  /** Pages of each class (zero/fill pages are the rest). */
  classPages: number[];
  /** Span bytes (glue + pages) of the batch. */
  bytesIn: number;
  /** Whole encode, seconds of one thread. */
  seconds: number;
  /** Seconds outside the page codecs (hash, classifier, frame assembly). */
  baseSeconds: number;
  /** True when the plan was all raw and pages were only checked for zero/fill (no classes known). */
  cheap?: boolean;
  /** Seconds spent measuring alternatives (probe batches only). */
  probeSeconds?: number;
  /** Cheap batches: pages that were neither zero nor fill, and all pages. */
  otherPages?: number;
  allPages?: number;
  /** Seconds spent classifying (sampling) pages, part of baseSeconds; not spent by an all-raw plan. */
  classifySeconds?: number;
  /** N_CLASSES * N_CHOICES * 3: pages, outBytes, seconds. */
  cells: number[];
  /**
   * Whole-batch group measurements (UNIFORM_WIDTH numbers per group choice, lz4-group then
   * zstd-group: pages, outBytes, seconds): every classified page of the batch compressed in one
   * call, as a plan that gives every class the same group choice does. Per-class cells cannot
   * show what such a group gains from pages of different classes sharing one window.
   */
  uniform?: number[];
}

export const UNIFORM_WIDTH = 3;
/** The group choices, in the order of `EncodeMeasure.uniform`. */
export const GROUP_CHOICES = [4, 5] as const; // lz4-group, zstd-group (indices into CODEC_CHOICES)

export const CELL_WIDTH = 3;
export function cellIndex(cls: number, choice: number): number {
  return (cls * N_CHOICES + choice) * CELL_WIDTH;
}
export function emptyCells(): number[] {
  return new Array(N_CLASSES * N_CHOICES * CELL_WIDTH).fill(0);
}

/** Current estimates: per cell ratio (wire/RAM bytes) and cpu seconds per RAM byte. */
export interface Estimates {
  /** Fraction of pages per class (the rest are zero/fill pages). */
  classFraction: number[];
  /** Base cpu seconds per RAM byte, spent on every page whatever the choice. */
  baseCost: number;
  /** Base cost when every class is raw: zero/fill detection only, no classifier (optional). */
  cheapBaseCost?: number;
  ratio: number[]; // [cls * N_CHOICES + choice], wire bytes per RAM byte (≤ 1 + table overhead)
  cost: number[]; // [cls * N_CHOICES + choice], seconds per RAM byte
  /**
   * Whole-batch groups, per GROUP_CHOICES entry: wire bytes and seconds per RAM byte of the
   * classified pages, or undefined until measured. Used for plans that give every class present
   * the same group choice.
   */
  uniform?: Array<{ ratio: number; cost: number } | undefined>;
}

export interface PlanResult {
  plan: Plan;
  /** Predicted RAM bytes per second. */
  bytesPerSecond: number;
  /** Predicted wire bytes per RAM byte. */
  wirePerByte: number;
  /** Which resource limits the plan ('source': QEMU sends slower than we could go). */
  bound: 'cpu' | 'link' | 'source';
}

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

/** Page-table entry per page, charged to every choice. */
const ENTRY_PER_BYTE = 16 / 4096;

/** Throughput and wire use of a plan under the estimates. */
export function evaluatePlan(est: Estimates, plan: Plan, linkBps: number, cpus: number, sourceBps = Infinity): PlanResult {
  const allRaw = plan[0] === 0 && plan[1] === 0 && plan[2] === 0;
  let cpu = allRaw && est.cheapBaseCost !== undefined ? est.cheapBaseCost : est.baseCost;
  let wire = ENTRY_PER_BYTE;
  const u = uniformGroup(est, plan);
  if (u !== undefined) {
    let f = 0;
    for (let c = 0; c < N_CLASSES; c++) f += est.classFraction[c];
    cpu += f * u.cost;
    wire += f * u.ratio;
  } else {
    for (let c = 0; c < N_CLASSES; c++) {
      const f = est.classFraction[c];
      const k = c * N_CHOICES + plan[c];
      cpu += f * est.cost[k];
      wire += f * est.ratio[k];
    }
  }
  const cpuTime = cpu / Math.max(cpus, 1e-6);
  const linkTime = wire / Math.max(linkBps, 1);
  const t = Math.max(cpuTime, linkTime, 1e-15);
  if (1 / t > sourceBps) return { plan, bytesPerSecond: sourceBps, wirePerByte: wire, bound: 'source' };
  return { plan, bytesPerSecond: 1 / t, wirePerByte: wire, bound: cpuTime >= linkTime ? 'cpu' : 'link' };
}

/**
 * The measured whole-batch estimate when `plan` gives every class present the same group choice
 * (every page of the batch in one group), else undefined.
 */
function uniformGroup(est: Estimates, plan: Plan): { ratio: number; cost: number } | undefined {
  if (!est.uniform) return undefined;
  let k = -1;
  for (let c = 0; c < N_CLASSES; c++) {
    if (est.classFraction[c] <= 0) continue;
    if (k === -1) k = plan[c];
    else if (plan[c] !== k) return undefined;
  }
  const g = GROUP_CHOICES.indexOf(k as 4 | 5);
  return g < 0 ? undefined : est.uniform[g];
}

/**
 * The plan with the highest effective throughput. Among plans within `tolerance` (fraction) of
 * the best, the one that puts the fewest bytes on the wire wins: when neither the link nor the
 * CPU is the limit, compression is free and a smaller stream is kinder to the network.
 */
export function bestPlan(est: Estimates, linkBps: number, cpus: number, tolerance = 0.03, allowed?: readonly boolean[], sourceBps = Infinity): PlanResult {
  // Two passes over the 6^3 plans: the best throughput, then the plan with the fewest wire bytes
  // within `tolerance` of it. Runs after every batch, so keep it cheap.
  const ok = (c: number, k: number) => (!allowed || allowed[k]) && (est.classFraction[c] > 0 || k === 0);
  let bestBps = -1;
  forEachPlan(ok, (plan) => {
    const r = evaluatePlan(est, plan, linkBps, cpus, sourceBps);
    if (r.bytesPerSecond > bestBps) bestBps = r.bytesPerSecond;
  });
  let pick: PlanResult | undefined;
  forEachPlan(ok, (plan) => {
    const r = evaluatePlan(est, plan, linkBps, cpus, sourceBps);
    if (r.bytesPerSecond >= bestBps * (1 - tolerance) && (!pick || r.wirePerByte < pick.wirePerByte)) pick = { ...r, plan: [plan[0], plan[1], plan[2]] };
  });
  return pick!;
}

/** Visits every plan whose choices `ok` allows, in one reused array (copy it to keep it). */
function forEachPlan(ok: (cls: number, choice: number) => boolean, visit: (plan: Plan) => void): void {
  const plan = [0, 0, 0];
  for (let a = 0; a < N_CHOICES; a++) {
    if (!ok(0, a)) continue;
    plan[0] = a;
    for (let b = 0; b < N_CHOICES; b++) {
      if (!ok(1, b)) continue;
      plan[1] = b;
      for (let c = 0; c < N_CHOICES; c++) {
        if (!ok(2, c)) continue;
        plan[2] = c;
        visit(plan);
      }
    }
  }
}

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
