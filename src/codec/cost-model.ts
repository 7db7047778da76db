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
  CODEC_CHOICES, GROUP_CHOICES, N_CHOICES, N_CLASSES, PAGE_CLASSES, planToRecord,
  type CodecChoice, type EncodeMeasure, type PageClass, type Plan,
} from './choices.js';
import { bestPlan, evaluatePlan, spareForTie, type Estimates, type PlanResult } from './plan.js';
import { DEFAULT_PRIOR_LINK_BPS, EstimateBook } from './estimates.js';
import { ProbeSchedule } from './probe-schedule.js';
import { ReceiverLoad } from './receiver-load.js';

export * from './choices.js';
export * from './plan.js';
export { DEFAULT_PRIOR_LINK_BPS } from './estimates.js';
export { PROBE_BUDGET } from './probe-schedule.js';

/** Group probe sample when the CPU is the limit (the frame encoder's default). */
export const PROBE_GROUP_PAGES_CPU_BOUND = 32;

/** Batches between re-plans when nothing but routine measurements arrived. */
const REPLAN_EVERY = 4;

/** Lowest CPU efficiency the model accepts from a measurement (see CostModel.setCpuBound). */
const EFFICIENCY_MIN = 0.2;

/** A new plan must beat the current one by this fraction (throughput or wire bytes) to replace it. */
const SWITCH_MARGIN = 0.03;

/** Fewest cores the model assumes the workers have (setCpuAvailable). */
const MIN_AVAILABLE_CPUS = 0.05;

/** The margin a plan of several codecs needs over the best one-codec plan (plan.ts, bestPlan). */
const MIXED_MARGIN = 0.2;

/** The margin a compressing plan needs to replace an all-raw plan. */
const LEAVE_RAW_MARGIN = 0.15;

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
  /**
   * The first `probeEvery` batches (default 32) probe at batches 0, 2, 4 and 8; later probes
   * come as often as their CPU budget allows, at most every min(probeEvery, 8) batches.
   */
  probeEvery?: number;
  /** Largest stretch of the probe interval by probes that leave the plan as it was (default 8; 1 = none). */
  maxProbeBackoff?: number;
  /** Restrict the choices (for fixed policies and tests); default all. */
  allowed?: readonly CodecChoice[];
}

export interface ModelSnapshot {
  linkMBps: number;
  /** QEMU's own rate when it is the limit, else null. */
  sourceMBps: number | null;
  threads: number;
  cpus: number;
  /** Cores the host had free for the workers at the last measurement (null before one). */
  availableCpus: number | null;
  /** Measured / predicted encode throughput when the workers are the limit (CostModel.setCpuBound). */
  cpuEfficiency: number;
  /** Predicted effective throughput of the current plan, MB/s of RAM. */
  predictedMBps: number;
  /** What limits the plan; 'receiver' while the receiver's load reports say it is saturated. */
  bound: 'cpu' | 'link' | 'source' | 'receiver';
  /** The receiver's last reported event-loop utilisation (0 before any STATUS). */
  receiverBusy: number;
  /** What is sent now. */
  choice: Record<PageClass, CodecChoice>;
  /** The model's own choice, when a trial overrides it (src/agent/plan-trial.ts). */
  modelChoice?: Record<PageClass, CodecChoice>;
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
  private readonly allowed: boolean[];
  private linkBps: number;
  private sourceBps = Infinity;
  /** Running estimates of every codec choice (src/codec/estimates.ts). */
  private readonly book: EstimateBook;
  private current: PlanResult;
  private readonly probes: ProbeSchedule;
  private sinceReplan = 0;
  /** A plan sent instead of the model's own (`override`). */
  private forced: Plan | null = null;
  /**
   * Measured / predicted encode throughput while the workers were the bottleneck. The encode
   * timings leave out what a batch costs around the codec (messages to and from the workers,
   * the producer's own thread on the same cores, the scheduler), so the CPU side of every plan
   * is scaled by it.
   */
  private efficiency = 1;
  /** Whether the link estimate was ever measured (a standing queue), not just guessed. */
  private linkWasMeasured = false;
  /** Whether the receiver's STATUS reports say it is the limit. */
  private readonly receiver = new ReceiverLoad();
  /** Cores free for the workers on this host (setCpuAvailable); the budget until measured. */
  private available = Infinity;
  /** Whether `optimisticPlan` (the whole CPU budget) sends everything raw: then no codec could pay. */
  private optimisticRaw = false;

