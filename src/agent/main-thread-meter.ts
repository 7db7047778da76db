import { performance } from 'node:perf_hooks';

/**
 * How many stream bytes per second this (main) thread can take: the bytes it read in a window
 * divided by the time its event loop was busy in that window. Parsing, batching, submitting
 * and writing frames all run here, so a plan whose workers are faster than this cannot deliver
 * more. A window with little traffic says nothing (the estimate stays).
 */
export class MainThreadMeter {
  private est = Infinity;
  private lastT = -1;
  private lastBytes = 0;
  private elu = performance.eventLoopUtilization();
  constructor(private readonly windowMs = 200, private readonly alpha = 0.4) {}

  get bytesPerSecond(): number {
    return this.est;
  }

  sample(nowMs: number, bytesRead: number): boolean {
    if (this.lastT < 0) {
      this.lastT = nowMs;
      this.lastBytes = bytesRead;
      this.elu = performance.eventLoopUtilization();
      return false;
    }
    if (nowMs - this.lastT < this.windowMs) return false;
    const now = performance.eventLoopUtilization();
    const busyMs = performance.eventLoopUtilization(now, this.elu).active;
    const bytes = bytesRead - this.lastBytes;
    this.elu = now;
    this.lastT = nowMs;
    this.lastBytes = bytesRead;
    if (bytes < 1e6 || busyMs <= 0) return false;
    const rate = (bytes / busyMs) * 1000;
    const before = this.est;
    this.est = Number.isFinite(this.est) ? (1 - this.alpha) * this.est + this.alpha * rate : rate;
    return this.est !== before;
  }
}
