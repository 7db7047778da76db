/**
 * Whether the receiver's load reports (STATUS, every 50 ms: src/wire/envelope.ts) say the
 * receiver, not the link, sets the pace. A saturated receiver drains the socket at its own
 * pace, and the link meter then reads that pace as the link's; the cost model would compress for
 * a "slow link" and spend CPU that, on a shared host, the receiver needed.
 *
 * One pair of thresholds, the hysteresis in time: the receiver is the limit from the first report
 * with busy ≥ RECEIVER_BUSY_LIMIT or QEMU wait ≥ RECEIVER_WAIT_LIMIT, and stays so until
 * RECEIVER_LEAVE_REPORTS reports in a row fall below both.
 */

/**
 * Busy share of the receiver's event loop, and share of the time it waited on the destination
 * QEMU, from which it counts as the limit. Session 4 entered at 0.85 / 0.5 and cleared below
 * 0.65 / 0.25 on one report. In the band between, a receiver at 65-85% still let its queue read
 * as a slow link, and the model then compressed a fifth of the pages on loopback (session 5).
 */
export const RECEIVER_BUSY_LIMIT = 0.65;
export const RECEIVER_WAIT_LIMIT = 0.25;
/**
 * Consecutive quiet reports before the receiver stops counting as the limit (300 ms). Raw frames
 * are what keep a saturated receiver just below saturation; a single quiet report let the model
 * compress again, and the receiver's queue then read as a slow link. At 10 Gbit/s memwrite
 * flip-flopped like this between raw and compression, with 20-30% of its pages compressed.
 */
export const RECEIVER_LEAVE_REPORTS = 6;

export class ReceiverLoad {
  /** The last report's event-loop utilisation (0 before any). */
  busy = 0;
  private bound = false;
  private quiet = 0;

  /** Whether the reports say the receiver is the limit. */
  get limited(): boolean {
    return this.bound;
  }

  /** Take one report; true if `limited` changed. Non-finite values are ignored. */
  report(busy: number, qemuWait: number): boolean {
    if (!Number.isFinite(busy) || !Number.isFinite(qemuWait)) return false;
    this.busy = busy;
    const was = this.bound;
    const quiet = busy < RECEIVER_BUSY_LIMIT && qemuWait < RECEIVER_WAIT_LIMIT;
    this.quiet = quiet ? this.quiet + 1 : 0;
    if (!quiet) this.bound = true;
    else if (this.quiet >= RECEIVER_LEAVE_REPORTS) this.bound = false;
    return this.bound !== was;
  }
}
