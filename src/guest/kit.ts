/**
 * The test guest kit: a kernel and an initramfs built by scripts/build-guest.sh (`make guest`),
 * and the kernel command line that selects a workload (docs/guest.md).
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { MecomError } from '../errors.js';

/** Workloads the guest's /init knows; anything else would silently run idle, so it is refused. */
export const WORKLOADS = ['idle', 'memwrite', 'random', 'hog', 'compile'] as const;
export type Workload = (typeof WORKLOADS)[number];

export interface GuestKit {
  dir: string;
  vmlinuz: string;
  initrd: string;
}

/** Repository root: this file is dist/src/guest/kit.js (or src/guest/kit.ts). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const DEFAULT_KIT_DIR = path.join(REPO_ROOT, 'build', 'guest');

/** Paths of a built kit; MECOM_GUEST_MISSING when either file is absent. */
export function guestKit(dir: string = DEFAULT_KIT_DIR): GuestKit {
  const abs = path.resolve(dir);
  const kit = { dir: abs, vmlinuz: path.join(abs, 'vmlinuz'), initrd: path.join(abs, 'initrd.gz') };
  for (const f of [kit.vmlinuz, kit.initrd]) {
    if (!fs.existsSync(f)) {
      throw new MecomError('MECOM_GUEST_MISSING', `guest kit not built: ${f} is missing (run \`make guest\`)`);
    }
  }
  return kit;
}

export function isWorkload(w: string): w is Workload {
  return (WORKLOADS as readonly string[]).includes(w);
}

const ARG_KEY = /^[a-z][a-z0-9_]*$/;
const ARG_VALUE = /^[A-Za-z0-9._/-]+$/;

/**
 * The kernel command line for a workload. workloadArgs become `mecom.KEY=VALUE` (size, rate,
 * check, hb, dir); values cannot hold spaces or quotes, which the command line cannot carry.
 */
export function kernelCmdline(workload: string, workloadArgs: Record<string, string | number> = {}): string {
  if (!isWorkload(workload)) {
    throw new MecomError('MECOM_GUEST_BAD_WORKLOAD', `unknown guest workload '${workload}' (one of ${WORKLOADS.join(', ')})`, { exitCode: 2 });
  }
  const parts = ['console=ttyS0,115200', 'quiet', 'panic=-1', `mecom.workload=${workload}`];
  for (const [k, v] of Object.entries(workloadArgs)) {
    const value = String(v);
    if (k === 'workload' || !ARG_KEY.test(k) || !ARG_VALUE.test(value)) {
      throw new MecomError('MECOM_GUEST_BAD_ARGS', `bad guest workload argument ${k}=${value}`, { exitCode: 2 });
    }
    parts.push(`mecom.${k}=${value}`);
  }
  return parts.join(' ');
}

/** Runs scripts/build-guest.sh OUTDIR (cached by the script itself), output to ours. */
export function buildGuestKit(outDir: string = DEFAULT_KIT_DIR): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [path.join(REPO_ROOT, 'scripts', 'build-guest.sh'), path.resolve(outDir)], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('error', (err) => reject(new MecomError('MECOM_GUEST_BUILD', `cannot run build-guest.sh: ${err.message}`, { cause: err })));
    child.on('exit', (code, signal) =>
      code === 0
        ? resolve()
        : reject(new MecomError('MECOM_GUEST_BUILD', `build-guest.sh failed (${signal ?? `exit ${code}`})`)),
    );
  });
}
