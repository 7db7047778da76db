/**
 * `mecom send`: accepts QEMU's outgoing migration connection, parses the stream, batches RAM
 * pages, compresses them into frames and ships them to `mecom receive`.
 *
 * States (one transition each way, anything else is refused):
 *   connecting -> ready       handshake with the receiver accepted
 *   ready      -> streaming   QEMU connected
 *   streaming  -> draining    QEMU closed its side cleanly; END sent, waiting for VERIFIED
 *   draining   -> done        the receiver proved the rebuilt stream identical
 *   any        -> failed      first error wins; QEMU's connection is cut so the source resumes
 *
 * Backpressure: when the receiver's socket buffer is full, or the encode pool holds its limit of
 * batches in flight, we stop reading from QEMU (src/agent/qemu-gate.ts), so QEMU's bandwidth
 * estimate (and its convergence decision) sees the compressed wire, not our buffers.
 *
 * Encoding runs on an EncodePool (worker threads, src/wire/codec-pool.ts); frames come back and
 * are written in batch order. With policy `adaptive` the pool's cost model picks the codec per
 * page class from measured codec speeds and ratios, the link's drain rate, QEMU's own rate and
 * the host's free cores (ModelFeed, src/agent/model-feed.ts) and the receiver's load reports
 * (STATUS); its decision is in `stats().model`. Batches it sends all raw pass through as frames
 * of glue only, built here (src/wire/span-frame.ts), without a trip to a worker.
 */
import net from 'node:net';
import { EventEmitter } from 'node:events';
import { MecomError, asMecomError } from '../errors.js';
import { QemuStreamParser } from '../qemu/stream-parser.js';
import type { CodecPolicy } from '../wire/frame-encode.js';
import { EncodePool } from '../wire/codec-pool.js';
import { ControlType, PROTOCOL_VERSION } from '../wire/control.js';
import { FRAME_VERSION } from '../wire/frame-format.js';
import { Address, connectTo, formatAddress, listenOn, listeningPort } from './address.js';
import { AgentCodes, AgentError } from './errors.js';
import { Peer } from './peer.js';
import { readIntoBuffer } from './read-buffer.js';
import { ModelFeed } from './model-feed.js';
import { Batcher } from './batcher.js';
import { StreamDigest } from './stream-digest.js';
import { warmUpCostModel, warmUpStreamPath } from './warmup.js';
import { LinkTest } from './link-test.js';
import { QemuGate } from './qemu-gate.js';
import { ModelView, type ModelReport } from './model-view.js';

export interface SenderOptions {
  /** Where QEMU connects (`migrate tcp:...`). Port 0 picks a free port. */
  listen: Address;
  /** The receiver agent. */
  to: Address;
  policy: CodecPolicy;
  batchPages: number;
  /** Default: see PageEncoderOptions.zstdLevel. */
  zstdLevel?: number;
  /** A batch that stops growing is sent after this long, so no page waits on a quiet stream. */
  flushDelayMs?: number;
  /** Encode worker threads (default cores - 1, at least 1). */
  threads?: number;
  /** CPU budget of the encode workers, percent of one core (default: unlimited). */
  maxCpuPercent?: number;
  /** Cost model for policy adaptive (default on; false = the page classifier alone). */
  model?: boolean;
  /** Trials of the model's plan against its plan with the whole CPU budget (default off; src/agent/plan-trial.ts). */
  trials?: boolean;
}

export type SenderState = 'connecting' | 'ready' | 'streaming' | 'draining' | 'done' | 'failed';

export interface SenderStats {
  streamBytes: number;
  wireBytes: number;
  frames: number;
  /** Reads of QEMU's socket (chunks of the stream). */
  qemuReads: number;
  pages: number;
  zeroPages: number;
  rounds: number;
  pagesByCodec: Record<string, number>;
  /** Encode worker threads. */
  threads: number;
  /** The link test's result (MB/s), the cost model's starting link estimate; absent without one. */
  linkTestMBps?: number;
  /** Cost model decision (policy adaptive): link estimate, choice per page class, trials, ... */
  model?: ModelReport;
}

export interface SenderEvents {
  state: [SenderState];
  /** Stream bytes arrived (once per chunk from QEMU): call `stats()` for the counters. */
  progress: [];
}

