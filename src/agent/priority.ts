/**
 * The agents' scheduling priority. `mecom send` shares its host with the source VM and
 * `mecom receive` with the destination's QEMU, and on a host without spare cores every cycle an
 * agent takes is one its QEMU does not get. The agents' work is buffered on both sides (socket
 * buffers and frame queues of megabytes), so they can run in the gaps QEMU leaves; QEMU's own
 * threads — the guest's vCPUs, the migration thread, the destination's loader — cannot wait.
 *
 * Measured at 10 Gbit/s on a 2-core host (docs/benchmarks.md "Session 9", 10 interleaved
 * `memwrite` runs): with the agents at nice 0 a migration through mecom took 1.29x plain QEMU's
 * time and added 71 ms of downtime; at nice 10, 1.23x and 13 ms.
 *
 * Linux applies a nice value per thread, and a new thread starts with its creator's: so every
 * thread the process has now (V8's platform threads, libuv's) is reniced here, and the worker
 * threads, started later from the main thread, inherit the value.
 */
import fs from 'node:fs';
import os from 'node:os';

/** The agents' default nice value (`--nice`). */
export const DEFAULT_AGENT_NICE = 10;

/**
 * Lower this process's priority to `nice` (0..19) on all of its threads; a thread already at
 * `nice` or lower priority keeps its own. Returns the threads changed. Never raises priority
 * (that needs privileges and is not an agent's to take).
 */
export function lowerPriority(nice: number): number {
  if (!Number.isInteger(nice) || nice < 0 || nice > 19) throw new RangeError(`nice must be an integer 0..19, got ${nice}`);
  let tids: number[];
  try {
    tids = fs.readdirSync('/proc/self/task').map(Number).filter((t) => t > 0);
  } catch {
    tids = [0]; // no /proc: the calling thread only
  }
  let changed = 0;
  for (const tid of tids) {
    try {
      if (os.getPriority(tid) >= nice) continue;
      os.setPriority(tid, nice);
      changed++;
    } catch {
      // The thread ended between the listing and the call.
    }
  }
  return changed;
}
