/**
 * V8 optimises typed-array code on the assumption that no ArrayBuffer in the thread was ever
 * detached (its "array buffer detaching protector"), and throws all such optimised code away
 * the first time one is. The agents detach buffers as a matter of course (batches move to a
 * worker and back, frames to a decode worker), so without this the first transfer of a
 * migration deoptimised the whole parse and encode path just warmed up, and V8 compiled it
 * again on the cores both QEMUs need (seen with `--trace-deopt`: "marking dependent code ...
 * reason: code dependencies" for every parser function at the first batch).
 *
 * Call once per thread, before its warm-up.
 */
export function settleDetachProtector(): void {
  const ab = new ArrayBuffer(8);
  structuredClone(ab, { transfer: [ab] });
}