  constructor(opts: CostModelOptions) {
    this.threads = Math.max(1, opts.threads);
    this.cpus = Math.max(0.05, Math.min(opts.cpus ?? this.threads, this.threads));
    this.alpha = opts.alpha ?? 0.3;
    this.probes = new ProbeSchedule({ probeEvery: opts.probeEvery, maxBackoff: opts.maxProbeBackoff, alpha: this.alpha });
    this.linkBps = opts.priorLinkBps ?? DEFAULT_PRIOR_LINK_BPS;
    const allowed = opts.allowed ?? CODEC_CHOICES;
    this.allowed = CODEC_CHOICES.map((c) => c === 'raw' || allowed.includes(c));
    this.book = new EstimateBook(this.alpha, this.allowed);
    this.current = this.recompute(undefined);
    this.optimisticRaw = isAllRaw(this.optimisticPlan());
  }

  /** True while the plan sends every page class raw (zero and fill pages aside). */
  get allRaw(): boolean {
    return isAllRaw(this.plan());
  }

  /** The plan for the next batch: the model's own, unless `override` set another. */
  plan(): Plan {
    return this.forced ?? this.current.plan;
  }

  /** The model's own choice from its estimates, whatever `override` says. */
  modelPlan(): Plan {
    return this.current.plan;
  }

  /**
   * The choice if the workers had their whole CPU budget (times the measured efficiency): the
   * host meter's estimate of free cores and the receiver's load set aside. Where this differs
   * from `modelPlan`, the choice rests on those two estimates, and a trial (src/agent/plan-trial.ts)
   * can settle it by measuring both plans.
   */
  optimisticPlan(): Plan {
    return bestPlan(this.book.est, this.linkBps, this.cpus * this.efficiency, 0.03, this.allowed, this.sourceBps, MIXED_MARGIN).plan;
  }

  /** Whether the link estimate was ever measured under a standing queue (not just guessed). */
  get linkMeasured(): boolean {
    return this.linkWasMeasured;
  }

  /** Send `plan` instead of the model's own choice until called with null. */
  override(plan: Plan | null): void {
    this.forced = plan ? [plan[0], plan[1], plan[2]] : null;
  }

  /** True if the next batch should also measure the alternatives on a sample (src/codec/probe-schedule.ts). */
  shouldProbe(): boolean {
    return this.probes.due(this.idleCores(), !this.optimisticRaw);
  }

  /**
   * Pages per class on which a probe measures the group choices. A group's ratio grows with its
   * window, so a small sample understates it and the model would never pick a group it has not
   * used; when the CPU is not the limit, probes measure groups over the whole batch.
   */
  probeGroupPages(): number {
    return this.idleCores() > 0.5 ? 4096 : PROBE_GROUP_PAGES_CPU_BOUND;
  }

  /**
   * Cores (at most 1) the current plan leaves idle, as far as anything measured says so: 0 while
   * the link is only a guess (the prior, or raised without a queue), since the slack then comes
   * from the guess, not from the link. In cores, not as a share of the budget: an all-raw plan
   * leaves all of its budget idle, and when the host meter says that budget is 0.2 of a core
   * (both QEMUs and the receiver on a 2-core host), half of it for probes was a tenth of the
   * sender's CPU at 10 Gbit/s, taken from what the migration shared the cores with
   * (docs/benchmarks.md "Session 10"). At most 1: the schedule's budget is a share of one core.
   */
  private idleCores(): number {
    if (!this.linkWasMeasured && !Number.isFinite(this.sourceBps)) return 0;
    return Math.min(1, (1 - this.current.cpuShare) * Math.min(this.cpus, this.available));
  }

  /** Count a batch handed to the encoder (call once per batch, after plan()/shouldProbe()). */
  noteSubmitted(probe: boolean): void {
    this.probes.noteSubmitted(probe);
  }

  /**
   * Set the link throughput (bytes per second) and re-plan. `measured` = false for a guess (the
   * link meter raising its estimate while no queue has ever formed).
   */
  setLink(bytesPerSecond: number, measured = true): void {
    if (!(bytesPerSecond > 0) || !Number.isFinite(bytesPerSecond)) return;
    this.linkBps = bytesPerSecond;
    this.linkWasMeasured = measured;
    this.replan();
  }