export class Sender extends EventEmitter<SenderEvents> {
  state: SenderState = 'connecting';
  private server?: net.Server;
  private peer?: Peer;
  private qemu?: net.Socket;
  /** The one hashing pass over QEMU's bytes: END's digest and the pass-through frames' chained checksums. */
  private readonly digest = new StreamDigest();
  private frames = 0;
  private qemuReads = 0;
  /** The parser's sink: batches for the workers or pass-through frames (src/agent/batcher.ts). */
  private readonly batcher: Batcher;
  private readonly pool: EncodePool;
  private readonly parser: QemuStreamParser;
  private flushTimer?: NodeJS.Timeout;
  /** Holds QEMU's socket while the receiver's socket or the pool is full (from QEMU's connection on). */
  private gate?: QemuGate;
  private meterTimer?: NodeJS.Timeout;
  private readonly linkTest = new LinkTest();
  private linkTestBps?: number;
  /** The model's decision for stats(): in full, or in brief for progress events. */
  private readonly modelView = new ModelView(() => this.pool.modelSnapshot(), () => this.feed?.trials);
  /** Measurements for the cost model (policy adaptive with the model on). */
  private readonly feed?: ModelFeed;
  private settle!: { resolve: (s: SenderStats) => void; reject: (e: MecomError) => void };
  /** Resolves once the receiver verified the whole stream; rejects with the first failure. */
  readonly done: Promise<SenderStats>;

  constructor(private readonly opts: SenderOptions) {
    super();
    this.pool = new EncodePool({
      policy: opts.policy, zstdLevel: opts.zstdLevel, threads: opts.threads, maxCpuPercent: opts.maxCpuPercent, model: opts.model !== false,
      // ModelFeed tells the model the host's free cores: costs must then be CPU time.
      cpuTimeCosts: true,
    });
    this.pool.onAvailable(() => this.gate?.update());
    if (this.pool.model) this.feed = new ModelFeed(this.pool.model, this.pool.threads, opts.trials === true);
    this.batcher = new Batcher(this.pool, opts.batchPages, () => this.flush(), (frame) => this.writeFrame(frame), (err) => this.fail(asMecomError(err)), this.digest);
    this.parser = new QemuStreamParser(this.batcher);
    this.done = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    this.done.catch(() => {}); // observed through fail(); avoid unhandled rejections
  }

  /** Listen for QEMU and connect to the receiver; resolves with the port QEMU must use. */
  async start(): Promise<number> {
    const peerSocket = await connectTo(this.opts.to, 'mecom receive');
    const peer = (this.peer = new Peer(peerSocket, `mecom receive at ${formatAddress(this.opts.to)}`));
    peer.on('error', (err) => this.fail(err));
    peer.on('close', () => {
      if (this.state !== 'done') this.fail(new AgentError(AgentCodes.peerLost, 'mecom receive closed the connection before the migration ended'));
    });
    peer.on('frame', () => this.fail(new AgentError(AgentCodes.protocol, 'mecom receive sent a frame; only control messages go this way')));
    const welcomed = new Promise<void>((resolve, reject) => {
      peer.on('control', (msg) => {
        switch (msg.type) {
          case ControlType.Welcome:
            if (this.state !== 'connecting') return this.fail(new AgentError(AgentCodes.protocol, 'unexpected WELCOME'));
            this.setState('ready');
            return resolve();
          case ControlType.Reject: {
            const err = new AgentError(AgentCodes.handshake, `mecom receive refused the handshake: ${msg.body.reason}`);
            reject(err);
            return this.fail(err);
          }
          case ControlType.Status:
            // Load reports may arrive until VERIFIED; before WELCOME one is a protocol error.
            if (this.state === 'connecting') return this.fail(new AgentError(AgentCodes.protocol, 'STATUS before WELCOME'));
            this.pool.model?.setReceiverLoad(msg.body.busy, msg.body.qemuWait);
            return;
          case ControlType.LinkRate:
            if (!this.linkTest.started) return this.fail(new AgentError(AgentCodes.protocol, 'LINKRATE without a link test'));
            return this.linkTest.onRate(msg.body);
          case ControlType.Verified:
            return this.onVerified(msg.body.streamBytes, msg.body.digest);
          case ControlType.Abort:
            return this.fail(new AgentError(AgentCodes.aborted, `mecom receive aborted: ${msg.body.reason}`));
          default:
            return this.fail(new AgentError(AgentCodes.protocol, `unexpected control message ${msg.type} from mecom receive`));
        }
      });
      this.done.catch(reject);
    });
    peer.send({
      type: ControlType.Hello,
      body: {
        protocol: PROTOCOL_VERSION,
        frameVersion: FRAME_VERSION,
        policy: this.opts.policy,
        batchPages: this.opts.batchPages,
        software: 'mecom/0.1.0',
      },
    });
    // Listen for QEMU only once the workers are warmed up: their start-up (tens of ms idle,
    // hundreds on a loaded host) must not stall the first batches of the migration. This
    // thread's per-page path is warmed up meanwhile (src/agent/warmup.ts), after the link test:
    // the warm-up holds this thread for ms at a time, which would count as link time.
    const ready = this.pool.ready();
    await welcomed;
    await this.testLink();
    if (this.pool.model) warmUpCostModel(this.pool.threads);
    await Promise.all([ready, warmUpStreamPath(this.opts.batchPages)]);
    this.server = await listenOn(this.opts.listen);
    this.server.on('connection', (sock) => this.onQemu(sock));
    return listeningPort(this.server);
  }

