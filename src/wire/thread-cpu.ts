/**
 * ThreadCpuShare: the share of its wall time an encode worker spent on a CPU, over its recent
 * jobs. It turns the encoder's wall-clock timings into CPU time.
 *
 * Why: the cost model multiplies per-byte costs by the cores the workers can get (HostCpuMeter).
 * Costs timed in wall time on a host whose cores are taken by QEMU's vCPUs already carry that
 * contention, so the model counted it twice. Live at 1 Gbit/s it then rated even the raw path
 * at 35-60 MB/s per core and never compressed.
 *
 * Used where the model is told the host's free cores (`EncodePoolOptions.cpuTimeCosts`, set by
 * `mecom send`); the in-process throughput bench has no host meter and keeps wall time.
 *
 * Source: /proc/thread-self/schedstat, whose first field is the thread's time on a CPU in ns.
 * Read from the worker's own thread; Node 20 has no per-thread CPU clock. The kernel updates it
 * at scheduler ticks, so one short job reads 0 or twice its wall time. Jobs are therefore pooled
 * over a window of about WINDOW_S of wall time. Below MIN_WALL_S of pooled wall time, or where
 * the file is missing (not Linux), the share is 1 (wall time as is).
 */
import fs from 'node:fs';

const WINDOW_S = 0.2;
const MIN_WALL_S = 0.03;
/** Floor of the share: a thread that was hardly running still did its job on some CPU. */
const MIN_SHARE = 0.05;

function readRuntimeSeconds(): number | undefined {
  try {
    const s = fs.readFileSync('/proc/thread-self/schedstat', 'latin1');
    const ns = Number(s.slice(0, s.indexOf(' ')));
    return Number.isFinite(ns) ? ns / 1e9 : undefined;
  } catch {
    return undefined;
  }
}

export class ThreadCpuShare {
  private last: number | undefined;
  private cpu = 0;
  private wall = 0;
  private readonly read: () => number | undefined;

  /** `read`: the thread's CPU seconds so far (default: this thread's schedstat). */
  constructor(read: () => number | undefined = readRuntimeSeconds) {
    this.read = read;
    this.last = read();
  }

  /**
   * Call at the end of each job with its wall seconds; returns the share (MIN_SHARE..1) to
   * scale its timings by. CPU time between jobs (waiting on the port) is negligible and counted in.
   */
  note(wallSeconds: number): number {
    const now = this.read();
    if (now === undefined || this.last === undefined || !(wallSeconds > 0)) {
      this.last = now;
      return 1;
    }
    const cpu = Math.max(0, now - this.last);
    this.last = now;
    // Exponential window by wall time: older jobs fade over about WINDOW_S.
    const keep = Math.exp(-wallSeconds / WINDOW_S);
    this.cpu = this.cpu * keep + cpu;
    this.wall = this.wall * keep + wallSeconds;
    if (this.wall < MIN_WALL_S) return 1;
    return Math.max(MIN_SHARE, Math.min(1, this.cpu / this.wall));
  }
}
