/**
 * Live progress of a migration on stderr: one line rewritten in place on a terminal
 * (cli-progress), one line per second otherwise (logs, CI).
 */
import cliProgress from 'cli-progress';
import type { MigrationProgress } from '../agent/orchestrator.js';

const MB = 1e6;

function fields(p: MigrationProgress) {
  return {
    status: p.status,
    round: p.round,
    qemuMB: (p.qemuBytes / MB).toFixed(1),
    wireMB: (p.wireBytes / MB).toFixed(1),
    ratio: p.ratio.toFixed(2),
    dirty: (p.dirtyRateBps / MB).toFixed(1),
    edt: p.expectedDowntimeMs,
    secs: (p.elapsedMs / 1000).toFixed(1),
  };
}

const FORMAT = '{secs}s {status} | round {round} | QEMU {qemuMB} MB -> wire {wireMB} MB ({ratio}x) | dirty {dirty} MB/s | expected downtime {edt} ms';

export interface ProgressView {
  update(p: MigrationProgress): void;
  stop(): void;
}

export function progressView(label: string, enabled = true): ProgressView {
  if (!enabled) return { update() {}, stop() {} };
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar({ format: `${label} ${FORMAT}`, stream: process.stderr, hideCursor: true, clearOnComplete: false }, cliProgress.Presets.legacy);
    let started = false;
    return {
      update(p) {
        if (!started) {
          bar.start(1, 0, fields(p));
          started = true;
        } else bar.update(0, fields(p));
      },
      stop() {
        if (started) bar.stop();
      },
    };
  }
  let last = 0;
  return {
    update(p) {
      if (p.elapsedMs - last < 1000 && p.status !== 'completed') return;
      last = p.elapsedMs;
      const f = fields(p) as Record<string, string | number>;
      process.stderr.write(`${label} ${FORMAT.replace(/\{(\w+)\}/g, (_, k: string) => String(f[k]))}\n`);
    },
    stop() {},
  };
}
