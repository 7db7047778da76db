/**
 * `mecom demo`: the main job on a built-in default. Boots a 512 MiB guest running `memwrite`,
 * migrates it live through mecom, then migrates an identical guest with plain QEMU, and prints
 * both side by side.
 */
import { Command } from 'commander';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { liveRun, type LiveRunResult } from '../eval/live-run.js';
import { guestKit } from '../guest/kit.js';
import { MecomError } from '../errors.js';
import { intOption } from './options.js';
import { progressView } from './progress.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

function ensureGuestKit(): void {
  try {
    guestKit();
    return;
  } catch {
    process.stderr.write('demo: building the guest kit (make guest) ...\n');
  }
  const r = spawnSync('bash', ['scripts/build-guest.sh', 'build/guest'], { cwd: REPO, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new MecomError('MECOM_GUEST_MISSING', 'building the guest kit failed (see above)');
  guestKit();
}

interface DemoRow {
  verified: boolean;
  totalMs: number;
  downtimeMs: number;
  guestPauseMs: number;
  wireBytes: number;
  ramBytes: number;
  rounds: number;
  pagesByCodec: Record<string, number>;
  checkerOk: boolean;
  continued: boolean;
  error?: string;
}

function row(r: LiveRunResult): DemoRow {
  return {
    verified: r.verified && r.guest.checkerOk && r.guest.continued,
    totalMs: r.totalMs,
    downtimeMs: r.downtimeMs,
    guestPauseMs: r.guest.guestPauseMs,
    wireBytes: r.wireBytes,
    ramBytes: r.ramBytes,
    rounds: r.rounds,
    pagesByCodec: r.pagesByCodec,
    checkerOk: r.guest.checkerOk,
    continued: r.guest.continued,
  };
}

function failedRow(err: unknown): DemoRow {
  const e = err as MecomError;
  return { verified: false, totalMs: 0, downtimeMs: 0, guestPauseMs: 0, wireBytes: 0, ramBytes: 0, rounds: 0, pagesByCodec: {}, checkerOk: false, continued: false, error: `${e.message}${e.code ? ` [${e.code}]` : ''}` };
}

function table(m: DemoRow, p: DemoRow): string {
  const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
  const lines: [string, string, string][] = [
    ['', 'mecom', 'plain QEMU'],
    ['verified', String(m.verified), String(p.verified)],
    ['total time', `${m.totalMs} ms`, `${p.totalMs} ms`],
    ['downtime (QEMU)', `${m.downtimeMs} ms`, `${p.downtimeMs} ms`],
    ['guest pause (heartbeat gap)', `${m.guestPauseMs} ms`, `${p.guestPauseMs} ms`],
    ['bytes on the wire', mb(m.wireBytes), mb(p.wireBytes)],
    ['RAM size', mb(m.ramBytes), mb(p.ramBytes)],
    ['rounds', String(m.rounds), String(p.rounds)],
    ['checker OK / counter continued', `${m.checkerOk} / ${m.continued}`, `${p.checkerOk} / ${p.continued}`],
    ['pages by codec', Object.entries(m.pagesByCodec).map(([k, v]) => `${k} ${v}`).join(', ') || '-', '-'],
  ];
  const w0 = Math.max(...lines.map((l) => l[0].length));
  const w1 = Math.max(...lines.map((l) => l[1].length));
  let out = lines.map((l) => `${l[0].padEnd(w0)}  ${l[1].padEnd(w1)}  ${l[2]}`).join('\n') + '\n';
  if (m.error) out += `mecom failed: ${m.error}\n`;
  if (p.error) out += `plain failed: ${p.error}\n`;
  if (m.wireBytes && p.wireBytes) {
    const less = (1 - m.wireBytes / p.wireBytes) * 100;
    out += `mecom put ${Math.abs(less).toFixed(1)}% ${less >= 0 ? 'fewer' : 'more'} bytes on the wire than plain QEMU.\n`;
  }
  return out;
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('boot a busy guest and migrate it live through mecom, then the same with plain QEMU; print both')
    .option('--mem <MiB>', 'guest memory', intOption(128, 8192), 512)
    .option('--workload <name>', 'guest workload (idle, memwrite, random, hog, compile)', 'memwrite')
    .option('--json', 'print {"mecom":{...},"plain":{...}} on stdout')
    .action(async (o: { mem: number; workload: string; json?: boolean }) => {
      ensureGuestKit();
      const rows: Record<string, DemoRow> = {};
      for (const [name, transport] of [
        ['mecom', { kind: 'mecom', policy: 'adaptive' }],
        ['plain', { kind: 'direct' }],
      ] as const) {
        process.stderr.write(`demo: booting a ${o.mem} MiB '${o.workload}' guest and migrating it (${name}) ...\n`);
        const view = progressView(name, !o.json || process.stderr.isTTY);
        try {
          rows[name] = row(await liveRun({ workload: o.workload, memMiB: o.mem, transport, timeoutMs: 180_000, onProgress: (p) => view.update(p) }));
        } catch (err) {
          rows[name] = failedRow(err);
        } finally {
          view.stop();
        }
      }
      if (o.json) process.stdout.write(JSON.stringify(rows) + '\n');
      else process.stdout.write('\n' + table(rows.mecom, rows.plain));
      if (!rows.mecom.verified) process.exitCode = 1;
    });
}
