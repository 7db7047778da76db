/**
 * BufferPool: reuses the large buffers a relay fills and drains at link speed (pass-through
 * frames on the sender, whole messages on the receiver).
 *
 * Why: a fresh 1 MiB buffer is fresh memory. Each of its 4 KiB pages faults on first touch, and
 * the kernel zeroes it. Copying a migration stream into fresh buffers cost 2-3x what the copy
 * into a warm buffer costs. V8 frees large buffers only when it collects, so the memory is
 * not reused either. On a 10 Gbit/s link, that copy was a third of each agent's CPU.
 *
 * Buffers have one size at a time (the largest asked for). A request above it raises the size,
 * and smaller free buffers are dropped. Only buffers this pool handed out are taken back, each
 * at most once, and a buffer moved to another thread (detached) is not. So a stray or double
 * `release` cannot give one buffer to two users.
 */

/** Sizes are rounded up to this, so frames of slightly different lengths share one size. */
const GRANULE = 64 * 1024;

export class BufferPool {
  private size: number;
  private readonly maxFree: number;
  private readonly free: ArrayBuffer[] = [];
  /** Buffers handed out and not yet released. */
  private readonly lent = new WeakSet<ArrayBuffer>();

  /** `size`: the first buffer size (bytes); `maxFree`: how many free buffers are kept at most. */
  constructor(size: number, maxFree = 16) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`size must be a positive integer, got ${size}`);
    if (!Number.isInteger(maxFree) || maxFree < 0) throw new RangeError(`maxFree must be a non-negative integer, got ${maxFree}`);
    this.size = roundUp(size);
    this.maxFree = maxFree;
  }

  /** The size of the buffers handed out now. */
  get bufferSize(): number {
    return this.size;
  }
  get freeCount(): number {
    return this.free.length;
  }

  /**
   * A buffer of at least `length` bytes: a view of exactly `length` bytes over a pooled
   * ArrayBuffer (contents undefined). Give it back with `release` once nothing reads it.
   */
  acquire(length: number): Buffer {
    if (length > this.size) {
      this.size = roundUp(length);
      this.free.length = 0;
    }
    const ab = this.free.pop() ?? new ArrayBuffer(this.size);
    this.lent.add(ab);
    return Buffer.from(ab, 0, length);
  }

  /** Whether `view` is (a view of) a buffer this pool lent and has not got back. */
  owns(view: Uint8Array): boolean {
    return this.lent.has(view.buffer as ArrayBuffer);
  }

  /** Give back a buffer from `acquire` (any view of it). Anything else is ignored. */
  release(view: Uint8Array): void {
    const ab = view.buffer as ArrayBuffer;
    if (!this.lent.has(ab)) return;
    this.lent.delete(ab);
    // A detached buffer (moved to a worker) has length 0; one of an old size is dropped.
    if (ab.byteLength === this.size && this.free.length < this.maxFree) this.free.push(ab);
  }
}

function roundUp(n: number): number {
  return Math.ceil(n / GRANULE) * GRANULE;
}
