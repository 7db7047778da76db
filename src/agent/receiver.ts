/**
 * `mecom receive`: accepts one `mecom send`, checks the handshake, decodes and verifies each
 * frame, and writes the rebuilt QEMU stream to the destination QEMU (`migrate-incoming`).
 *
 * States:
 *   listening -> handshaking   a sender connected
 *   handshaking -> streaming   HELLO accepted, connected to the destination QEMU
 *   streaming -> verified      END matched the rebuilt stream's length and digest
 *   any -> failed              first error wins; the QEMU connection is cut so the destination
 *                              fails its load instead of running on unverified memory
 *
 * No byte of a frame reaches QEMU before that frame's checksum is verified. The whole-stream
 * digest proves nothing was lost, added or reordered between frames. A frame with a chained
 * checksum (src/wire/stream-chain.ts) is verified against that digest, in stream order, right
 * before its span is written: one hash pass over its bytes serves both checks.
 *
 * Frames are decoded on a DecodePool (worker threads, src/wire/codec-pool.ts) and written to QEMU
 * in arrival order. We stop reading from the sender while QEMU's socket is full or the pool holds
 * its limit of frames in flight.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { EventEmitter } from 'node:events';
import { Xxh64 } from '@node-rs/xxhash';
import { MecomError, asMecomError } from '../errors.js';
import { DecodePool } from '../wire/codec-pool.js';
import { ControlType, HelloBody, LINK_TEST_MESSAGE_BYTES, PROTOCOL_VERSION, warmUpControlDecoder } from '../wire/control.js';
import { FRAME_VERSION } from '../wire/frame-format.js';
import { Address, connectTo, listenOn, listeningPort } from './address.js';
import { AgentCodes, AgentError } from './errors.js';
import { BufferPool } from '../wire/buffer-pool.js';
import { Peer } from './peer.js';
import { settleDetachProtector } from '../wire/detach-protector.js';
import { type ChainCheck, verifyChained } from '../wire/stream-chain.js';
import { warmUpChainedDecode } from '../wire/decoder-warmup.js';

export interface ReceiverOptions {
  /** Where `mecom send` connects. Port 0 picks a free port. */
  listen: Address;
  /** The destination QEMU's incoming address (`migrate-incoming tcp:...`). */
  to: Address;
  /** Decode worker threads (default cores - 1, at least 1). */
  threads?: number;
}

export type ReceiverState = 'listening' | 'handshaking' | 'streaming' | 'verified' | 'failed';

export interface ReceiverStats {
  streamBytes: number;
  wireBytes: number;
  frames: number;
  pages: number;
}

export interface ReceiverEvents {
  state: [ReceiverState];
}

export class Receiver extends EventEmitter<ReceiverEvents> {
  state: ReceiverState = 'listening';
  private server?: net.Server;
  private peer?: Peer;
  private qemu?: net.Socket;
  private qemuError?: Error;
  private readonly pool: DecodePool;
  /** Buffers for the frames read from the sender (src/wire/buffer-pool.ts). */
  private readonly frameBuffers = new BufferPool(1);
  private qemuFull = false;
  private readonly digest = new Xxh64();
  private streamBytes = 0;
  private frames = 0;
  private pages = 0;
  private peerPaused = false;
  /** LINKTEST: when the first half of the filler had arrived. */
  private linkTestHalf?: { at: number; seq: number };
  /** STATUS reports: timer, last event-loop utilisation sample, time held back by QEMU. */
  private statusTimer?: NodeJS.Timeout;
  private elu = performance.eventLoopUtilization();
  private statusAt = 0;
  private qemuFullSince = 0;
  private qemuWaitMs = 0;
  private settle!: { resolve: (s: ReceiverStats) => void; reject: (e: MecomError) => void };
  readonly done: Promise<ReceiverStats>;

  constructor(private readonly opts: ReceiverOptions) {
    super();
    this.pool = new DecodePool({ threads: opts.threads });
    this.pool.onAvailable(() => this.updatePause());
    this.done = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    this.done.catch(() => {});
  }

  /** Start listening; resolves with the port the sender must use. */
  async start(): Promise<number> {
    settleDetachProtector(); // frames move to decode workers: see src/wire/detach-protector.ts
    warmUpControlDecoder();
    warmUpChainedDecode();
    await this.pool.ready();
    this.server = await listenOn(this.opts.listen);
    this.server.on('connection', (sock) => this.onPeer(sock));
    return listeningPort(this.server);
  }

  stats(): ReceiverStats {
    return { streamBytes: this.streamBytes, wireBytes: this.peer?.bytesIn ?? 0, frames: this.frames, pages: this.pages };
  }

  abort(reason: string): void {
    this.fail(new AgentError(AgentCodes.aborted, reason));
  }

