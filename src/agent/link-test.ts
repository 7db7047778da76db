/**
 * The sender's side of the link test (docs/wire-protocol.md, LINKTEST/LINKRATE): 512 KiB of
 * filler to the receiver before QEMU connects, and a link estimate from the receiver's timing
 * of its second half and our own round trip. The cost model starts from it instead of the
 * fixed 100 Mbit/s prior: on a fast link that prior had the first batches compressed hard, and
 * they held the stream back for ~100 ms of a half-second migration (docs/benchmarks.md
 * "Session 8"). The result is a guess, not a measurement: the link meter still raises it while
 * no queue forms and measures the link once one does.
 */
import { encodeControl, LINK_TEST_MESSAGE_BYTES, LINK_TEST_MESSAGES, linkTestMessage, type LinkRateBody } from '../wire/control.js';

/** A receiver that does not answer within this is not waited for (no estimate then). */
export const LINK_TEST_TIMEOUT_MS = 2000;

/**
 * The receiver's timed half (256 KiB) took less than this: the test cannot tell the link from a
 * faster one. On a loaded host a few ms of scheduling delay dominate such a short interval: on a
 * 10 Gbit/s link the half takes ~0.2 ms, and the test read 30-90 MB/s there, which had the first
 * batches compressed for a link 15-40x faster (docs/benchmarks.md "Session 12"). At or above
 * this (a link of ~26 MB/s or slower) the interval is long enough to trust.
 */
export const LINK_TEST_RESOLVE_MS = 10;

/** The estimate for a link too fast to time (10 Gbit/s): the first batches go raw, and the link meter measures the link once a queue forms. */
export const FAST_LINK_BPS = 1.25e9;

export class LinkTest {
  private answer?: (r: LinkRateBody) => void;
  private sent = false;

  /** Whether a test was started: a LINKRATE before that is a protocol error. */
  get started(): boolean {
    return this.sent;
  }

  /** The receiver's LINKRATE; one that comes after the test timed out is ignored. */
  onRate(r: LinkRateBody): void {
    this.answer?.(r);
  }

  /**
   * Send the filler through `write` and wait for LINKRATE (or `abandon`, which settles with no
   * estimate). Resolves with bytes per second, or undefined without an answer.
   */
  async run(write: (bytes: Uint8Array) => void, abandon: Promise<unknown>): Promise<number | undefined> {
    // Encoded before the clock starts: the receiver would otherwise time our JSON encoder.
    const filler = Array.from({ length: LINK_TEST_MESSAGES }, (_, i) => encodeControl(linkTestMessage(i, LINK_TEST_MESSAGES)));
    let timer: NodeJS.Timeout | undefined;
    const reply = new Promise<LinkRateBody | undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), LINK_TEST_TIMEOUT_MS);
      this.answer = resolve;
    });
    const t0 = performance.now();
    this.sent = true;
    for (const m of filler) write(m);
    const r = await Promise.race([reply, abandon.then(() => undefined)]);
    clearTimeout(timer);
    this.answer = undefined;
    if (!r) return undefined;
    const roundTrip = (LINK_TEST_MESSAGES * LINK_TEST_MESSAGE_BYTES) / ((performance.now() - t0) / 1000);
    // The receiver's timing leaves out the round trip and the shaper's burst, but a receiver
    // slow to read (busy starting up) sees a backlog arrive at once: never more than twice
    // what the whole round trip says.
    const atReceiver = r.ms > 0 ? (r.bytes / r.ms) * 1000 : Infinity;
    const estimate = Math.min(atReceiver, 2 * roundTrip);
    return r.ms < LINK_TEST_RESOLVE_MS ? Math.max(estimate, FAST_LINK_BPS) : estimate;
  }
}
