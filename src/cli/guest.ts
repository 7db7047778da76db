/**
 * `mecom guest build`: builds the test guest kit (scripts/build-guest.sh, cached).
 * `mecom guest boot`: boots one guest, prints its QMP socket and serial log, and keeps it
 * running until Ctrl-C (QEMU is stopped on the way out).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { intOption } from './options.js';
import { WORKLOADS, isWorkload, buildGuestKit, DEFAULT_KIT_DIR } from '../guest/kit.js';
import { launchGuest } from '../guest/vm.js';

function workloadOption(value: string): string {
  if (!isWorkload(value)) throw new InvalidArgumentError(`unknown workload '${value}' (one of ${WORKLOADS.join(', ')})`);
  return value;
}

/** --arg size=64M (repeatable) -> { size: '64M' } */
function argOption(value: string, prev: Record<string, string>): Record<string, string> {
  const m = /^([a-z][a-z0-9_]*)=([A-Za-z0-9._/-]+)$/.exec(value);
  if (!m || m[1] === 'workload') throw new InvalidArgumentError(`expected KEY=VALUE (e.g. size=64M), got '${value}'`);
  return { ...prev, [m[1]]: m[2] };
}

interface BootOpts {
  workload: string;
  mem: number;
  dir?: string;
  name: string;
  incoming?: boolean;
  arg: Record<string, string>;
  kit: string;
}

async function boot(o: BootOpts): Promise<void> {
  const dir = o.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'mecom-guest-'));
  process.stderr.write(`guest: booting ${o.mem} MiB '${o.workload}'${o.incoming ? ' (incoming, paused)' : ''} ...\n`);
  const t0 = Date.now();
  const vm = await launchGuest({
    name: o.name,
    dir,
    memMiB: o.mem,
    workload: o.workload,
    workloadArgs: o.arg,
    incoming: o.incoming,
    kitDir: o.kit,
  });
  process.stdout.write(`qmp: ${vm.qmpPath}\nserial: ${vm.serialPath}\npid: ${vm.pid}\n`);
  process.stderr.write(
    o.incoming
      ? `guest: waiting for migrate-incoming on QMP; Ctrl-C stops it\n`
      : `guest: first heartbeat after ${Date.now() - t0} ms; Ctrl-C stops it\n`,
  );
  const signalled = new Promise<NodeJS.Signals>((resolve) => {
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(s, () => resolve(s));
  });
  const winner = await Promise.race([signalled, vm.exited.then(() => 'exited' as const)]);
  if (winner === 'exited') {
    const e = await vm.exited;
    process.stderr.write(`guest: QEMU exited on its own (${e.signal ?? `code ${e.code}`}), see ${vm.logPath}\n`);
    process.exitCode = 1;
    return;
  }
  await vm.stop();
  process.stderr.write(`guest: stopped\n`);
}

export function registerGuest(program: Command): void {
  const guest = program.command('guest').description('build and boot the test guest kit');
  guest
    .command('build')
    .description('build build/guest/{vmlinuz,initrd.gz} (does nothing when up to date)')
    .option('--out <dir>', 'output directory', DEFAULT_KIT_DIR)
    .action(async (o: { out: string }) => {
      await buildGuestKit(o.out);
    });
  guest
    .command('boot')
    .description('boot one guest, print its QMP socket and serial log, run until Ctrl-C')
    .option('--workload <name>', `guest workload (${WORKLOADS.join(', ')})`, workloadOption, 'idle')
    .option('--mem <MiB>', 'guest memory', intOption(128, 65536), 512)
    .option('--dir <dir>', 'work directory for the QMP socket and logs (default: a new temp dir)')
    .option('--name <name>', 'base name of the socket and log files', 'guest')
    .option('--incoming', 'boot as a paused migration destination (-incoming defer -S)')
    .option('--arg <key=value>', 'workload argument, repeatable (size=64M, rate=32M, check=8M, hb=10)', argOption, {})
    .option('--kit <dir>', 'guest kit directory', DEFAULT_KIT_DIR)
    .action(boot);
}