  /** The link test (src/agent/link-test.ts); its result is the cost model's starting link estimate. */
  private async testLink(): Promise<void> {
    if (!this.feed) return;
    // A failure meanwhile (the receiver gone) ends the start-up with it.
    const bps = await this.linkTest.run((m) => this.peer!.write(m), this.done);
    if (bps === undefined) return;
    this.linkTestBps = bps;
    this.feed.setLinkPrior(bps);
  }

  /** Counters so far; `full` adds the cost model's per-codec measurements (for the done event). */
  stats(full = false): SenderStats {
    const s = this.parser.stats;
    return {
      streamBytes: this.digest.length,
      wireBytes: this.peer?.bytesOut ?? 0,
      frames: this.frames,
      qemuReads: this.qemuReads,
      pages: s.pages,
      zeroPages: s.zeroPages,
      rounds: s.ramSections,
      pagesByCodec: this.pool.pagesByCodec(),
      threads: this.pool.threads,
      ...(this.linkTestBps !== undefined ? { linkTestMBps: Math.round(this.linkTestBps / 1e5) / 10 } : {}),
      model: full ? this.modelView.full() : this.modelView.brief(),
    };
  }

  /** Stop everything; the source QEMU sees its connection cut and resumes its guest. */
  abort(reason: string): void {
    this.fail(new AgentError(AgentCodes.aborted, reason));
  }

  private onQemu(sock: net.Socket): void {
    if (this.state !== 'ready') {
      // One migration per agent: a second connection would interleave two streams.
      sock.destroy();
      return;
    }
    this.qemu = sock;
    this.gate = new QemuGate(sock, this.peer!.socket, () => this.pool.full);
    this.server?.close();
    this.setState('streaming');
    this.meterTimer = setInterval(() => this.sampleMeters(), METER_INTERVAL_MS);
    this.meterTimer.unref();
    // The parser and the batch builders copy what they keep, so QEMU's stream can be read into
    // one reused buffer (src/agent/read-buffer.ts): a fraction of the CPU of Node's own reads.
    if (!readIntoBuffer(sock, (chunk) => this.onQemuData(chunk))) sock.on('data', (chunk: Buffer) => this.onQemuData(chunk));
    sock.on('end', () => this.onQemuEnd());
    sock.on('error', (err) => this.fail(new AgentError(AgentCodes.qemuLost, `source QEMU connection failed: ${err.message}`, { cause: err })));
  }

  private onQemuData(chunk: Buffer): void {
    if (this.state !== 'streaming') return;
    this.qemuReads++;
    // The chunk is QEMU's socket's reused read buffer: intact until this returns, no longer.
    this.digest.beginChunk(chunk);
    this.batcher.beginChunk(chunk);
    try {
      this.parser.push(chunk);
      this.digest.endChunk(this.batcher.handedOut);
    } catch (err) {
      return this.fail(asMecomError(err));
    } finally {
      this.batcher.endChunk();
    }
    if (this.batcher.pending) this.armFlush();
    // No counters built here: at 10 Gbit/s this runs thousands of times a second and listeners
    // rate-limit themselves (stats() and its model view were 8% of this thread's profile there).
    this.emit('progress');
  }

