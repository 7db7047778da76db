/**
 * The `pipe-zstd` baseline: plain QEMU migration through a generic compressing tunnel, the way
 * one would wrap any TCP stream (xen-api's external zstd process, `zstd | nc`). One end listens
 * where QEMU connects and compresses the whole byte stream with zstd level 1; the other end,
 * inside the destination's namespace, decompresses and connects to the destination QEMU.
 * Buffers are bounded (stream backpressure both ways); the compressor is flushed whenever the
 * input goes quiet (once per event-loop turn with input), so nothing QEMU sent waits for more
 * input to arrive. The reverse direction (QEMU's return path, if any) is passed through raw.
 *
 * `serveTunnel` runs in the `mecom tunnel` process; `TunnelProcess` starts that process.
 */
import net from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Transform } from 'node:stream';
import { CompressStream, DecompressStream } from 'zstd-napi';
import { MecomError } from '../errors.js';

export type TunnelRole = 'compress' | 'decompress';

export interface TunnelStats {
  /** Bytes read from the local side (QEMU's stream for compress, the tunnel for decompress). */
  inBytes: number;
  outBytes: number;
}

/** Pipes `from` into `to` through `xf` with backpressure; the transform is flushed when input pauses. */
function pump(from: net.Socket, xf: Transform & { flush?: (cb?: () => void) => void }, to: net.Socket, stats: TunnelStats, flushOnIdle: boolean): void {
  let flushQueued = false;
  from.on('data', (chunk: Buffer) => {
    stats.inBytes += chunk.length;
    if (!xf.write(chunk)) from.pause();
    if (flushOnIdle && !flushQueued) {
      flushQueued = true;
      setImmediate(() => {
        flushQueued = false;
        if (!xf.writableEnded) xf.flush?.();
      });
    }
  });
  xf.on('drain', () => from.resume());
  xf.on('data', (out: Buffer) => {
    stats.outBytes += out.length;
    if (!to.write(out)) xf.pause();
  });
  to.on('drain', () => xf.resume());
  from.on('end', () => xf.end());
  xf.on('end', () => to.end());
}

/** Serves tunnel connections until the process is stopped; reports through `onEvent`. */
export function serveTunnel(opts: {
  role: TunnelRole;
  listen: { host: string; port: number };
  to: { host: string; port: number };
  level?: number;
  onEvent: (ev: Record<string, unknown>) => void;
}): Promise<net.Server> {
  const server = net.createServer((local) => {
    const stats: TunnelStats = { inBytes: 0, outBytes: 0 };
    const remote = net.connect(opts.to.port, opts.to.host);
    local.setNoDelay(true);
    remote.setNoDelay(true);
    const xf = opts.role === 'compress' ? new CompressStream({ compressionLevel: opts.level ?? 1 }) : new DecompressStream();
    pump(local, xf, remote, stats, opts.role === 'compress');
    // Return path, raw.
    remote.pipe(local);
    let finished = false;
    const finish = (err?: Error) => {
      if (finished) return;
      finished = true;
      opts.onEvent(err ? { event: 'failed', message: err.message, ...stats } : { event: 'done', ...stats });
      if (err) {
        local.destroy();
        remote.destroy();
      }
    };
    for (const s of [local, remote, xf]) s.on('error', (e: Error) => finish(e));
    remote.on('close', () => finish());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.listen.port, opts.listen.host, () => {
      const addr = server.address() as net.AddressInfo;
      opts.onEvent({ event: 'listening', host: addr.address, port: addr.port });
      resolve(server);
    });
  });
}

const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));

/** Tunnel processes of this process, killed on exit (SIGINT/SIGTERM included) so none is left behind. */
const liveTunnels = new Set<ChildProcess>();
let exitHook = false;

/** A `mecom tunnel` child process (optionally inside a network namespace). */
export class TunnelProcess {
  readonly proc: ChildProcess;
  readonly events: Record<string, unknown>[] = [];
  private stderr = '';
  private readonly listening: Promise<number>;

  constructor(role: TunnelRole, listen: string, to: string, netns?: string) {
    const argv = [CLI, 'tunnel', '--role', role, '--listen', listen, '--to', to];
    this.proc = netns
      ? spawn('ip', ['netns', 'exec', netns, process.execPath, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    liveTunnels.add(this.proc);
    this.proc.on('exit', () => liveTunnels.delete(this.proc));
    if (!exitHook) {
      exitHook = true;
      process.on('exit', () => {
        for (const p of liveTunnels) p.kill('SIGKILL');
      });
    }
    this.proc.stderr!.setEncoding('utf8').on('data', (c: string) => (this.stderr = (this.stderr + c).slice(-2000)));
    this.listening = new Promise((resolve, reject) => {
      let buf = '';
      this.proc.stdout!.setEncoding('utf8').on('data', (c: string) => {
        buf += c;
        for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          try {
            const ev = JSON.parse(line) as Record<string, unknown>;
            this.events.push(ev);
            if (ev.event === 'listening') resolve(Number(ev.port));
          } catch {
            // not an event
          }
        }
      });
      this.proc.on('exit', (code, sig) =>
        reject(new MecomError('MECOM_EVAL_TUNNEL', `mecom tunnel (${role}) exited (${sig ?? `code ${code}`}) before listening: ${this.stderr.trim().split('\n').pop() ?? ''}`)),
      );
      setTimeout(() => reject(new MecomError('MECOM_EVAL_TUNNEL', `mecom tunnel (${role}) did not listen within 10 s`)), 10_000).unref();
    });
  }

  port(): Promise<number> {
    return this.listening;
  }

  /** Bytes the compress end wrote into the tunnel, from its `done` event (loopback accounting). */
  outBytes(): number | undefined {
    const done = this.events.find((e) => e.event === 'done');
    return done ? Number(done.outBytes) : undefined;
  }

  stop(): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGTERM');
  }
}
