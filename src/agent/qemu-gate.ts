/**
 * QemuGate: `mecom send` reads from QEMU's socket only while the receiver's socket takes data
 * and the encode pool has room for more batches. Held, QEMU's writes block, so its bandwidth
 * estimate (and with it its decision to switch over) sees the compressed wire, not our buffers
 * (docs/wire-protocol.md "Flow control"). It also keeps the time it held QEMU back: the source
 * meter must not read those stretches as a slow QEMU.
 */
import type net from 'node:net';

export class QemuGate {
  private held = false;
  private heldAt = 0;
  private heldMs = 0;
  /** The receiver's socket queued more than its limit; cleared at its 'drain'. */
  private socketFull = false;

  /** `qemu`: QEMU's connection; `peer`: the receiver's; `poolFull`: whether the encode pool is at its limit. */
  constructor(private readonly qemu: net.Socket, private readonly peer: net.Socket, private readonly poolFull: () => boolean) {}

  /**
   * A frame went to the receiver's socket (`accepted`: its write returned true). Hold QEMU while
   * that socket queues more than `limitBytes` in user space, until it drains.
   */
  wrote(accepted: boolean, limitBytes: number): void {
    if (!accepted && this.peer.writableLength > limitBytes && !this.socketFull) {
      this.socketFull = true;
      this.peer.once('drain', () => {
        this.socketFull = false;
        this.update();
      });
    }
    this.update();
  }

  /** Re-check both conditions (the pool calls this when it frees a slot). */
  update(): void {
    const hold = this.socketFull || this.poolFull();
    if (hold && !this.held) {
      this.held = true;
      this.heldAt = performance.now();
      this.qemu.pause();
    } else if (!hold && this.held) {
      this.held = false;
      this.heldMs += performance.now() - this.heldAt;
      this.qemu.resume();
    }
  }

  /** Milliseconds QEMU was held back since the last call (`now`: performance.now()). */
  takeHeldMs(now: number): number {
    let ms = this.heldMs;
    if (this.held) {
      ms += now - this.heldAt;
      this.heldAt = now;
    }
    this.heldMs = 0;
    return ms;
  }
}
