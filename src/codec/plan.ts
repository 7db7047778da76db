/**
 * Plan arithmetic of the cost model: how fast a plan (a codec choice per page class) moves RAM
 * under the current estimates, and the best plan. Pure functions; the model (cost-model.ts)
 * keeps the estimates and calls `bestPlan` when they change.
 */
import { GROUP_CHOICES, N_CHOICES, N_CLASSES, type Plan } from './choices.js';

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
  /** Share of the CPU budget the plan keeps busy at its throughput (1 when the CPU is the limit). */
  cpuShare: number;
}

/** Least share of wire bytes a slower plan within bestPlan's tolerance must save to be chosen. */
const MIN_WIRE_GAIN = 0.03;

/**
 * When QEMU (or the sender's own thread) is the limit, the most of the CPU budget a plan may
 * keep busy to be picked for its fewer wire bytes. The budget is the host's idle cores as
 * measured, and on a host where both QEMUs and both relays share the cores, idle is not
 * free: a codec that filled it slowed down what it shared the cores with (docs/benchmarks.md
 * "Session 8"). Half of it is spare enough.
 */
const SOURCE_TIE_CPU_SHARE = 0.5;

/**
 * ... but on a budget of less than a whole core (SOURCE_TIE_MIN_CORES, less the meter's noise),
 * at most this share. Idle time on a loaded host is gaps between QEMU's bursts: on this 2-core
 * host at 10 Gbit/s (both QEMUs, both agents, 0.4-0.9 cores measured idle) the plans that
 * compressed in such a tie, zstd at QEMU's 120-160 MB/s keeping half the budget busy or more,
 * slowed the migration they were meant to be free for, one by half (docs/benchmarks.md
 * "Session 9"). A cheap codec at a slow QEMU's pace (zstd at a capped 40 MB/s: a tenth of a
 * core) still fits in those gaps.
 */
const SOURCE_TIE_CONTENDED_SHARE = 0.25;
const SOURCE_TIE_MIN_CORES = 0.95;

/**
 * ... and on less than this much of a core, none: the tie goes to the least CPU (all raw). A
 * QEMU that paces the stream while the host has under ~half a core idle is, on the evidence,
 * starved rather than capped: on this 2-core host at 10 Gbit/s, the source QEMU's migration
 * thread spends most of its first round clearing transparent huge pages as it reads guest RAM
 * (a core's worth), its stream then arrives at 30-130 MB/s of mostly zero-page records, and the
 * model, told 0.1-0.55 of a core was idle, compressed a quarter-core's worth at that "pace".
 * Those runs' agents used twice the CPU of the all-raw ones and were the slowest (docs/
 * benchmarks.md "Session 11"). A QEMU capped at 40 MB/s on the same host leaves 0.7-1 core
 * idle in nine samples of ten, so its ties still compress.
 */
const SOURCE_TIE_MIN_SPARE_CORES = 0.6;

/** Page-table entry per page, charged to every choice. */
export const ENTRY_PER_BYTE = 16 / 4096;

