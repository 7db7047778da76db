/** Starts a BIOS-only QEMU 10 (no disk, no kernel) with a QMP unix socket, for integration tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface TestQemu {
  proc: ChildProcess;
  qmpPath: string;
  dir: string;
  stop(): Promise<void>;
}

export async function startQemu(extra: string[] = [], memMiB = 32): Promise<TestQemu> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mecom-qemu-'));
  const qmpPath = path.join(dir, 'qmp.sock');
  const proc = spawn('qemu-system-x86_64', ['-machine', 'pc', '-m', String(memMiB), '-nodefaults', '-nographic',
    '-monitor', 'none', '-serial', 'none', '-display', 'none', '-accel', 'tcg',
    '-qmp', `unix:${qmpPath},server=on,wait=off`, ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  for (let i = 0; i < 100 && !fs.existsSync(qmpPath); i++) {
    if (proc.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!fs.existsSync(qmpPath)) {
    proc.kill('SIGKILL');
    throw new Error(`QEMU did not create its QMP socket: ${stderr}`);
  }
  return {
    proc, qmpPath, dir,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(t);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
