/**
 * Watches guests' serial logs from the host and timestamps each heartbeat line as it appears.
 *
 * Why host time: under TCG the guest's clocks stop while the VM is stopped, so the guest cannot
 * see its own pause. The host sees the last heartbeat the source printed and the first the
 * destination printed; the largest gap between consecutive heartbeats, across both logs, is
 * the pause the guest's users would observe.
 */
import fs from 'node:fs';
import { parseHeartbeats } from '../guest/heartbeat.js';

export interface SeenBeat {
  counter: number;
  ok: boolean;
  hostMs: number;
  /** Which log it came from (index into the watched files). */
  source: number;
}

export class HeartbeatWatch {
  readonly beats: SeenBeat[] = [];
  private readonly offsets: number[];
  private readonly partial: string[];
  private timer?: NodeJS.Timeout;

  constructor(private readonly files: string[], private readonly pollMs = 5) {
    this.offsets = files.map(() => 0);
    this.partial = files.map(() => '');
  }

  start(): this {
    // Skip what is already there: only heartbeats from now on are timestamped truthfully.
    this.files.forEach((f, i) => {
      try {
        this.offsets[i] = fs.statSync(f).size;
      } catch {
        this.offsets[i] = 0;
      }
    });
    this.timer = setInterval(() => this.poll(), this.pollMs);
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.poll();
  }

  poll(): void {
    const now = performance.now();
    this.files.forEach((f, i) => {
      let fd: number;
      try {
        fd = fs.openSync(f, 'r');
      } catch {
        return;
      }
      try {
        const buf = Buffer.allocUnsafe(1 << 16);
        for (;;) {
          const n = fs.readSync(fd, buf, 0, buf.length, this.offsets[i]);
          if (n <= 0) break;
          this.offsets[i] += n;
          const text = this.partial[i] + buf.toString('latin1', 0, n);
          const lines = text.split('\n');
          this.partial[i] = lines.pop() ?? '';
          for (const hb of parseHeartbeats(lines.join('\n') + '\n')) {
            this.beats.push({ counter: hb.counter, ok: hb.ok, hostMs: now, source: i });
          }
        }
      } finally {
        fs.closeSync(fd);
      }
    });
  }

  /** Largest host-observed gap between consecutive heartbeats (ms), over everything seen. */
  largestGapMs(): number {
    const sorted = [...this.beats].sort((a, b) => a.counter - b.counter || a.hostMs - b.hostMs);
    let gap = 0;
    for (let i = 1; i < sorted.length; i++) gap = Math.max(gap, sorted[i].hostMs - sorted[i - 1].hostMs);
    return gap;
  }

  allOk(): boolean {
    return this.beats.every((b) => b.ok);
  }

  lastCounter(source: number): number | undefined {
    let last: number | undefined;
    for (const b of this.beats) if (b.source === source) last = b.counter;
    return last;
  }

  firstCounter(source: number): number | undefined {
    return this.beats.find((b) => b.source === source)?.counter;
  }
}