/** Throughput and wire use of a plan under the estimates. */
export function evaluatePlan(est: Estimates, plan: Plan, linkBps: number, cpus: number, sourceBps = Infinity): PlanResult {
  const allRaw = plan[0] === 0 && plan[1] === 0 && plan[2] === 0;
  let cpu = allRaw && est.cheapBaseCost !== undefined ? est.cheapBaseCost : est.baseCost;
  let wire = ENTRY_PER_BYTE;
  const g = groupPlan(est, plan);
  const u = g === undefined ? undefined : est.uniform?.[GROUP_CHOICES.indexOf(g as 4 | 5)];
  if (u !== undefined) {
    // The whole-batch estimate, less the share of the classes the plan sends raw (their pages
    // are not in its block), each taken out at what it is known to cost and yield in the group.
    // A group plan with some classes raw is then costed from the same measurement as the group
    // of every class, and the two differ by those classes' own terms only: estimates of
    // different origin would drift apart, and the plan flap between them.
    let f = 0, inGroup = 0, groupCpu = 0, groupWire = 0;
    for (let c = 0; c < N_CLASSES; c++) {
      const fc = est.classFraction[c];
      if (!(fc > 0)) continue;
      f += fc;
      if (plan[c] !== 0) { inGroup += fc; continue; }
      const k = c * N_CHOICES + g!;
      groupCpu -= fc * est.cost[k];
      groupWire -= fc * est.ratio[k];
      cpu += fc * est.cost[c * N_CHOICES];
      wire += fc * est.ratio[c * N_CHOICES];
    }
    // Never below a quarter of the whole-batch rate for the pages left in the group.
    cpu += Math.max(0.25 * inGroup * u.cost, f * u.cost + groupCpu);
    wire += Math.max(0.25 * inGroup * u.ratio, f * u.ratio + groupWire);
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
  if (1 / t > sourceBps) return { plan, bytesPerSecond: sourceBps, wirePerByte: wire, bound: 'source', cpuShare: cpuTime * sourceBps };
  return { plan, bytesPerSecond: 1 / t, wirePerByte: wire, bound: cpuTime >= linkTime ? 'cpu' : 'link', cpuShare: cpuTime / t };
}

/**
 * The group choice when `plan` gives every class present either one group choice or raw (at
 * least one class the group): then the whole-batch estimate of that group applies. Else undefined.
 */
export function groupPlan(est: Estimates, plan: Plan): number | undefined {
  if (!est.uniform) return undefined;
  const k = singleCodec(est, plan);
  return GROUP_CHOICES.includes(k as 4 | 5) ? k : undefined;
}

/**
 * The one choice other than raw that `plan` gives the classes present: 0 if it sends them all
 * raw, -1 if it gives them two or more.
 */
function singleCodec(est: Estimates, plan: Plan): number {
  let k = 0;
  for (let c = 0; c < N_CLASSES; c++) {
    if (!(est.classFraction[c] > 0) || plan[c] === 0) continue;
    if (k === 0) k = plan[c];
    else if (plan[c] !== k) return -1;
  }
  return k;
}

/**
 * The plan with the highest effective throughput. Among plans within `tolerance` (fraction) of
 * the best, the one that puts the fewest bytes on the wire wins: when neither the link nor the
 * CPU is the limit, compression is free and a smaller stream is kinder to the network. When
 * QEMU is the limit, "free" means keeping at most SOURCE_TIE_CPU_SHARE of the CPU budget busy
 * (a quarter on less than a whole core, SOURCE_TIE_CONTENDED_SHARE, nothing on less than
 * SOURCE_TIE_MIN_SPARE_CORES); other such ties go to the fewest CPU seconds.
 *
 * `mixedMargin`: a plan that uses two or more codecs (raw aside) must beat the best plan with one
 * codec by this fraction to be chosen. A one-codec plan is measured whole on every batch it
 * runs, and whole-batch probes measure each group codec over a batch; a mixed plan's prediction
 * adds up per-class samples of a few pages and the shares of group blocks it splits by estimate,
 * and splitting a group into two smaller windows costs ratio that those sums do not see.
 */
export function bestPlan(est: Estimates, linkBps: number, cpus: number, tolerance = 0.03, allowed?: readonly boolean[], sourceBps = Infinity, mixedMargin = 0): PlanResult {
  // Two passes over the 6^3 plans: the best throughput, then the plan with the fewest wire bytes
  // within `tolerance` of it. Runs after every batch, so keep it cheap.
  const ok = (c: number, k: number) => (!allowed || allowed[k]) && (est.classFraction[c] > 0 || k === 0);
  let bestBps = -1;
  let bestSingle = -1;
  forEachPlan(ok, (plan) => {
    const r = evaluatePlan(est, plan, linkBps, cpus, sourceBps);
    if (r.bytesPerSecond > bestBps) bestBps = r.bytesPerSecond;
    if (r.bytesPerSecond > bestSingle && !isMixed(est, plan)) bestSingle = r.bytesPerSecond;
  });
  const mixedOk = bestBps > bestSingle * (1 + mixedMargin);
  const ref = mixedOk ? bestBps : bestSingle;
  // QEMU's pace sets the best throughput: every plan within the tolerance of it is part of that
  // tie, also one whose own limit is the CPU just below the pace. Such a plan takes every core it
  // has; on a host with a fifth of a core free it won the tie on wire bytes while QEMU scanned
  // zero pages (68 against 69 MB/s), and compressed for nothing (docs/benchmarks.md "Session 12").
  const tieAtSource = ref >= sourceBps;
  let fastest: PlanResult | undefined;
  let pick: PlanResult | undefined;
  /** Among the ties QEMU's pace makes, the one that keeps the CPU least busy. */
  let cheapest: PlanResult | undefined;
  forEachPlan(ok, (plan) => {
    if (!mixedOk && isMixed(est, plan)) return;
    const r = evaluatePlan(est, plan, linkBps, cpus, sourceBps);
    if (!fastest || r.bytesPerSecond > fastest.bytesPerSecond) fastest = { ...r, plan: [plan[0], plan[1], plan[2]] };
    if (r.bytesPerSecond < ref * (1 - tolerance)) return;
    if ((r.bound === 'source' || tieAtSource) && !spareForTie(r, cpus)) {
      if (!cheapest || r.cpuShare < cheapest.cpuShare) cheapest = { ...r, plan: [plan[0], plan[1], plan[2]] };
      return;
    }
    if (!pick || r.wirePerByte < pick.wirePerByte) pick = { ...r, plan: [plan[0], plan[1], plan[2]] };
  });
  const fallback = cheapest ?? fastest!;
  if (!pick) return fallback;
  // Fewer wire bytes are worth the tolerance only when they are markedly fewer: a codec that
  // takes 1% off incompressible pages is not worth the CPU it costs.
  return pick.wirePerByte <= fallback.wirePerByte * (1 - MIN_WIRE_GAIN) ? pick : fallback;
}

/** Whether a source-bound plan leaves the CPU spare enough to be picked for fewer wire bytes. */
export function spareForTie(r: PlanResult, cpus: number): boolean {
  if (cpus < SOURCE_TIE_MIN_SPARE_CORES) return false;
  return r.cpuShare <= (cpus >= SOURCE_TIE_MIN_CORES ? SOURCE_TIE_CPU_SHARE : SOURCE_TIE_CONTENDED_SHARE);
}

/** Whether `plan` gives the classes present two or more codecs other than raw. */
export function isMixed(est: Estimates, plan: Plan): boolean {
  return singleCodec(est, plan) < 0;
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
