/**
 * The Xen 3.1 baseline's stop rules (xc_domain_save), applied to a QEMU pre-copy over QMP.
 *
 * Xen ends the live phase after an iteration when any of these holds, then suspends the domain
 * and copies what is left:
 *   - 29 iterations have run (max_iters);
 *   - the data sent has reached 3x the VM's memory (max_factor);
 *   - fewer than 50 pages were sent in the iteration just finished.
 * QEMU counts rounds with dirty-sync-count (round N is under way once it reads N), and with
 * zero-page-detection=none it sends every page in full, so bytes sent in a round / 4096 is
 * Xen's "pages sent this iteration". The rule is forced in QEMU by raising downtime-limit to
 * its maximum: QEMU's next convergence check then passes and it stops and copies.
 */
import type { MigrationProgress } from '../agent/orchestrator.js';

export const XEN_MAX_ROUNDS = 29;
export const XEN_MAX_FACTOR = 3;
export const XEN_MIN_PAGES = 50;
export const PAGE_BYTES = 4096;
/** QEMU's ceiling for downtime-limit (MAX_MIGRATE_DOWNTIME_SECONDS = 2000 s), in ms. */
export const QEMU_MAX_DOWNTIME_LIMIT_MS = 2_000_000;

export interface XenMeasure {
  /** Rounds completed (QEMU's dirty-sync-count minus one while round N is running). */
  roundsDone: number;
  /** Bytes sent so far. */
  sentBytes: number;
  /** The VM's memory. */
  ramBytes: number;
  /** Pages sent in the last completed round; undefined before one completed. */
  pagesLastRound?: number;
}

export type XenStopReason = 'max-rounds' | 'max-data' | 'few-dirty';

/** The rule itself: which of Xen's conditions ends the live phase, if any. Checked in Xen's order. */
export function xenStopDecision(m: XenMeasure): XenStopReason | undefined {
  if (m.roundsDone >= XEN_MAX_ROUNDS) return 'max-rounds';
  if (m.sentBytes >= XEN_MAX_FACTOR * m.ramBytes) return 'max-data';
  if (m.roundsDone >= 1 && m.pagesLastRound !== undefined && m.pagesLastRound < XEN_MIN_PAGES) return 'few-dirty';
  return undefined;
}

/**
 * Follows the progress polls and turns them into XenMeasures: remembers the bytes sent when
 * each round was first seen, so a round's pages are the bytes between two round starts. Several
 * rounds between two polls (short rounds) share the bytes evenly. No I/O.
 */
export class XenStopTracker {
  private round = 0;
  private bytesAtRoundStart = 0;
  private pagesLastRound?: number;
  reason?: XenStopReason;
  /** The measure the decision was taken on, for the run's record. */
  decidedAt?: XenMeasure;

  constructor(private readonly ramBytes: number) {}

  /** Returns the reason to stop now (once: later calls return undefined). */
  observe(p: Pick<MigrationProgress, 'round' | 'qemuBytes'>): XenStopReason | undefined {
    if (this.reason) return undefined;
    if (p.round > this.round) {
      if (this.round > 0) {
        const rounds = p.round - this.round;
        this.pagesLastRound = (p.qemuBytes - this.bytesAtRoundStart) / PAGE_BYTES / rounds;
      }
      this.round = p.round;
      this.bytesAtRoundStart = p.qemuBytes;
    }
    const m: XenMeasure = {
      roundsDone: Math.max(0, this.round - 1),
      sentBytes: p.qemuBytes,
      ramBytes: this.ramBytes,
      pagesLastRound: this.pagesLastRound,
    };
    const reason = xenStopDecision(m);
    if (reason) {
      this.reason = reason;
      this.decidedAt = m;
    }
    return reason;
  }
}
