/**
 * The checker's heartbeat, as the host reads it from a guest's serial log.
 *
 * Line format (docs/guest.md, "Heartbeat"): `HB <counter> <guest_monotonic_ms> OK|BAD`, one per
 * ~10 ms, counter from 1 and +1 per line, BAD sticky once any verification failed. Other lines
 * (`CHK ...`, `WL ...`, `MECOM ...`, firmware and kernel output) are ignored.
 */
import fs from 'node:fs';
import { MecomError } from '../errors.js';

export interface Heartbeat {
  counter: number;
  /** Guest CLOCK_MONOTONIC in ms when the line was printed (stops while the VM is stopped). */
  ms: number;
  ok: boolean;
}

export interface HeartbeatStats {
  count: number;
  firstCounter?: number;
  lastCounter?: number;
  /** Every beat said OK (vacuously true for none). */
  allOk: boolean;
  /** Counters strictly increase from line to line (no restart, no reordering). */
  increasing: boolean;
  /** Largest difference in guest ms between consecutive beats: the pause the guest itself saw. */
  largestGapMs: number;
}

/**
 * Leading junk is tolerated (a terminal escape sequence left by the firmware, a console prefix)
 * as long as it does not run into the word HB; trailing junk is not.
 */
// eslint-disable-next-line no-control-regex
const LINE = /(?:^|[^A-Za-z0-9]|\x1b\[[0-9;?]*[A-Za-z])HB (\d+) (\d+) (OK|BAD)\r?$/;

/**
 * Every complete heartbeat in `text`. A last line without its newline still counts when it
 * matches in full: the status word comes last, so a line cut short cannot match.
 */
export function parseHeartbeats(text: string): Heartbeat[] {
  const out: Heartbeat[] = [];
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (m) out.push({ counter: Number(m[1]), ms: Number(m[2]), ok: m[3] === 'OK' });
  }
  return out;
}

export function heartbeatStats(beats: readonly Heartbeat[]): HeartbeatStats {
  let increasing = true;
  let largestGapMs = 0;
  for (let i = 1; i < beats.length; i++) {
    if (beats[i].counter <= beats[i - 1].counter) increasing = false;
    largestGapMs = Math.max(largestGapMs, beats[i].ms - beats[i - 1].ms);
  }
  return {
    count: beats.length,
    firstCounter: beats[0]?.counter,
    lastCounter: beats.at(-1)?.counter,
    allOk: beats.every((b) => b.ok),
    increasing,
    largestGapMs,
  };
}

/** Heartbeats in a serial log file so far ([] when it does not exist yet). */
export function readHeartbeats(serialPath: string): Heartbeat[] {
  try {
    return parseHeartbeats(fs.readFileSync(serialPath, 'latin1'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

export interface WaitOptions {
  /** Start reading at this byte offset (e.g. the log size before a migration). */
  fromOffset?: number;
  pollMs?: number;
  /** Give up early when this settles (e.g. the QEMU process exited). */
  abort?: Promise<unknown>;
}

/**
 * Resolves with the first heartbeat (from `fromOffset` on) for which `predicate` is true.
 * Reads the log incrementally; throws MECOM_GUEST_TIMEOUT after `timeoutMs`.
 */
export async function waitForHeartbeat(
  serialPath: string,
  predicate: (beat: Heartbeat) => boolean = () => true,
  timeoutMs = 30_000,
  opts: WaitOptions = {},
): Promise<Heartbeat> {
  const deadline = Date.now() + timeoutMs;
  const pollMs = opts.pollMs ?? 20;
  let offset = opts.fromOffset ?? 0;
  let partial = '';
  let aborted: unknown;
  let abortedSet = false;
  opts.abort?.then(
    (v) => ((abortedSet = true), (aborted = v)),
    (e) => ((abortedSet = true), (aborted = e)),
  );
  const buf = Buffer.allocUnsafe(1 << 16);
  for (;;) {
    let fd: number | undefined;
    try {
      fd = fs.openSync(serialPath, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (fd !== undefined) {
      try {
        for (;;) {
          const n = fs.readSync(fd, buf, 0, buf.length, offset);
          if (n <= 0) break;
          offset += n;
          const lines = (partial + buf.toString('latin1', 0, n)).split('\n');
          partial = lines.pop() ?? '';
          for (const beat of parseHeartbeats(lines.join('\n'))) if (predicate(beat)) return beat;
        }
      } finally {
        fs.closeSync(fd);
      }
    }
    if (abortedSet) {
      throw new MecomError('MECOM_GUEST_EXITED', `no matching heartbeat in ${serialPath}: the guest stopped (${describe(aborted)})`);
    }
    if (Date.now() >= deadline) {
      throw new MecomError('MECOM_GUEST_TIMEOUT', `no matching heartbeat in ${serialPath} within ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

function describe(v: unknown): string {
  if (v instanceof Error) return v.message;
  if (v && typeof v === 'object') return JSON.stringify(v);
  return String(v);
}
