/**
 * Boots one test guest under QEMU (TCG) with QMP on a unix socket and the serial console in a
 * file. A destination (`incoming`) gets the same kernel, initrd, command line and memory, plus
 * `-incoming defer -S`: it waits for `migrate-incoming` and stays paused until `cont`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { MecomError } from '../errors.js';
import { guestKit, kernelCmdline } from './kit.js';
import { waitForHeartbeat } from './heartbeat.js';

export interface LaunchOptions {
  /** Base name for NAME.qmp, NAME.serial and NAME.stderr in `dir`. */
  name: string;
  /** Work directory for sockets and logs (created if missing). */
  dir: string;
  memMiB?: number;
  workload?: string;
  /** Become mecom.KEY=VALUE on the kernel command line (size, rate, check, hb, dir). */
  workloadArgs?: Record<string, string | number>;
  incoming?: boolean;
  /** Run QEMU inside this network namespace (`ip netns exec NS`). */
  netns?: string;
  extraArgs?: string[];
  /** Kit directory (default build/guest). */
  kitDir?: string;
  /** How long to wait for QMP and, for a source, the first heartbeat (default 60 s). */
  bootTimeoutMs?: number;
  qemuBinary?: string;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface GuestVm {
  name: string;
  qmpPath: string;
  serialPath: string;
  /** QEMU's stderr. */
  logPath: string;
  pid: number;
  /** The exact command line, for logs and for booting a matching destination by hand. */
  argv: string[];
  exited: Promise<ExitInfo>;
  /** SIGKILL, then wait for the exit. */
  kill(): Promise<ExitInfo>;
  /** SIGTERM, then SIGKILL after `graceMs` (default 3000). */
  stop(graceMs?: number): Promise<ExitInfo>;
}

/** QEMU processes of this Node process, killed on exit so a failing test leaves none behind. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  live.add(child);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
}

export function qemuArgs(o: LaunchOptions): { argv: string[]; qmpPath: string; serialPath: string } {
  const kit = guestKit(o.kitDir);
  const memMiB = o.memMiB ?? 512;
  if (!Number.isInteger(memMiB) || memMiB < 128 || memMiB > 65536) {
    throw new MecomError('MECOM_GUEST_BAD_ARGS', `guest memory must be an integer between 128 and 65536 MiB, got ${memMiB}`, { exitCode: 2 });
  }
  if (!/^[A-Za-z0-9._-]+$/.test(o.name)) {
    throw new MecomError('MECOM_GUEST_BAD_ARGS', `bad guest name '${o.name}' (letters, digits, . _ -)`, { exitCode: 2 });
  }
  const dir = path.resolve(o.dir);
  const qmpPath = path.join(dir, `${o.name}.qmp`);
  const serialPath = path.join(dir, `${o.name}.serial`);
  const argv = [
    o.qemuBinary ?? 'qemu-system-x86_64',
    '-accel', 'tcg',
    '-m', String(memMiB),
    '-smp', '1',
    '-nographic',
    '-monitor', 'none',
    '-kernel', kit.vmlinuz,
    '-initrd', kit.initrd,
    '-append', kernelCmdline(o.workload ?? 'idle', o.workloadArgs),
    '-serial', `file:${serialPath}`,
    '-qmp', `unix:${qmpPath},server=on,wait=off`,
    '-no-reboot',
    ...(o.incoming ? ['-incoming', 'defer', '-S'] : []),
    ...(o.extraArgs ?? []),
  ];
  return { argv: o.netns ? ['ip', 'netns', 'exec', o.netns, ...argv] : argv, qmpPath, serialPath };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function launchGuest(o: LaunchOptions): Promise<GuestVm> {
  const { argv, qmpPath, serialPath } = qemuArgs(o);
  fs.mkdirSync(path.dirname(qmpPath), { recursive: true });
  const logPath = path.join(path.dirname(qmpPath), `${o.name}.stderr`);
  // Stale files from an earlier run would make us think this guest is up.
  for (const f of [qmpPath, serialPath]) fs.rmSync(f, { force: true });
  const logFd = fs.openSync(logPath, 'w');
  let child: ChildProcess;
  try {
    // `ip netns exec` execs QEMU in place, so the pid is QEMU's either way.
    child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', logFd, logFd] });
  } finally {
    fs.closeSync(logFd);
  }
  track(child);
  const exited = new Promise<ExitInfo>((resolve) => {
    child.on('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
    child.on('error', (err) => {
      live.delete(child);
      fs.appendFileSync(logPath, `spawn failed: ${err.message}\n`);
      resolve({ code: null, signal: null });
    });
  });
  const kill = async (): Promise<ExitInfo> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    return exited;
  };
  const stop = async (graceMs = 3000): Promise<ExitInfo> => {
    if (child.exitCode !== null || child.signalCode !== null) return exited;
    child.kill('SIGTERM');
    const done = await Promise.race([exited, sleep(graceMs).then(() => undefined)]);
    return done ?? kill();
  };
  const vm: GuestVm = { name: o.name, qmpPath, serialPath, logPath, pid: child.pid ?? -1, argv, exited, kill, stop };

  const timeoutMs = o.bootTimeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  const died = exited.then((e) => `QEMU exited (${e.signal ?? `code ${e.code}`}): ${stderrTail(logPath)}`);
  try {
    let diedMsg: string | undefined;
    died.then((m) => (diedMsg = m));
    while (!fs.existsSync(qmpPath)) {
      await sleep(20);
      if (diedMsg) throw new MecomError('MECOM_GUEST_EXITED', `guest ${o.name}: ${diedMsg}`);
      if (Date.now() > deadline) {
        throw new MecomError('MECOM_GUEST_TIMEOUT', `guest ${o.name}: no QMP socket at ${qmpPath} after ${timeoutMs} ms`);
      }
    }
    if (!o.incoming) {
      try {
        await waitForHeartbeat(serialPath, () => true, Math.max(1, deadline - Date.now()), { abort: died });
      } catch (err) {
        if (err instanceof MecomError && err.code === 'MECOM_GUEST_EXITED') {
          throw new MecomError('MECOM_GUEST_EXITED', `guest ${o.name} did not boot: ${diedMsg ?? 'QEMU exited'}`);
        }
        if (err instanceof MecomError && err.code === 'MECOM_GUEST_TIMEOUT') {
          throw new MecomError('MECOM_GUEST_TIMEOUT', `guest ${o.name} printed no heartbeat within ${timeoutMs} ms (see ${serialPath})`);
        }
        throw err;
      }
    }
  } catch (err) {
    await kill();
    throw err;
  }
  return vm;
}

function stderrTail(logPath: string): string {
  try {
    const t = fs.readFileSync(logPath, 'utf8').trim().split('\n').slice(-3).join(' | ');
    return t || '(no output)';
  } catch {
    return '(no output)';
  }
}