  /**
   * Set how fast the source (QEMU) produces the stream when nothing holds it back, bytes/s;
   * Infinity when unknown or when we are what holds it back. When the source is the limit, every
   * plan that keeps up is equally fast, and the one with the fewest wire bytes is chosen.
   */
  setSource(bytesPerSecond: number): void {
    if (!(bytesPerSecond > 0)) return;
    this.sourceBps = bytesPerSecond;
    this.replan();
  }

  get link(): number {
    return this.linkBps;
  }

  /** CPU budget (capped by what the host has free) times the measured efficiency: what the plans are evaluated with. */
  get effectiveCpus(): number {
    return Math.min(this.cpus, this.available) * this.efficiency;
  }

  /**
   * Cores the workers could have now (HostCpuMeter: the host's idle cores plus the larger of
   * the workers' own use and their fair share of the busy cores), then re-plan. Floored at MIN_AVAILABLE_CPUS, so an all-raw plan (which needs
   * almost no worker CPU) is still costed, and probes still show what compression would give
   * once cores free up.
   */
  setCpuAvailable(cores: number): void {
    if (!Number.isFinite(cores)) return;
    const next = Math.max(MIN_AVAILABLE_CPUS, cores);
    if (Math.abs(next - this.available) < 0.05 * this.cpus) return;
    this.available = next;
    this.replan();
  }

  /**
   * RAM bytes/s the current plan should encode at on the nominal CPU budget (no link limit).
   * The pool takes it at each submission, to compare with what the batch then cost.
   */
  nominalCpuRate(): number {
    // On the cores the host has free: the efficiency measured against it is then what the pool
    // loses beyond that (messages, scheduling), not the host's load a second time.
    return evaluatePlan(this.book.est, this.plan(), Infinity, Math.min(this.cpus, this.available), Infinity).bytesPerSecond;
  }

  /**
   * The pool's measurement over a stretch in which every worker was busy: the wall time the
   * nominal CPU budget should have needed for those batches (RAM bytes / nominalCpuRate at their
   * submission), and the wall time they took. Their ratio corrects the CPU budget (clamped to
   * [EFFICIENCY_MIN, 1.5]); then re-plan.
   */
  setCpuBound(predictedSeconds: number, actualSeconds: number): void {
    if (!(predictedSeconds > 0) || !(actualSeconds > 0)) return;
    const eff = Math.max(EFFICIENCY_MIN, Math.min(1.5, predictedSeconds / actualSeconds));
    this.efficiency = (1 - this.alpha) * this.efficiency + this.alpha * eff;
    this.replan();
  }

  /**
   * The receiver's load report (STATUS): its event loop's utilisation and the share of time the
   * destination QEMU held it back. A receiver that is saturated (or waits on its QEMU) drains
   * the socket at its own pace, and the link meter then reads that pace as the link's; the
   * model would compress for a "slow link" and spend CPU that, on a shared host, the receiver
   * needed. While the receiver is the limit the model plans as if neither link nor QEMU were
   * (the plan with the least CPU per byte wins: all raw, i.e. pass-through frames, the
   * receiver's cheapest too). Saturated from busy ≥ 0.65 or qemuWait ≥ 0.25, clear after
   * RECEIVER_LEAVE_REPORTS reports in a row below both.
   */
  setReceiverLoad(busy: number, qemuWait: number): void {
    if (this.receiver.report(busy, qemuWait)) this.replan();
  }

  /** Whether the receiver's load reports say it is the limit (see setReceiverLoad). */
  get receiverLimited(): boolean {
    return this.receiver.limited;
  }

  /** Fold one batch's measurements in and re-plan. */
  observe(m: EncodeMeasure): void {
    this.probes.noteTimings(m);
    this.book.fold(m);
    // Re-plan after a probe, and otherwise every REPLAN_EVERY batches: on a fast link batches
    // take ~1 ms and planning after each would cost the main thread a few percent.
    if (m.probeSeconds || ++this.sinceReplan >= REPLAN_EVERY) {
      this.sinceReplan = 0;
      if (!this.replan() && m.probeSeconds) this.probes.confirmed();
    }
  }

  /** Estimates (copy) and the current prediction, for tests and reports. */
  estimates(): Estimates {
    return { classFraction: [...this.book.est.classFraction], baseCost: this.book.est.baseCost, cheapBaseCost: this.book.est.cheapBaseCost, ratio: [...this.book.est.ratio], cost: [...this.book.est.cost], uniform: this.book.est.uniform?.map((u) => (u ? { ...u } : undefined)) };
  }

