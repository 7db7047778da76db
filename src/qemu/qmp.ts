/**
 * QMP client over QEMU's unix socket (`-qmp unix:PATH,server=on,wait=off`).
 *
 * QMP speaks one JSON object per line: a greeting {"QMP": {...}}, then after
 * `qmp_capabilities` replies {"return"|"error", "id"} and asynchronous events
 * {"event", "data", "timestamp"}. Replies are matched to commands by `id`.
 * Failures are typed: MECOM_QMP_ERROR (QEMU's class/desc), MECOM_QMP_TIMEOUT,
 * MECOM_QMP_CLOSED (socket lost: every pending command is rejected).
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { QmpClosedError, QmpError, QmpTimeoutError } from './errors.js';

export interface QmpTimestamp {
  seconds: number;
  microseconds: number;
}

export interface QmpEvent {
  name: string;
  data: Record<string, unknown>;
  timestamp: QmpTimestamp;
}

export interface QmpConnectOptions {
  /** Deadline for connect + greeting + qmp_capabilities, and the default per command. */
  timeoutMs?: number;
}

interface Pending {
  command: string;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** A QMP line longer than this is not QMP (query replies are a few KB). */
const MAX_LINE = 16 * 1024 * 1024;

/**
 * Events: `on('event', (name, data, timestamp) => ...)` for every QMP event,
 * `on('close', (err?) => ...)` once when the connection is gone.
 */
export class QmpClient extends EventEmitter {
  /** The greeting's QMP.version (e.g. { qemu: { major: 10, minor: 0, micro: 2 } }). */
  greeting: Record<string, unknown> = {};
  private readonly sock: net.Socket;
  private readonly defaultTimeoutMs: number;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private buf = '';
  private closed: QmpClosedError | undefined;
  private onGreeting: ((g: Record<string, unknown>) => void) | undefined;

  private constructor(sock: net.Socket, defaultTimeoutMs: number) {
    super();
    this.sock = sock;
    this.defaultTimeoutMs = defaultTimeoutMs;
    sock.setEncoding('utf8');
    sock.on('data', (s: string) => this.onData(s));
    sock.on('error', (err) => this.shutdown(new QmpClosedError(`QMP socket error: ${err.message}`, err)));
    sock.on('close', () => this.shutdown(new QmpClosedError('QMP connection closed')));
  }

  /** Connects, reads the greeting and leaves capabilities negotiation mode. */
  static async connect(socketPath: string, opts: QmpConnectOptions = {}): Promise<QmpClient> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const sock = net.createConnection({ path: socketPath });
    const client = new QmpClient(sock, timeoutMs);
    let timer: NodeJS.Timeout | undefined;
    try {
      const greeting = new Promise<Record<string, unknown>>((resolve, reject) => {
        client.onGreeting = resolve;
        client.once('close', (err?: Error) => reject(err ?? new QmpClosedError('QMP connection closed')));
        timer = setTimeout(() => reject(new QmpTimeoutError(`greeting on ${socketPath}`, timeoutMs)), timeoutMs);
      });
      client.greeting = await greeting;
      await client.execute('qmp_capabilities', undefined, { timeoutMs });
      return client;
    } catch (err) {
      client.close();
      if (err instanceof QmpClosedError) throw new QmpClosedError(`cannot connect to QMP at ${socketPath}: ${err.message}`, err.cause ?? err);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Runs a command; resolves with its "return" value. */
  execute(command: string, args?: Record<string, unknown>, opts: { timeoutMs?: number } = {}): Promise<unknown> {
    if (this.closed) return Promise.reject(this.closed);
    const id = this.nextId++;
    const timeoutMs = opts.timeoutMs ?? this.defaultTimeoutMs;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new QmpTimeoutError(command, timeoutMs));
      }, timeoutMs);
      this.pending.set(id, { command, resolve, reject, timer });
      const msg: Record<string, unknown> = { execute: command, id };
      if (args !== undefined) msg.arguments = args;
      this.sock.write(JSON.stringify(msg) + '\n');
    });
  }

  /** Resolves with the next event `name` for which `predicate` holds (events before the call are not seen). */
  waitForEvent(name: string, predicate: (data: Record<string, unknown>) => boolean = () => true,
    timeoutMs: number = this.defaultTimeoutMs): Promise<QmpEvent> {
    if (this.closed) return Promise.reject(this.closed);
    return new Promise((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        this.off('event', onEvent);
        this.off('close', onClose);
      };
      const onEvent = (ev: string, data: Record<string, unknown>, timestamp: QmpTimestamp): void => {
        if (ev !== name) return;
        let ok: boolean;
        try {
          ok = predicate(data);
        } catch (err) {
          cleanup();
          reject(err as Error);
          return;
        }
        if (!ok) return;
        cleanup();
        resolve({ name: ev, data, timestamp });
      };
      const onClose = (err?: Error): void => {
        cleanup();
        reject(err ?? new QmpClosedError('QMP connection closed'));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new QmpTimeoutError(`waiting for event ${name}`, timeoutMs));
      }, timeoutMs);
      this.on('event', onEvent);
      this.on('close', onClose);
    });
  }

  get isClosed(): boolean {
    return this.closed !== undefined;
  }

  /** Closes the socket; pending commands reject with MECOM_QMP_CLOSED. */
  close(): void {
    this.shutdown(new QmpClosedError('QMP client closed'));
    this.sock.destroy();
  }

  private shutdown(err: QmpClosedError): void {
    if (this.closed) return;
    this.closed = err;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new QmpClosedError(`QMP ${p.command}: ${err.message}`, err.cause));
    }
    this.pending.clear();
    this.emit('close', err);
  }

  private onData(s: string): void {
    this.buf += s;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl).trim();
      this.buf = this.buf.slice(nl + 1);
      if (line) this.onLine(line);
    }
    if (this.buf.length > MAX_LINE) {
      this.shutdown(new QmpClosedError(`QMP line over ${MAX_LINE} bytes`));
      this.sock.destroy();
    }
  }

  private onLine(line: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line) as Record<string, unknown>;
    } catch {
      this.shutdown(new QmpClosedError(`not QMP: ${line.slice(0, 80)}`));
      this.sock.destroy();
      return;
    }
    if ('QMP' in msg) {
      const g = this.onGreeting;
      this.onGreeting = undefined;
      g?.(msg.QMP as Record<string, unknown>);
      return;
    }
    if (typeof msg.event === 'string') {
      const ts = (msg.timestamp ?? { seconds: 0, microseconds: 0 }) as QmpTimestamp;
      this.emit('event', msg.event, (msg.data ?? {}) as Record<string, unknown>, ts);
      return;
    }
    const id = msg.id;
    if (typeof id !== 'number') return; // a reply to a command we did not send with an id
    const p = this.pending.get(id);
    if (!p) return; // timed out already
    this.pending.delete(id);
    clearTimeout(p.timer);
    if ('error' in msg) {
      const e = (msg.error ?? {}) as { class?: string; desc?: string };
      p.reject(new QmpError(p.command, e.class ?? 'GenericError', e.desc ?? 'unknown error'));
    } else {
      p.resolve(msg.return);
    }
  }
}
