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
}

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
  for (let c = 0; c < N_CLASSES; c++) {
    const f = est.classFraction[c];
    const k = c * N_CHOICES + plan[c];
    cpu += f * est.cost[k];
    wire += f * est.ratio[k];
  }
  const cpuTime = cpu / Math.max(cpus, 1e-6);
  const linkTime = wire / Math.max(linkBps, 1);
  const t = Math.max(cpuTime, linkTime, 1e-15);
  if (1 / t > sourceBps) return { plan, bytesPerSecond: sourceBps, wirePerByte: wire, bound: 'source' };
  return { plan, bytesPerSecond: 1 / t, wirePerByte: wire, bound: cpuTime >= linkTime ? 'cpu' : 'link' };
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
  [1 / 400e6, 0.4], // wkdm
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
    // Re-plan after a probe, and otherwise every REPLAN_EVERY batches: on a fast link batches
    // take ~1 ms and planning after each would cost the main thread a few percent.
    if (m.probeSeconds || ++this.sinceReplan >= REPLAN_EVERY) {
      this.sinceReplan = 0;
      this.current = this.recompute();
    }
  }

  /** Estimates (copy) and the current prediction, for tests and reports. */
  estimates(): Estimates {
    return { classFraction: [...this.est.classFraction], baseCost: this.est.baseCost, cheapBaseCost: this.est.cheapBaseCost, ratio: [...this.est.ratio], cost: [...this.est.cost] };
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

/**
 * Link meter: how fast the wire drains, from the bytes a sink has accepted and the bytes still
 * queued in front of it. An interval where data stayed queued throughout measures the link; an
 * interval where the queue ran empty only says the link is at least that fast, so the estimate
 * is raised to at most `growth` x what went through (and x `growth` of the old estimate per
 * window), so the model re-tries cheaper choices when the link is faster than it thought. Windows
 * in which nothing was sent are ignored.
 */
/**
 * Source meter: how fast QEMU produces the stream when we do not hold it back. A window in which
 * reading was paused for less than SOURCE_MAX_PAUSED of the time measures it (short pauses are
 * the socket's high-water mark, not a bottleneck); a window paused longer says QEMU could go
 * faster (the estimate becomes Infinity: unknown, we are the limit).
 */
/** Share of a window QEMU may be paused and still count as the limit. */
export const SOURCE_MAX_PAUSED = 0.2;

export class SourceMeter {
  private est = Infinity;
  private lastT = -1;
  private lastBytes = 0;
  private winBytes = 0;
  private winMs = 0;
  private pausedMs = 0;
  constructor(private readonly windowMs = 200, private readonly alpha = 0.4) {}

  get bytesPerSecond(): number {
    return this.est;
  }

  /** bytesRead: total stream bytes read so far; pausedMs: how long reading was paused since the last sample. */
  sample(nowMs: number, bytesRead: number, pausedMs: number): boolean {
    if (this.lastT < 0) { this.lastT = nowMs; this.lastBytes = bytesRead; return false; }
    const dt = nowMs - this.lastT;
    if (dt <= 0) return false;
    this.winBytes += bytesRead - this.lastBytes;
    this.winMs += dt;
    this.pausedMs += pausedMs;
    this.lastT = nowMs; this.lastBytes = bytesRead;
    if (this.winMs < this.windowMs) return false;
    const rate = (this.winBytes / this.winMs) * 1000;
    const before = this.est;
    if (this.pausedMs > SOURCE_MAX_PAUSED * this.winMs || rate === 0) this.est = Infinity;
    else this.est = Number.isFinite(this.est) ? (1 - this.alpha) * this.est + this.alpha * rate : rate;
    this.winBytes = 0; this.winMs = 0; this.pausedMs = 0;
    return this.est !== before;
  }
}

/** Ceiling of a guessed (never measured) link: 100 Gbit/s. */
export const MAX_LINK_BPS = 12.5e9;

/** Idle window before the link was ever measured: short, so a fast link is found quickly. */
const UNMEASURED_WINDOW_MS = 20;

/** Step by which a measured link estimate is raised when the link keeps up with it. */
const RAISE_MEASURED = 1.25;

export class LinkMeter {
  private est: number;
  private lastT = -1;
  private lastAcked = 0;
  private lastQueued = 0;
  private busyBytes = 0;
  private busyMs = 0;
  private idleBytes = 0;
  private idleMs = 0;
  measured = false;

  constructor(priorBps = DEFAULT_PRIOR_LINK_BPS, private readonly windowMs = 50, private readonly alpha = 0.4, private readonly growth = 8) {
    this.est = priorBps;
  }

  get bytesPerSecond(): number {
    return this.est;
  }

  /**
   * nowMs: a monotonic clock; acked: total bytes the link has taken so far; queued: bytes written
   * but not yet taken. Returns true when the estimate changed.
   */
  sample(nowMs: number, acked: number, queued: number): boolean {
    if (this.lastT < 0) {
      this.lastT = nowMs; this.lastAcked = acked; this.lastQueued = queued;
      return false;
    }
    const dt = nowMs - this.lastT;
    if (dt <= 0) return false;
    const db = acked - this.lastAcked;
    const busy = this.lastQueued > 0 && queued > 0;
    this.lastT = nowMs; this.lastAcked = acked; this.lastQueued = queued;
    if (busy) { this.busyBytes += db; this.busyMs += dt; } else { this.idleBytes += db; this.idleMs += dt; }
    let changed = false;
    if (this.busyMs >= this.windowMs) {
      const rate = (this.busyBytes / this.busyMs) * 1000;
      // A raised (guessed) estimate far above a real measurement is dropped, not averaged.
      this.est = this.measured && this.est < 2 * rate ? (1 - this.alpha) * this.est + this.alpha * rate : rate;
      this.measured = true;
      this.busyBytes = 0; this.busyMs = 0;
      this.idleBytes = 0; this.idleMs = 0;
      changed = true;
    } else if (this.idleMs >= (this.measured ? this.windowMs : UNMEASURED_WINDOW_MS) && this.idleBytes === 0) {
      // Nothing was sent: that says nothing about the link.
      this.idleMs = 0;
    } else if (this.idleMs >= (this.measured ? this.windowMs : UNMEASURED_WINDOW_MS)) {
      // The link kept up for a while: it is faster than what went through. Raise the estimate.
      const rate = (this.idleBytes / this.idleMs) * 1000;
      // Evidence-bound: the link carried `rate` without a queue, so trust up to growth x that.
      // Once the link has been measured under a queue, only a rate close to that measurement
      // (we were pushing as fast as we thought the link goes, and no queue formed) raises it,
      // and by a small step: otherwise a CPU-bound phase (little traffic, no queue) would
      // talk the model into a cheap codec, the queue would fill with large frames, and so on.
      const next = this.measured
        ? rate >= 0.8 * this.est ? Math.min(this.est * RAISE_MEASURED, MAX_LINK_BPS) : this.est
        : Math.min(this.est * this.growth, Math.max(this.est, rate * this.growth), MAX_LINK_BPS);
      if (next > this.est) { this.est = next; changed = true; }
      this.idleBytes = 0; this.idleMs = 0;
      this.busyBytes = 0; this.busyMs = 0;
    }
    return changed;
  }
}