  private onQemuEnd(): void {
    if (this.state !== 'streaming') return;
    try {
      this.parser.end();
      this.flush();
    } catch (err) {
      return this.fail(asMecomError(err));
    }
    if (this.state !== 'streaming') return; // the flush failed the migration
    this.setState('draining');
    // END goes after the last frame: wait until every batch in the pool was written.
    this.pool.drained().then(() => {
      if (this.state !== 'draining') return;
      let digest: string;
      try {
        digest = this.digest.final().toString(16).padStart(16, '0');
      } catch (err) {
        return this.fail(asMecomError(err));
      }
      this.peer!.send({ type: ControlType.End, body: { streamBytes: this.digest.length, digest, frames: this.frames } });
    });
  }

  private onVerified(streamBytes: number, digest: string): void {
    if (this.state !== 'draining') {
      return this.fail(new AgentError(AgentCodes.protocol, `VERIFIED arrived in state ${this.state}`));
    }
    const mine = this.digest.final().toString(16).padStart(16, '0');
    if (streamBytes !== this.digest.length || digest !== mine) {
      return this.fail(new AgentError(AgentCodes.digest, `receiver verified ${streamBytes} bytes / ${digest}, sender sent ${this.digest.length} / ${mine}`));
    }
    this.setState('done');
    this.peer!.finish();
    this.stopWorkers();
    this.settle.resolve(this.stats(true));
  }

  private armFlush(): void {
    // One timer for the whole stream, re-armed per chunk (a new Timeout per frame was a few
    // percent of this thread's time on a fast link); it flushes only what is still pending.
    if (this.flushTimer) this.flushTimer.refresh();
    else this.flushTimer = setTimeout(() => { if (this.batcher.pending) this.flush(); }, this.opts.flushDelayMs ?? 2);
  }

  private flush(): void {
    if (this.state !== 'streaming' && this.state !== 'draining') return;
    try {
      this.batcher.submit(); // its frames come back to writeFrame in stream order
    } catch (err) {
      // From the flush timer too: a broken invariant (the stream digest's) fails the migration
      // instead of escaping as an uncaught exception.
      return this.fail(asMecomError(err));
    }
    this.gate?.update();
  }

  private writeFrame(frame: Uint8Array): void {
    if (this.state !== 'streaming' && this.state !== 'draining') return;
    this.frames++;
    const accepted = this.peer!.write(frame, () => this.batcher.release(frame));
    this.gate?.wrote(accepted, this.queueLimit());
  }

  /** Bytes of frames allowed to wait in user space for the link (see SOCKET_QUEUE_SECONDS). */
  private queueLimit(): number {
    if (!this.pool.model) return 0;
    return Math.min(SOCKET_QUEUE_MAX_BYTES, this.pool.model.link * SOCKET_QUEUE_SECONDS);
  }

  /** Feed the cost model (src/agent/model-feed.ts). */
  private sampleMeters(): void {
    if (!this.feed || !this.peer) return;
    const now = performance.now();
    const paused = this.gate?.takeHeldMs(now) ?? 0;
    this.feed.sample({
      now, bytesOut: this.peer.bytesOut, queued: this.peer.socket.writableLength, streamBytes: this.digest.length,
      pausedMs: paused, workerSeconds: this.pool.cpuSeconds, passThroughFrames: this.pool.passThroughFrames,
    });
  }

  private stopWorkers(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.meterTimer) clearInterval(this.meterTimer);
    this.meterTimer = undefined;
    this.feed?.close();
    void this.pool.close();
  }

  private fail(err: MecomError): void {
    if (this.state === 'done' || this.state === 'failed') return;
    this.setState('failed');
    this.stopWorkers();
    // Cut QEMU first: the source sees the migration fail and keeps its guest running.
    this.qemu?.destroy();
    this.server?.close();
    this.peer?.abort(err);
    this.settle.reject(err);
  }

  private setState(s: SenderState): void {
    this.state = s;
    this.emit('state', s);
  }
}

/**
 * Bytes that may queue in the receiver's socket before QEMU's reads stop, as time on the link:
 * what QEMU cannot see is added to the guest's pause at switchover (docs/wire-protocol.md "Flow
 * control"). On a slow link this is below one frame, i.e. reads stop after every frame until the
 * socket drained; on a fast one a few frames keep the link busy while the next is built.
 */
const SOCKET_QUEUE_SECONDS = 0.004;
const SOCKET_QUEUE_MAX_BYTES = 4 << 20;


/** How often the link and source meters are sampled. */
const METER_INTERVAL_MS = 10;
