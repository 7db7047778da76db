/**
 * Meters that feed the cost model (src/codec/cost-model.ts) with what the migration measures:
 * how fast the link drains and how fast QEMU produces the stream. Pure arithmetic on samples the
 * caller takes; no clocks or sockets here.
 */
import { DEFAULT_PRIOR_LINK_BPS } from './cost-model.js';

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
const UNMEASURED_WINDOW_MS = 10;

/**
 * Queued window of the first measurement. Until then the estimate is a guess that rose x8 per
 * idle window, and when it overshot, the plan sends weakly compressed (often raw) frames for as
 * long as the queue is being measured: at 1 Gbit/s with a 9x codec every extra ms of that costs
 * 8 ms of compressed transfer. The first rate only has to be roughly right (later windows refine
 * it), so it is taken sooner than the later ones.
 */
const FIRST_BUSY_WINDOW_MS = 20;

/** Step by which a measured link estimate is raised when the link keeps up with it. */
const RAISE_MEASURED = 1.25;

/**
 * Link meter: how fast the wire drains, from the bytes a sink has accepted and the bytes still
 * queued in front of it. An interval where data stayed queued throughout measures the link; an
 * interval where the queue ran empty only says the link is at least that fast, so the estimate
 * is raised (before any measurement x `growth` per window; after one, x RAISE_MEASURED when we
 * pushed close to the estimate), so the model re-tries cheaper choices when the link is faster
 * than it thought. Windows in which nothing was sent are ignored.
 */
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

  /** Replace the starting estimate (ignored once the link was measured). */
  setPrior(bps: number): void {
    if (!this.measured && bps > 0) this.est = Math.min(bps, MAX_LINK_BPS);
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
    if (this.busyMs >= (this.measured ? this.windowMs : Math.min(this.windowMs, FIRST_BUSY_WINDOW_MS))) {
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
      // Never measured: x growth per window. Not bounded by what went through: while the codecs
      // are the limit (strong compression on a guessed slow link) little goes through, and the
      // model would step up slowly while a fast link idles. If the guess overshoots, a queue
      // forms within one window and measures the link; the cost is one send buffer of weakly
      // compressed frames.
      // Once the link has been measured under a queue, only a rate close to that measurement
      // (we were pushing as fast as we thought the link goes, and no queue formed) raises it,
      // and by a small step: otherwise a CPU-bound phase (little traffic, no queue) would
      // talk the model into a cheap codec, the queue would fill with large frames, and so on.
      const next = this.measured
        ? rate >= 0.8 * this.est ? Math.min(this.est * RAISE_MEASURED, MAX_LINK_BPS) : this.est
        : Math.min(this.est * this.growth, MAX_LINK_BPS);
      if (next > this.est) { this.est = next; changed = true; }
      this.idleBytes = 0; this.idleMs = 0;
      this.busyBytes = 0; this.busyMs = 0;
    }
    return changed;
  }
}

/**
 * HostCpuMeter: how many cores the encode workers could have right now, from the host's idle
 * time (all CPUs) plus what the workers themselves used over the same window, or, if more, the
 * fair share of the busy cores the scheduler would give them. On a host whose
 * cores are taken (the source QEMU's vCPUs, our own parse thread, a receiver beside us), a
 * worker thread is not a free core: compression then slows everything it shares the cores
 * with, and a plan that only "ties" on the wire's or QEMU's pace is not free. Fed by the sender
 * from os.cpus() every window; pure arithmetic, so tests drive it with fixed numbers.
 */
export class HostCpuMeter {
  private lastT = -1;
  private lastIdleMs = 0;
  private lastWorkerS = 0;
  private est: number | undefined;

  constructor(private readonly maxCores: number, private readonly windowMs = 100, private readonly alpha = 0.5) {}

  /** Cores available to the workers (undefined before the first window). */
  get cores(): number | undefined {
    return this.est;
  }

  /**
   * nowMs: monotonic clock; idleMs: the host's idle milliseconds summed over its CPUs (cumulative);
   * workerSeconds: the workers' busy seconds (cumulative); fairShare: the share of a core a newly
   * runnable thread gets per worker (host cores / runnable threads, capped at 1; 0 if unknown).
   * True when the estimate changed.
   */
  sample(nowMs: number, idleMs: number, workerSeconds: number, fairShare = 0): boolean {
    if (this.lastT < 0) {
      this.lastT = nowMs; this.lastIdleMs = idleMs; this.lastWorkerS = workerSeconds;
      return false;
    }
    const dt = nowMs - this.lastT;
    if (dt < this.windowMs) return false;
    const idle = Math.max(0, idleMs - this.lastIdleMs) / dt;
    const workers = Math.max(0, workerSeconds - this.lastWorkerS) * 1000 / dt;
    this.lastT = nowMs; this.lastIdleMs = idleMs; this.lastWorkerS = workerSeconds;
    // A worker that starts now gets at least its fair share of the busy cores (the scheduler
    // divides them among what is runnable), whatever the workers used so far: without this,
    // idle workers on a busy host would measure no CPU and never be given any.
    const cores = Math.min(this.maxCores, idle + Math.max(workers, fairShare * this.maxCores));
    this.est = this.est === undefined ? cores : (1 - this.alpha) * this.est + this.alpha * cores;
    return true;
  }
}
