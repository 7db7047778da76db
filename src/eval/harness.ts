/**
 * `mecom eval`: the live evaluation matrix. For each run index, link, workload and mode (modes
 * interleaved, their order rotated per run so no mode always goes first), boots a fresh source
 * and destination guest, migrates once and records one row. A failed or timed-out run is a
 * row with ok:false, never dropped.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { liveRun, describeFailure, type LiveRunResult } from './live-run.js';
import type { MigrationProgress } from '../agent/orchestrator.js';
import { MecomError } from '../errors.js';
import { EvalNetns } from './netns.js';
import { setupMode, type EvalMode } from './modes.js';
import type { EvalWorkload } from './workloads.js';
import type { EvalLink } from './links.js';
import type { EvalRow } from './stats.js';

export interface EvalConfig {
  workloads: EvalWorkload[];
  modes: EvalMode[];
  links: EvalLink[];
  runs: number;
  memMiB: number;
  /** Per-run limit on the migration itself (s); past it the run is ok:false, converged:false. */
  timeLimitS: number;
  warmupMs: number;
  /** Preallocate each destination's RAM before its migration, in every mode alike. */
  prefault?: boolean;
  /** Rows are appended here as JSON lines as they come. */
  rowsPath?: string;
  onRow?: (row: EvalRow, index: number, total: number) => void;
  onCellStart?: (cell: { link: string; workload: string; mode: string; run: number }, index: number, total: number) => void;
}

/** The order runs happen in: run-major, then link, workload, and modes rotated by run index. */
export function schedule(cfg: Pick<EvalConfig, 'workloads' | 'modes' | 'links' | 'runs'>): { run: number; link: EvalLink; workload: EvalWorkload; mode: EvalMode }[] {
  const out: { run: number; link: EvalLink; workload: EvalWorkload; mode: EvalMode }[] = [];
  for (let run = 1; run <= cfg.runs; run++) {
    for (const link of cfg.links) {
      for (const workload of cfg.workloads) {
        const k = (run - 1) % cfg.modes.length;
        const modes = [...cfg.modes.slice(k), ...cfg.modes.slice(0, k)];
        for (const mode of modes) out.push({ run, link, workload, mode });
      }
    }
  }
  return out;
}

/**
 * SIGINT/SIGTERM end the process through process.exit, so the exit hooks run: the link's
 * cleanup, the guests' (src/guest/vm.ts) and the tunnels'. Without a handler Node would die
 * without running them.
 */
function exitOnSignals(): () => void {
  const onInt = () => process.exit(130);
  const onTerm = () => process.exit(143);
  process.once('SIGINT', onInt);
  process.once('SIGTERM', onTerm);
  return () => {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  };
}

export async function runEval(cfg: EvalConfig): Promise<EvalRow[]> {
  const plan = schedule(cfg);
  const releaseSignals = exitOnSignals();
  const needsNetns = cfg.links.some((l) => l.rate !== undefined);
  const netns = needsNetns ? EvalNetns.create() : undefined;
  const rows: EvalRow[] = [];
  try {
    for (let i = 0; i < plan.length; i++) {
      const { run, link, workload, mode } = plan[i];
      cfg.onCellStart?.({ link: link.name, workload: workload.name, mode, run }, i, plan.length);
      if (netns) netns.shape(link.rate);
      const row = await runOne({ cfg, run, link, workload, mode, netns: link.rate !== undefined ? netns : undefined });
      rows.push(row);
      if (cfg.rowsPath) fs.appendFileSync(cfg.rowsPath, JSON.stringify(row) + '\n');
      cfg.onRow?.(row, i, plan.length);
    }
  } finally {
    netns?.destroy();
    releaseSignals();
  }
  return rows;
}

