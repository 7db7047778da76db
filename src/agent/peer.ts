/**
 * The agent-to-agent TCP connection: splits the byte stream into envelopes (frames and control
 * messages), counts bytes both ways, and turns control traffic into typed messages.
 */
import type net from 'node:net';
import { EventEmitter } from 'node:events';
import { EnvelopeReader } from '../wire/envelope.js';
import { CONTROL_MAGIC, ControlMessage, ControlType, decodeControl, encodeControl } from '../wire/control.js';
import { FRAME_MAGIC, FRAME_MAX_LENGTH } from '../wire/frame-format.js';
import { MecomError } from '../errors.js';
import { AgentCodes, AgentError } from './errors.js';
import { readIntoTargets } from './read-buffer.js';
import type { BufferPool } from '../wire/buffer-pool.js';

export interface PeerEvents {
  control: [ControlMessage];
  frame: [Uint8Array];
  error: [MecomError];
  close: [];
}

/** Messages this long or longer go into pooled buffers: frames of a batch, not control messages. */
const POOLED_MESSAGE_BYTES = 64 * 1024;

export class Peer extends EventEmitter<PeerEvents> {
  readonly socket: net.Socket;
  bytesOut = 0;
  bytesIn = 0;
  private readonly reader: EnvelopeReader;
  private closed = false;
  /** The reader refused the stream: reads from here on go to `scratch` and are dropped. */
  private failedReading = false;
  private readonly scratch = new Uint8Array(64 * 1024);

  /**
   * `buffers`: where frames read from the socket are put (control messages are small and get
   * buffers of their own); a 'frame' handler gives each back with `buffers.release` when done.
   */
  constructor(socket: net.Socket, private readonly what: string, buffers?: BufferPool) {
    super();
    this.socket = socket;
    const alloc = buffers ? (n: number) => (n >= POOLED_MESSAGE_BYTES ? buffers.acquire(n) : new Uint8Array(n)) : undefined;
    this.reader = new EnvelopeReader({ maxLength: FRAME_MAX_LENGTH, magics: [FRAME_MAGIC, CONTROL_MAGIC], alloc });
    // Frames are up to a few MiB: the socket reads each straight into its own buffer
    // (src/agent/read-buffer.ts, src/wire/envelope.ts `readTarget`), no copy; Node's own 64 KiB
    // reads cost several times the CPU, and a reused read buffer costs a copy of every byte.
    if (!readIntoTargets(socket, () => this.readTarget(), (n) => this.onRead(n))) socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(new AgentError(AgentCodes.peerLost, `connection to ${what} failed: ${err.message}`, { cause: err })));
    socket.on('close', () => {
      this.closed = true;
      this.emit('close');
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Write one message; false means the socket's buffer is full (wait for 'drain'). `written`
   * runs once the kernel has the bytes (or the write failed): `bytes` may be reused then.
   */
  write(bytes: Uint8Array, written?: () => void): boolean {
    this.bytesOut += bytes.byteLength;
    return written ? this.socket.write(bytes, written) : this.socket.write(bytes);
  }

  send(msg: ControlMessage): boolean {
    return this.write(encodeControl(msg));
  }

  /** Send a last control message and close our side once it is flushed. */
  finish(msg?: ControlMessage): void {
    if (this.closed) return;
    if (msg) this.socket.end(encodeControl(msg));
    else this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Tell the other agent why we stop (best effort), then close; a deaf peer is cut after 1 s. */
  abort(err: MecomError): void {
    if (this.closed) return;
    this.finish({ type: ControlType.Abort, body: { reason: err.message, code: err.code } });
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  /** Where the socket reads next; after a failure, a scratch buffer (the socket is being destroyed). */
  private readTarget(): Uint8Array {
    if (this.failedReading) return this.scratch;
    try {
      return this.reader.readTarget();
    } catch {
      return this.scratch;
    }
  }

  private onRead(n: number): void {
    if (this.failedReading) return;
    this.bytesIn += n;
    this.deliver(() => this.reader.commitRead(n));
  }

  private onData(chunk: Buffer): void {
    this.bytesIn += chunk.length;
    this.deliver(() => this.reader.push(chunk));
  }

  /** Feed the reader, then emit every message it completed. */
  private deliver(feed: () => void): void {
    try {
      feed();
      for (let m = this.reader.next(); m !== null; m = this.reader.next()) {
        if (m.magic === CONTROL_MAGIC) this.emit('control', decodeControl(m.bytes));
        else this.emit('frame', m.bytes);
      }
    } catch (err) {
      this.failedReading = true;
      this.fail(err instanceof MecomError ? err : new AgentError(AgentCodes.protocol, `bad data from ${this.what}: ${(err as Error).message}`, { cause: err }));
    }
  }

  private fail(err: MecomError): void {
    this.emit('error', err);
    this.socket.destroy();
  }
}
