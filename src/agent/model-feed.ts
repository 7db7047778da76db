/**
 * ModelFeed: what `mecom send` measures for its cost model, sampled every 10 ms: the link's
 * drain rate (LinkMeter on the receiver's socket), QEMU's own rate (SourceMeter), how fast this
 * thread parses and ships (MainThreadMeter), and the cores the host has free for the workers
 * (HostCpuMeter). With MECOM_MODEL_TRACE=FILE it appends one JSON line per 50 ms of what the
 * model saw and chose (a development aid).
 */
import fs from 'node:fs';
import os from 'node:os';
import { HostStat } from './host-stat.js';
import type { CostModel } from '../codec/cost-model.js';
import { HostCpuMeter, LinkMeter, SourceMeter } from '../codec/meters.js';
import { MainThreadMeter } from './main-thread-meter.js';
import { PlanTrial, type TrialRecord } from './plan-trial.js';

/** Window of the host CPU meter (a read of /proc/stat: not every 10 ms). */
const HOST_CPU_WINDOW_MS = 100;

/** A file to trace the cost model's inputs and choices into, or undefined. */
const TRACE_FILE = process.env.MECOM_MODEL_TRACE || undefined;

/**
 * Share of a core a thread that becomes runnable now would get: host cores / runnable threads
 * (which count this thread too), at most 1; 0 where unknown. Contended, a thread at nice N
 * weighs 1.25^-N of one at nice 0 in the kernel's fair scheduler (nice 10: a tenth), and the
 * agents run niced (src/agent/priority.ts) beside QEMU at 0: that is its share then.
 */
export function fairShare(runnable: number, nice: number): number {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  if (!(runnable > 0)) return 0;
  return runnable <= cores ? 1 : (cores / runnable) * Math.pow(1.25, -Math.max(0, nice));
}

/** This thread's nice value (the workers inherit it), 0 where it cannot be read. */
function ownNice(): number {
  try {
    return os.getPriority();
  } catch {
    return 0;
  }
}

/** One sample of what the sender saw since the last. */
export interface FeedSample {
  now: number;
  /** Bytes written to the receiver's socket so far, and of those still queued in user space. */
  bytesOut: number;
  queued: number;
  /** QEMU stream bytes read so far, and ms we held QEMU's socket paused since the last sample. */
  streamBytes: number;
  pausedMs: number;
  /** The encode workers' busy seconds so far. */
  workerSeconds: number;
  /** Pass-through frames so far (for the trace). */
  passThroughFrames: number;
}

export class ModelFeed {
  private readonly link = new LinkMeter();
  private readonly source = new SourceMeter();
  private readonly main = new MainThreadMeter();
  private readonly host: HostCpuMeter;
  private readonly hostStat = new HostStat();
  /** Measures the model's plan against its plan with the whole CPU budget (src/agent/plan-trial.ts). */
  private readonly trial: PlanTrial | undefined;
  private hostAt = 0;
  private tracedAt = 0;
  private readonly nice = ownNice();

  /** `trials`: settle the CPU-dependent choice by measurement (default off: see docs/codec.md "Trials"). */
  constructor(private readonly model: CostModel, threads: number, trials = false) {
    this.host = new HostCpuMeter(threads, HOST_CPU_WINDOW_MS);
    this.trial = trials ? new PlanTrial(model) : undefined;
  }

  /** The trials so far (undefined when off). */
  get trials(): TrialRecord | undefined {
    return this.trial?.record;
  }

  sample(s: FeedSample): void {
    const m = this.model;
    if (this.link.sample(s.now, s.bytesOut - s.queued, s.queued)) m.setLink(this.link.bytesPerSecond, this.link.measured);
    const sourceChanged = this.source.sample(s.now, s.streamBytes, s.pausedMs);
    const mainChanged = this.main.sample(s.now, s.streamBytes);
    // The stream cannot go faster than QEMU writes it, nor faster than this thread parses,
    // batches and ships it, whatever the workers do: plans the workers could run faster than
    // that tie, and the model then takes the one with the fewest wire bytes.
    if (sourceChanged || mainChanged) m.setSource(Math.min(this.source.bytesPerSecond, this.main.bytesPerSecond));
    if (s.now - this.hostAt >= HOST_CPU_WINDOW_MS) {
      this.hostAt = s.now;
      const h = this.hostStat.read();
      if (this.host.sample(s.now, h.idleMs, s.workerSeconds, fairShare(h.runnable, this.nice))) m.setCpuAvailable(this.host.cores!);
    }
    this.trial?.sample(s.now, s.streamBytes);
    if (TRACE_FILE) this.trace(s);
  }

  /**
   * A timed guess of the link from before the stream (the sender's link test): the model's and
   * the link meter's starting estimate, in place of DEFAULT_PRIOR_LINK_BPS. Not a measurement.
   */
  setLinkPrior(bytesPerSecond: number): void {
    if (!(bytesPerSecond > 0)) return;
    this.link.setPrior(bytesPerSecond);
    this.model.setLink(this.link.bytesPerSecond, false);
  }

  /** Stop sampling the host (closes /proc/stat). */
  close(): void {
    this.hostStat.close();
  }

  private trace(s: FeedSample): void {
    if (s.now - this.tracedAt < 50) return;
    this.tracedAt = s.now;
    const m = this.model.snapshot();
    const est = this.model.estimates();
    const line = {
      t: Math.round(s.now), streamMB: Math.round(s.streamBytes / 1e5) / 10, queued: s.queued, link: m.linkMBps, linkMeasured: this.link.measured,
      source: m.sourceMBps, cpus: m.availableCpus, eff: m.cpuEfficiency, bound: m.bound, busy: m.receiverBusy, choice: m.choice,
      predicted: m.predictedMBps, baseMBps: Math.round(1 / est.baseCost / 1e6), cheapMBps: Math.round(1 / (est.cheapBaseCost ?? NaN) / 1e6),
      batches: m.batches, pass: s.passThroughFrames, modelChoice: m.modelChoice, optimistic: this.model.optimisticPlan().join(''),
      trials: this.trial?.record,
    };
    fs.appendFileSync(TRACE_FILE!, JSON.stringify(line) + '\n');
  }
}