  private onPeer(sock: net.Socket): void {
    if (this.state !== 'listening') {
      sock.destroy();
      return;
    }
    this.server?.close();
    this.setState('handshaking');
    const peer = (this.peer = new Peer(sock, 'mecom send', this.frameBuffers));
    peer.on('error', (err) => this.fail(err));
    peer.on('close', () => {
      if (this.state !== 'verified') this.fail(new AgentError(AgentCodes.peerLost, 'mecom send closed the connection before the stream was verified'));
    });
    peer.on('frame', (bytes) => this.onFrame(bytes));
    peer.on('control', (msg) => {
      switch (msg.type) {
        case ControlType.Hello:
          return void this.onHello(msg.body);
        case ControlType.End:
          return this.onEnd(msg.body.streamBytes, msg.body.digest);
        case ControlType.LinkTest:
          return this.onLinkTest(msg.body.seq, msg.body.of);
        case ControlType.Abort:
          return this.fail(new AgentError(AgentCodes.aborted, `mecom send aborted: ${msg.body.reason}`));
        default:
          return this.fail(new AgentError(AgentCodes.protocol, `unexpected control message ${msg.type} from mecom send`));
      }
    });
  }

  private async onHello(hello: HelloBody): Promise<void> {
    if (this.state !== 'handshaking') {
      return this.fail(new AgentError(AgentCodes.protocol, `HELLO arrived in state ${this.state}`));
    }
    if (hello.protocol !== PROTOCOL_VERSION || hello.frameVersion !== FRAME_VERSION) {
      const reason = `version mismatch: sender speaks protocol ${hello.protocol} / frame ${hello.frameVersion}, receiver ${PROTOCOL_VERSION} / ${FRAME_VERSION}`;
      this.peer!.finish({ type: ControlType.Reject, body: { reason, code: AgentCodes.handshake } });
      return this.fail(new AgentError(AgentCodes.handshake, reason));
    }
    // Hold the sender's data until QEMU is connected: frames must not pile up here.
    this.peer!.socket.pause();
    try {
      this.qemu = await connectTo(this.opts.to, 'destination QEMU');
    } catch (err) {
      const e = asMecomError(err);
      this.peer!.finish({ type: ControlType.Reject, body: { reason: e.message, code: e.code } });
      return this.fail(e);
    }
    if (this.state !== 'handshaking') {
      this.qemu.destroy();
      return;
    }
    this.qemu.on('error', (err) => {
      this.qemuError = err;
      this.fail(new AgentError(AgentCodes.qemuLost, `destination QEMU connection failed: ${err.message}`, { cause: err }));
    });
    this.qemu.on('data', () => {}); // QEMU sends nothing without a return path; drain anyway.
    this.setState('streaming');
    this.peer!.send({ type: ControlType.Welcome, body: { protocol: PROTOCOL_VERSION, frameVersion: FRAME_VERSION } });
    this.elu = performance.eventLoopUtilization();
    this.statusAt = performance.now();
    this.statusTimer = setInterval(() => this.sendStatus(), STATUS_INTERVAL_MS);
    this.statusTimer.unref();
    this.peer!.socket.resume();
  }

  /**
   * LINKTEST: time the second half of the sender's filler (the first may pass a shaper's burst
   * at line rate) and answer the last message with LINKRATE. Only before the first frame.
   */
  private onLinkTest(seq: number, of: number): void {
    if (this.state !== 'streaming' || this.frames > 0 || !(of >= 2) || !(seq >= 0 && seq < of)) {
      return this.fail(new AgentError(AgentCodes.protocol, `LINKTEST ${seq}/${of} in state ${this.state} after ${this.frames} frames`));
    }
    const half = Math.floor(of / 2) - 1;
    if (seq === half) this.linkTestHalf = { at: performance.now(), seq };
    if (seq === of - 1 && this.linkTestHalf) {
      const ms = performance.now() - this.linkTestHalf.at;
      this.peer!.send({ type: ControlType.LinkRate, body: { bytes: (seq - this.linkTestHalf.seq) * LINK_TEST_MESSAGE_BYTES, ms: Math.round(ms * 1000) / 1000 } });
      this.linkTestHalf = undefined;
    }
  }

  private onFrame(bytes: Uint8Array): void {
    if (this.state !== 'streaming') {
      return this.fail(new AgentError(AgentCodes.protocol, `frame arrived in state ${this.state}`));
    }
    // The pool resolves, in arrival order, with a verified span this frame alone uses: a copy,
    // or for a frame of glue only a view of the frame (`owned`: nothing writes to the frame
    // while that view is in use). `bytes` is a pooled buffer: back to the pool once decoded, or,
    // when the span is a view of it, once QEMU's socket is done with the span. A frame for the
    // workers moves to one instead of being copied (`transfer`; only our own buffers, never a
    // view of Node's shared read slabs).
    this.pool.submit(bytes, { owned: true, transfer: this.frameBuffers.owns(bytes), deferChained: true }).then(
      ({ span, pageCount, chained }) => {
        if (span.buffer === bytes.buffer) return this.onDecoded(span, pageCount, chained, () => this.frameBuffers.release(bytes));
        this.frameBuffers.release(bytes);
        this.onDecoded(span, pageCount, chained);
      },
      (err) => {
        this.frameBuffers.release(bytes);
        this.fail(asMecomError(err));
      },
    );
    this.updatePause();
  }

