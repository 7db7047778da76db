/**
 * The host's idle time and runnable threads, from one read of Linux's /proc/stat through a file
 * descriptor kept open. `os.cpus()` gave the idle time before, but it also reads /proc/cpuinfo
 * and every CPU's frequency: about 2 ms of the sender's main thread per sample here, on the
 * thread that parses QEMU's stream. Elsewhere than Linux, `os.cpus()` it is (no runnable count).
 */
import fs from 'node:fs';
import os from 'node:os';

export interface HostStatSample {
  /** Idle milliseconds summed over the host's CPUs since boot. */
  idleMs: number;
  /** Threads runnable now (`procs_running`, the reader included); 0 where unknown. */
  runnable: number;
}

/** USER_HZ: /proc/stat counts in hundredths of a second on every Linux ABI. */
const MS_PER_TICK = 10;

export class HostStat {
  private fd: number | undefined;
  private readonly buf = Buffer.allocUnsafe(64 * 1024);

  constructor(private readonly path = '/proc/stat') {
    try {
      this.fd = fs.openSync(path, 'r');
    } catch {
      this.fd = undefined;
    }
  }

  read(): HostStatSample {
    const fromProc = this.fd !== undefined ? this.readProc() : undefined;
    if (fromProc) return fromProc;
    let idleMs = 0;
    for (const c of os.cpus()) idleMs += c.times.idle;
    return { idleMs, runnable: 0 };
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }

  private readProc(): HostStatSample | undefined {
    let n: number;
    try {
      n = fs.readSync(this.fd!, this.buf, 0, this.buf.length, 0);
    } catch {
      return undefined;
    }
    const text = this.buf.toString('latin1', 0, n);
    // "cpu  user nice system idle iowait irq softirq steal ...": the first line sums all CPUs.
    const cpu = /^cpu +\d+ +\d+ +\d+ +(\d+)/.exec(text);
    if (!cpu) return undefined;
    const running = /^procs_running (\d+)$/m.exec(text);
    return { idleMs: Number(cpu[1]) * MS_PER_TICK, runnable: running ? Number(running[1]) : 0 };
  }
}