  snapshot(): ModelSnapshot {
    const measured: ModelSnapshot['measured'] = {};
    for (let c = 0; c < N_CLASSES; c++) {
      for (let k = 0; k < N_CHOICES; k++) {
        const j = c * N_CHOICES + k;
        if (!this.book.measured(j)) continue;
        measured[`${PAGE_CLASSES[c]}/${CODEC_CHOICES[k]}`] = {
          ratio: round(1 / Math.max(this.book.est.ratio[j], 1e-9), 2),
          MBps: round(1 / Math.max(this.book.est.cost[j], 1e-12) / 1e6, 0),
        };
      }
    }
    GROUP_CHOICES.forEach((k, g) => {
      const u = this.book.est.uniform?.[g];
      if (u) measured[`all/${CODEC_CHOICES[k]}`] = { ratio: round(1 / Math.max(u.ratio, 1e-9), 2), MBps: round(1 / Math.max(u.cost, 1e-12) / 1e6, 0) };
    });
    return {
      linkMBps: round(this.linkBps / 1e6, 1),
      sourceMBps: Number.isFinite(this.sourceBps) ? round(this.sourceBps / 1e6, 1) : null,
      threads: this.threads,
      cpus: this.cpus,
      availableCpus: Number.isFinite(this.available) ? round(this.available, 2) : null,
      cpuEfficiency: round(this.efficiency, 2),
      predictedMBps: round(this.current.bytesPerSecond / 1e6, 1),
      bound: this.receiver.limited ? 'receiver' : this.current.bound,
      receiverBusy: round(this.receiver.busy, 2),
      choice: planToRecord(this.plan()),
      ...(this.forced ? { modelChoice: planToRecord(this.current.plan) } : {}),
      measured,
      batches: this.probes.batches,
      probes: this.probes.probes,
    };
  }

  /** Re-plan from the current estimates; true if the plan changed (the probe backoff then restarts). */
  private replan(): boolean {
    // Only the learning schedule asks, and only until learning began (~16 us a plan search).
    if (!this.probes.learningBegun) this.optimisticRaw = isAllRaw(this.optimisticPlan());
    const before = this.current.plan;
    this.current = this.recompute();
    if (samePlan(before, this.current.plan)) return false;
    this.probes.restart();
    return true;
  }

  private recompute(cur: PlanResult | undefined = this.current): PlanResult {
    const cpus = this.effectiveCpus;
    // A saturated receiver, not the link or QEMU, sets the pace: plan for the least CPU per byte.
    const limited = this.receiver.limited;
    const link = limited ? Infinity : this.linkBps;
    const source = limited ? Infinity : this.sourceBps;
    const best = bestPlan(this.book.est, link, cpus, 0.02, this.allowed, source, MIXED_MARGIN);
    // Hysteresis: keep the current plan while it is about as good. The estimates move with every
    // batch, and near-equal plans would otherwise alternate; a switch between a group and
    // per-page codecs also splits or joins group windows, which the estimates see only later.
    if (cur === undefined || !cur.plan.every((k, c) => this.allowed[k] && (k === 0 || this.book.est.classFraction[c] > 0))) return best;
    const now = evaluatePlan(this.book.est, cur.plan, link, cpus, source);
    // A plan kept for its fewer wire bytes while QEMU sets the pace must still be one bestPlan
    // could pick for them: chosen on a slow link, zstd stayed on after the "link" turned out to
    // be QEMU's pace, on a host without a spare core (docs/benchmarks.md "Session 9").
    // So must one just below QEMU's pace, bound by the CPU, while the best plan keeps that pace.
    if ((now.bound === 'source' || best.bound === 'source') && !spareForTie(now, cpus) && best.cpuShare < now.cpuShare) return best;
    // Leaving all-raw costs more than the model sees: every page is then classified, and the
    // prediction rests on probe estimates rather than on the batches just sent.
    const margin = isAllRaw(cur.plan) && !isAllRaw(best.plan) ? LEAVE_RAW_MARGIN : SWITCH_MARGIN;
    return now.bytesPerSecond >= best.bytesPerSecond * (1 - margin) && now.wirePerByte <= best.wirePerByte * (1 + margin) ? now : best;
  }
}

function samePlan(a: Plan, b: Plan): boolean {
  return a.length === b.length && a.every((k, c) => k === b[c]);
}

function isAllRaw(plan: Plan): boolean {
  return plan.every((k) => k === 0);
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
