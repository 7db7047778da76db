/**
 * PlanTrial: settles by measurement what the cost model can only estimate.
 *
 * The model's choice rests on how many cores the workers would get (HostCpuMeter) and on the
 * receiver's load. On a shared host both are guesses. In the session-5 matrix at 1 Gbit/s, the
 * model judged the host saturated and sent memwrite raw in 1993 ms, where the fixed lz4 mode
 * took 1319 ms. When the model's plan (M) and its plan with the whole CPU budget (O,
 * `CostModel.optimisticPlan`) differ, a trial sends each for one window and compares how fast
 * the stream moved. The stream moves at the pace of its bottleneck, whatever that is: link,
 * workers, QEMU, the receiver, or cores taken by others. The faster plan is then held, for
 * longer each time the same plan wins again.
 *
 * Off by default (`mecom send --trials`): measured live, the whole-CPU plan lost every trial at
 * 10 Gbit/s, and the trials' windows cost more than they won (docs/codec.md "Trials"). The
 * session-5 1 Gbit/s numbers above also came before the base-cost fix in estimates.ts. With
 * that fix the model compresses memwrite at 1 Gbit/s by itself: 142-168 MB on the link, against
 * 211 MB before.
 *
 * Deterministic: it reads no clock; `sample` gets the time and the stream's byte count.
 */
import type { Plan } from '../codec/choices.js';

export interface TrialModel {
  modelPlan(): Plan;
  optimisticPlan(): Plan;
  override(plan: Plan | null): void;
  /**
   * Whether the link was ever measured under a standing queue. Only then can a plan that sends
   * fewer bytes move the stream faster; otherwise QEMU or the CPU is the limit, and a trial
   * would only spend a window on the slower plan.
   */
  readonly linkMeasured: boolean;
}

export interface PlanTrialOptions {
  /** Length of each arm's window, ms (default 120). */
  windowMs?: number;
  /** Start of a window not measured, while the queues settle on the new plan, ms (default 40). */
  settleMs?: number;
  /** O must move the stream this much faster than M to be held (default 0.08). */
  margin?: number;
  /** First hold after a decision, ms; doubles while the same plan keeps winning (default 250). */
  holdMs?: number;
  maxHoldMs?: number;
  /** Fewest stream bytes an arm's window must see, or the trial is void (default 1 MB). */
  minBytes?: number;
  /** No trial before this long after the first sample, ms: the model's first probes (default 60). */
  startAfterMs?: number;
}

const enum State {
  Waiting,
  /** Measuring the model's plan, then the optimistic one. */
  ArmM,
  ArmO,
}

export interface TrialRecord {
  /** Trials decided (void ones not counted), and how many O won. */
  trials: number;
  optimisticWins: number;
  /** The last decided trial's rates, MB/s of stream: model's plan, optimistic plan. */
  last?: { modelMBps: number; optimisticMBps: number };
}

/** Below this share of the model plan's rate, the optimistic arm is cut short. */
const LOSING = 0.8;

function samePlan(a: Plan, b: Plan): boolean {
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2];
}

export class PlanTrial {
  private readonly windowMs: number;
  private readonly settleMs: number;
  private readonly margin: number;
  private readonly holdMs: number;
  private readonly maxHoldMs: number;
  private readonly minBytes: number;
  private readonly startAfterMs: number;
  private state = State.Waiting;
  private nextAt = -1;
  private hold: number;
  /** The plan that won the last decided trial ('M' | 'O'), for the hold's doubling. */
  private lastWinner: 'M' | 'O' | undefined;
  private armStart = 0;
  private measureT = -1;
  private measureBytes = 0;
  private rateM = 0;
  private planO: Plan | undefined;
  readonly record: TrialRecord = { trials: 0, optimisticWins: 0 };

  constructor(private readonly model: TrialModel, opts: PlanTrialOptions = {}) {
    this.windowMs = opts.windowMs ?? 120;
    this.settleMs = opts.settleMs ?? 40;
    this.margin = opts.margin ?? 0.08;
    this.holdMs = opts.holdMs ?? 250;
    this.maxHoldMs = opts.maxHoldMs ?? 4000;
    this.minBytes = opts.minBytes ?? 1e6;
    this.startAfterMs = opts.startAfterMs ?? 60;
    this.hold = this.holdMs;
  }

  /** Whether a trial is measuring now (its arms override the model's plan). */
  get measuring(): boolean {
    return this.state !== State.Waiting;
  }

  /** nowMs: a monotonic clock; streamBytes: QEMU stream bytes the sender has taken so far. */
  sample(nowMs: number, streamBytes: number): void {
    if (this.nextAt < 0) this.nextAt = nowMs + this.startAfterMs;
    switch (this.state) {
      case State.Waiting: {
        if (nowMs < this.nextAt) return;
        const m = this.model.modelPlan();
        const o = this.model.optimisticPlan();
        if (!this.model.linkMeasured || samePlan(m, o)) {
          // Nothing to settle: the model's own plan, re-checked shortly.
          this.model.override(null);
          this.lastWinner = undefined;
          this.hold = this.holdMs;
          this.nextAt = nowMs + this.windowMs;
          return;
        }
        this.planO = o;
        this.model.override(m);
        this.startArm(State.ArmM, nowMs);
        return;
      }
      case State.ArmM:
      case State.ArmO: {
        if (this.measureT < 0) {
          if (nowMs - this.armStart >= this.settleMs) {
            this.measureT = nowMs;
            this.measureBytes = streamBytes;
          }
          return;
        }
        const bytes = streamBytes - this.measureBytes;
        const rate = bytes / Math.max(1, nowMs - this.measureT);
        // An optimistic plan clearly losing halfway is not watched to the end of its window.
        const losing = this.state === State.ArmO && nowMs - this.measureT >= (this.windowMs - this.settleMs) / 2 && rate < this.rateM * LOSING;
        if (nowMs - this.armStart < this.windowMs && !losing) return;
        if (bytes < this.minBytes) return this.void(nowMs);
        if (this.state === State.ArmM) {
          this.rateM = rate;
          this.model.override(this.planO!);
          this.startArm(State.ArmO, nowMs);
          return;
        }
        this.decide(nowMs, rate);
        return;
      }
    }
  }

  private startArm(state: State, nowMs: number): void {
    this.state = state;
    this.armStart = nowMs;
    this.measureT = -1;
  }

  /** Too little moved to tell (QEMU between rounds, the end of the stream): the model's plan. */
  private void(nowMs: number): void {
    this.model.override(null);
    this.state = State.Waiting;
    this.nextAt = nowMs + this.windowMs;
  }

  private decide(nowMs: number, rateO: number): void {
    const winner = rateO > this.rateM * (1 + this.margin) ? 'O' : 'M';
    this.record.trials++;
    if (winner === 'O') this.record.optimisticWins++;
    this.record.last = { modelMBps: Math.round(this.rateM / 100) / 10, optimisticMBps: Math.round(rateO / 100) / 10 };
    this.hold = winner === this.lastWinner ? Math.min(this.maxHoldMs, this.hold * 2) : this.holdMs;
    this.lastWinner = winner;
    // O is held as it was measured; M is the model's own plan, free to follow its estimates.
    this.model.override(winner === 'O' ? this.planO! : null);
    this.state = State.Waiting;
    this.nextAt = nowMs + this.hold;
  }
}
