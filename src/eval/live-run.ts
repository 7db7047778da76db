/**
 * One live migration of a freshly booted guest, measured: boots a source guest with a workload
 * and an identical paused destination, lets the workload warm up, migrates, resumes the
 * destination (only after verification), and checks from the serial logs that the guest carried
 * on where it stopped with its checker still OK. Used by `mecom demo`, the integration tests and
 * the evaluation harness.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launchGuest, type GuestVm } from '../guest/vm.js';
import { migrate, type MigrateOptions, type MigrationResult, type Transport } from '../agent/orchestrator.js';
import { HeartbeatWatch } from './heartbeat-watch.js';
import { MecomError } from '../errors.js';

export interface LiveRunOptions {
  workload: string;
  workloadArgs?: Record<string, string>;
  memMiB: number;
  transport: Transport;
  /** Let the workload populate its working set before migrating. */
  warmupMs?: number;
  downtimeLimitMs?: number;
  bandwidthMBps?: number;
  /** Preallocate the destination's RAM before migrating (MigrateOptions.prefaultDestination). */
  prefaultDestination?: boolean;
  timeoutMs?: number;
  workDir?: string;
  onProgress?: MigrateOptions['onProgress'];
  onStarted?: MigrateOptions['onStarted'];
  /** Run the destination QEMU and `mecom receive` in this network namespace, reached at destHost. */
  destNetns?: string;
  destHost?: string;
  via?: MigrateOptions['via'];
  control?: MigrateOptions['control'];
  /** Extra QEMU options/capabilities for baseline modes. */
  sourceParameters?: Record<string, unknown>;
  destParameters?: Record<string, unknown>;
  capabilities?: Record<string, boolean>;
}

export interface GuestCheck {
  /** Largest gap between heartbeats seen by the host, across source and destination (ms). */
  guestPauseMs: number;
  /** Last heartbeat counter printed by the source, first by the destination. */
  sourceLastCounter?: number;
  destFirstCounter?: number;
  /** The destination's counter continued the source's (no restart, no jump back). */
  continued: boolean;
  checkerOk: boolean;
}

export interface LiveRunResult extends MigrationResult {
  guest: GuestCheck;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function liveRun(opts: LiveRunOptions): Promise<LiveRunResult> {
  const dir = opts.workDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'mecom-run-'));
  let source: GuestVm | undefined;
  let dest: GuestVm | undefined;
  const common = { dir, memMiB: opts.memMiB, workload: opts.workload, workloadArgs: opts.workloadArgs };
  try {
    [source, dest] = await Promise.all([
      launchGuest({ ...common, name: 'source' }),
      launchGuest({ ...common, name: 'dest', incoming: true, netns: opts.destNetns }),
    ]);
    await sleep(opts.warmupMs ?? 3000);
    const watch = new HeartbeatWatch([source.serialPath, dest.serialPath]).start();
    let result: MigrationResult;
    try {
      result = await migrate({
        fromQmp: source.qmpPath,
        toQmp: dest.qmpPath,
        transport: opts.transport,
        downtimeLimitMs: opts.downtimeLimitMs,
        bandwidthMBps: opts.bandwidthMBps,
        prefaultDestination: opts.prefaultDestination,
        timeoutMs: opts.timeoutMs,
        onProgress: opts.onProgress,
        onStarted: opts.onStarted,
        sourceParameters: opts.sourceParameters,
        destParameters: opts.destParameters,
        capabilities: opts.capabilities,
        receiverNetns: opts.destNetns,
        destHost: opts.destHost,
        via: opts.via,
        control: opts.control,
      });
      // Give the destination time to print a run of heartbeats.
      const t0 = Date.now();
      while (Date.now() - t0 < 5000) {
        await sleep(100);
        watch.poll();
        if (watch.beats.filter((b) => b.source === 1).length >= 20) break;
      }
    } finally {
      watch.stop();
    }
    const last = watch.lastCounter(0);
    const first = watch.firstCounter(1);
    const guest: GuestCheck = {
      guestPauseMs: Math.round(watch.largestGapMs()),
      sourceLastCounter: last,
      destFirstCounter: first,
      continued: last !== undefined && first !== undefined && first > last && first <= last + 5,
      checkerOk: watch.allOk() && watch.beats.some((b) => b.source === 1),
    };
    return { ...result, guest };
  } finally {
    await Promise.all([source?.stop(), dest?.stop()]);
    if (!opts.workDir) fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function describeFailure(err: unknown): string {
  return err instanceof MecomError ? `${err.message} [${err.code}]` : String((err as Error)?.message ?? err);
}