async function runOne(a: { cfg: EvalConfig; run: number; link: EvalLink; workload: EvalWorkload; mode: EvalMode; netns?: EvalNetns }): Promise<EvalRow> {
  const { cfg, run, link, workload, mode, netns } = a;
  const ramBytes = cfg.memMiB * 1024 * 1024;
  const setup = setupMode(mode, { ramBytes, destNetns: netns?.ns });
  const base = { workload: workload.name, mode, link: link.name, run };
  let last: MigrationProgress | undefined;
  const before = netns?.counters();
  const started = Date.now();
  // The host's load when the run started: on a shared machine, the context for its times.
  const loadAvg1 = Math.round(os.loadavg()[0] * 100) / 100;
  let result: LiveRunResult | undefined;
  let error: unknown;
  try {
    result = await liveRun({
      workload: workload.guest,
      workloadArgs: workload.args,
      memMiB: cfg.memMiB,
      transport: setup.transport,
      warmupMs: cfg.warmupMs,
      prefaultDestination: cfg.prefault,
      timeoutMs: cfg.timeLimitS * 1000,
      destNetns: netns?.ns,
      destHost: netns?.nsIp,
      via: setup.via,
      control: setup.control,
      capabilities: setup.capabilities,
      sourceParameters: setup.sourceParameters,
      destParameters: setup.destParameters,
      onProgress: (p) => (last = p),
    });
  } catch (err) {
    error = err;
  }
  const crossed = netns && before ? EvalNetns.crossed(before, netns.counters()) : undefined;
  const transportBytes = setup.transportWireBytes?.();
  setup.release();
  const notes = { ...setup.notes(), loadAvg1 };
  if (result) {
    const ok = result.verified && result.guest.checkerOk && result.guest.continued;
    return {
      ...base,
      totalMs: result.totalMs,
      downtimeMs: result.downtimeMs,
      guestPauseMs: result.guest.guestPauseMs,
      wireBytes: crossed ?? transportBytes ?? result.wireBytes,
      ramBytes: result.ramBytes,
      rounds: result.rounds,
      converged: true,
      ok,
      ...(ok ? {} : { error: `destination check failed: checker ${result.guest.checkerOk ? 'OK' : 'BAD or silent'}, counter ${result.guest.continued ? 'continued' : `did not continue (source last ${result.guest.sourceLastCounter}, destination first ${result.guest.destFirstCounter})`}` }),
      wireCountedOn: crossed !== undefined ? 'veth' : 'transport',
      notes: { ...notes, qemuBytes: result.qemuBytes, pagesByCodec: result.pagesByCodec, agentCpuSeconds: result.agentCpuSeconds, agentStreamCpuSeconds: result.agentStreamCpuSeconds, prefaultMs: result.prefaultMs, switchoverMs: result.switchover, modelBound: (result.model as { bound?: string } | undefined)?.bound, sourceLastCounter: result.guest.sourceLastCounter, destFirstCounter: result.guest.destFirstCounter },
    };
  }
  const timedOut = error instanceof MecomError && error.code === 'MECOM_MIGRATE_TIMEOUT';
  return {
    ...base,
    totalMs: last ? last.elapsedMs : Date.now() - started,
    downtimeMs: null,
    guestPauseMs: null,
    wireBytes: crossed ?? (last ? last.wireBytes : null),
    ramBytes: ramBytes,
    rounds: last ? last.round : null,
    converged: false,
    ok: false,
    error: (timedOut ? `did not converge within ${cfg.timeLimitS} s: ` : '') + describeFailure(error),
    wireCountedOn: crossed !== undefined ? 'veth' : 'transport',
    notes,
  };
}

/** Machine facts recorded beside the results. */
export async function machineFacts(): Promise<Record<string, string | number>> {
  const os = await import('node:os');
  const { execFileSync } = await import('node:child_process');
  let qemu = 'unknown';
  try {
    qemu = execFileSync('qemu-system-x86_64', ['--version'], { encoding: 'utf8' }).split('\n')[0];
  } catch {
    // not installed
  }
  return { nproc: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', kernel: os.release(), qemu, node: process.version };
}

export function ensureDir(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  return path.resolve(dir);
}