  /**
   * `span` in stream order; `chained`: its frame's check, still to run (with the digest through
   * this span); `written`: runs once QEMU's socket is done with `span`.
   */
  private onDecoded(span: Uint8Array, pageCount: number, chained: ChainCheck | undefined, written?: () => void): void {
    if (this.state !== 'streaming') return;
    this.digest.update(span);
    if (chained) {
      try {
        verifyChained(chained, this.digest.digest());
      } catch (err) {
        written?.();
        return this.fail(asMecomError(err));
      }
    }
    this.frames++;
    this.pages += pageCount;
    this.streamBytes += span.byteLength;
    const queued = written ? this.qemu!.write(span, written) : this.qemu!.write(span);
    if (!queued && this.qemu!.writableLength > QEMU_QUEUE_BYTES && !this.qemuFull) {
      this.qemuFull = true;
      this.qemuFullSince = performance.now();
      this.qemu!.once('drain', () => {
        this.qemuFull = false;
        this.qemuWaitMs += performance.now() - this.qemuFullSince;
        this.updatePause();
      });
    }
    this.updatePause();
  }

  /** Tell the sender how loaded we are (STATUS), so its cost model can tell us from the link. */
  private sendStatus(): void {
    if (this.state !== 'streaming' || !this.peer) return;
    const now = performance.now();
    const ms = now - this.statusAt;
    if (ms <= 0) return;
    let wait = this.qemuWaitMs;
    if (this.qemuFull) {
      wait += now - this.qemuFullSince;
      this.qemuFullSince = now;
    }
    const elu = performance.eventLoopUtilization(this.elu);
    this.elu = performance.eventLoopUtilization();
    this.statusAt = now;
    this.qemuWaitMs = 0;
    const round = (x: number) => Math.round(Math.min(1, Math.max(0, x)) * 1000) / 1000;
    this.peer.send({ type: ControlType.Status, body: { ms: Math.round(ms), busy: round(elu.utilization), qemuWait: round(wait / ms) } });
  }

  private stopStatus(): void {
    if (this.statusTimer) clearInterval(this.statusTimer);
    this.statusTimer = undefined;
  }

  /** Read from the sender only while QEMU takes data and the pool has room. */
  private updatePause(): void {
    if (!this.peer || this.state !== 'streaming') return;
    const hold = this.qemuFull || this.pool.full;
    if (hold && !this.peerPaused) {
      this.peerPaused = true;
      this.peer.socket.pause();
    } else if (!hold && this.peerPaused) {
      this.peerPaused = false;
      this.peer.socket.resume();
    }
  }

  private onEnd(streamBytes: number, digest: string): void {
    if (this.state !== 'streaming') {
      return this.fail(new AgentError(AgentCodes.protocol, `END arrived in state ${this.state}`));
    }
    // Frames before END may still be decoding: verify once the last one was written.
    void this.pool.drained().then(() => {
      if (this.state === 'streaming') this.verifyEnd(streamBytes, digest);
    });
  }

  private verifyEnd(streamBytes: number, digest: string): void {
    const mine = this.digest.digest().toString(16).padStart(16, '0');
    if (streamBytes !== this.streamBytes || digest !== mine) {
      return this.fail(new AgentError(AgentCodes.digest, `stream digest mismatch: sender ${streamBytes} bytes / ${digest}, rebuilt ${this.streamBytes} / ${mine}`));
    }
    // Every byte is in QEMU's socket; only then do we say "verified".
    this.qemu!.end(() => {
      if (this.qemuError) return; // fail() already ran
      if ((this.state as ReceiverState) !== 'streaming') return;
      this.stopStatus();
      this.setState('verified');
      void this.pool.close();
      this.peer!.finish({ type: ControlType.Verified, body: { streamBytes: this.streamBytes, digest: mine } });
      this.settle.resolve(this.stats());
    });
  }

  private fail(err: MecomError): void {
    if (this.state === 'verified' || this.state === 'failed') return;
    this.setState('failed');
    this.stopStatus();
    void this.pool.close();
    // Cut the destination first: it must fail its load, never run on unverified memory.
    this.qemu?.destroy();
    this.server?.close();
    this.peer?.abort(err);
    this.settle.reject(err);
  }

  private setState(s: ReceiverState): void {
    this.state = s;
    this.emit('state', s);
  }
}

/** How often the receiver reports its load (STATUS) while streaming. */
const STATUS_INTERVAL_MS = 50;

/**
 * Bytes queued for the destination QEMU before we stop reading frames. A local socket that
 * drains fast; Node's 16 KiB high-water mark would stop us after every frame (docs/wire-protocol.md
 * "Flow control").
 */
const QEMU_QUEUE_BYTES = 4 << 20;
