/**
 * `mecom migrate`: drives both QEMUs over QMP and both agents, and owns the switchover rule:
 * the destination is resumed only after the receiver proved the rebuilt stream identical to
 * what the source sent AND the destination QEMU reports its load completed. On any failure the
 * source is left running (resumed if it was paused) and the destination is never resumed.
 *
 * Phases: prepare -> transfer -> verify -> switchover -> done, or -> rollback -> failed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MecomError } from '../errors.js';
import { QmpClient } from '../qemu/qmp.js';
import { assertSourceCompatible } from '../qemu/capabilities.js';
import { waitForMigrationStatus } from '../qemu/migration.js';
import { prefaultRam } from '../qemu/prefault.js';
import { AgentCodes, AgentError } from './errors.js';
import { ChildAgent } from './spawn.js';
import type { CodecPolicy } from '../wire/frame-encode.js';

export type Transport =
  /** Through mecom send/receive with the given codec policy. */
  | { kind: 'mecom'; policy: CodecPolicy; batchPages?: number; zstdLevel?: number; model?: boolean; trials?: boolean; sourceHop?: 'tcp' | 'unix'; nice?: number }
  /** Straight from QEMU to QEMU (the baseline). */
  | { kind: 'direct' };

export interface MigrateOptions {
  fromQmp: string;
  toQmp: string;
  transport: Transport;
  /** QEMU's downtime-limit in ms; QEMU's default (300) when unset. */
  downtimeLimitMs?: number;
  /** Cap in MB/s of QEMU's own stream; unset = uncapped, the link paces QEMU through backpressure. */
  bandwidthMBps?: number;
  /** Address the destination side listens on (the destination QEMU and `mecom receive`). */
  destHost?: string;
  /** Network namespace to run `mecom receive` in (the destination QEMU must share it). */
  receiverNetns?: string;
  /** Extra migrate-set-parameters / capabilities for the source and destination (baseline modes). */
  sourceParameters?: Record<string, unknown>;
  /** migrate-set-parameters for the destination, before migrate-incoming (multifd channels, say). */
  destParameters?: Record<string, unknown>;
  capabilities?: Record<string, boolean>;
  /**
   * Preallocate the destination's guest RAM before the transfer (src/qemu/prefault.ts): its
   * page faults leave the loader's critical path, and its RAM is committed in full up front.
   */
  prefaultDestination?: boolean;
  /** Abort (and roll back) when this fires, e.g. on Ctrl-C. */
  signal?: AbortSignal;
  /** Give up (and roll back) when the migration has not completed by then. */
  timeoutMs?: number;
  onProgress?: (p: MigrationProgress) => void;
  /**
   * Route the hop that crosses the link through something (a tunnel, a fault injector): given
   * the address of the far end (the receiver for mecom, the destination QEMU for direct),
   * return the address to dial instead.
   */
  via?: (receiver: { host: string; port: number }) => Promise<{ host: string; port: number }>;
  /**
   * Called on every progress poll with the source's QMP client, so a policy (the Xen-style stop
   * rules of the evaluation, say) can steer the migration while it runs.
   */
  control?: (p: MigrationProgress, src: QmpClient) => Promise<void>;
  /** Called once the transfer is under way; tests use it to inject faults. */
  onStarted?: (ctx: { sender?: ChildAgent; receiver?: ChildAgent }) => void;
}

export interface MigrationProgress {
  status: string;
  elapsedMs: number;
  round: number;
  qemuBytes: number;
  wireBytes: number;
  ratio: number;
  dirtyRateBps: number;
  expectedDowntimeMs: number;
  remainingBytes: number;
}

export interface MigrationResult {
  verified: boolean;
  totalMs: number;
  downtimeMs: number;
  setupMs: number;
  /** How long preallocating the destination's RAM took, before the transfer (with prefaultDestination). */
  prefaultMs?: number;
  wireBytes: number;
  qemuBytes: number;
  ramBytes: number;
  rounds: number;
  pagesByCodec: Record<string, number>;
  /** Reads `mecom send` made of the source QEMU's socket (mecom only): the stream's chunking. */
  qemuReads?: number;
  transport: string;
  /** The sender's cost-model decision at the end (adaptive policy), as it reported it. */
  model?: unknown;
  /** CPU seconds (all threads, user + system, start-up included) of each agent, mecom only. */
  agentCpuSeconds?: { send: number; receive: number };
  /** The same from each agent's first stream byte on (start-up excluded), user and system. */
  agentStreamCpuSeconds?: { send?: CpuSplit; receive?: CpuSplit };
  /**
   * What the switchover waited on: ms after the source QEMU's migration was seen completed
   * (QEMU's own downtime ends about there) until each step was done. The guest's pause is about
   * QEMU's downtime plus `resumed`.
   */
  switchover: SwitchoverTimeline;
}

export interface CpuSplit {
  user: number;
  system: number;
}

export interface SwitchoverTimeline {
  /** The receiver proved the rebuilt stream identical (mecom only). */
  receiverVerified?: number;
  /** The sender had the receiver's proof (mecom only). */
  senderDone?: number;
  /** The destination QEMU reported its load completed. */
  destLoaded: number;
  /** The destination was running after `cont`. */
  resumed: number;
}

export class MigrationError extends MecomError {}

interface QueryMigrate {
  status?: string;
  'total-time'?: number;
  downtime?: number;
  'setup-time'?: number;
  'expected-downtime'?: number;
  'error-desc'?: string;
  ram?: {
    transferred: number;
    remaining: number;
    total: number;
    'dirty-sync-count': number;
    'dirty-pages-rate': number;
    'page-size': number;
  };
}

const FAILED_STATES = new Set(['failed', 'cancelled', 'cancelling']);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function migrate(opts: MigrateOptions): Promise<MigrationResult> {
  const destHost = opts.destHost ?? '127.0.0.1';
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const src = await QmpClient.connect(opts.fromQmp, { timeoutMs: 5000 }).catch((e) => {
    throw new MigrationError('MECOM_MIGRATE_SOURCE', `cannot reach the source QEMU's QMP socket ${opts.fromQmp}: ${(e as Error).message}`, { cause: e });
  });
  let dst: QmpClient | undefined;
  let sender: ChildAgent | undefined;
  let receiver: ChildAgent | undefined;
  let sockDir: string | undefined;
  let sourceWasRunning = false;
  try {
    dst = await QmpClient.connect(opts.toQmp, { timeoutMs: 5000 }).catch((e) => {
      throw new MigrationError('MECOM_MIGRATE_DEST', `cannot reach the destination QEMU's QMP socket ${opts.toQmp}: ${(e as Error).message}`, { cause: e });
    });

    // --- prepare: check both ends before anything moves.
    const srcStatus = (await src.execute('query-status')) as { status: string };
    sourceWasRunning = srcStatus.status === 'running';
    if (srcStatus.status !== 'running' && srcStatus.status !== 'paused') {
      throw new MigrationError('MECOM_MIGRATE_SOURCE', `the source VM is '${srcStatus.status}', not running or paused`);
    }
    const dstStatus = (await dst.execute('query-status')) as { status: string };
    if (dstStatus.status !== 'inmigrate') {
      throw new MigrationError('MECOM_MIGRATE_DEST', `the destination VM is '${dstStatus.status}'; start it with -incoming defer -S`);
    }
    {
      // `events` makes QEMU announce each migration state change, so the switchover reacts
      // to 'completed' at once instead of at the next poll.
      const caps = Object.entries({ events: true, ...opts.capabilities }).map(([capability, state]) => ({ capability, state }));
      await src.execute('migrate-set-capabilities', { capabilities: caps });
      await dst.execute('migrate-set-capabilities', { capabilities: caps });
    }
    if (opts.transport.kind === 'mecom') await assertSourceCompatible(src);
    let prefaultMs: number | undefined;
    if (opts.prefaultDestination) {
      const pf = await prefaultRam(dst).catch((e) => {
        throw new MigrationError('MECOM_MIGRATE_DEST', `could not preallocate the destination's RAM: ${(e as Error).message}`, { cause: e });
      });
      if (pf.backends.length === 0) throw new MigrationError('MECOM_MIGRATE_DEST', 'the destination QEMU has no memory backend under /objects to preallocate');
      prefaultMs = pf.ms;
    }
    const params: Record<string, unknown> = {
      // Uncapped unless asked: the (compressed) link paces QEMU through backpressure.
      'max-bandwidth': opts.bandwidthMBps ? Math.round(opts.bandwidthMBps * 1e6) : 1e12,
      ...opts.sourceParameters,
    };
    if (opts.downtimeLimitMs !== undefined) params['downtime-limit'] = opts.downtimeLimitMs;
    await src.execute('migrate-set-parameters', params);
    if (opts.destParameters) await dst.execute('migrate-set-parameters', opts.destParameters);

    // Port 0: the destination QEMU picks a free port (in its own network namespace, too) and
    // reports it in query-migrate's socket-address.
    await dst.execute('migrate-incoming', { uri: `tcp:${destHost}:0` });
    const incoming = (await dst.execute('query-migrate')) as { 'socket-address'?: { port?: string | number }[] };
    const dstPort = Number(incoming['socket-address']?.[0]?.port);
    if (!Number.isInteger(dstPort) || dstPort <= 0) {
      throw new MigrationError('MECOM_MIGRATE_DEST', 'the destination QEMU did not report its incoming port');
    }
    // Both QEMU hops are loopback TCP, not unix-domain sockets (which the agents also take):
    // measured on this 2-core host at 10 Gbit/s, unix sockets' small default buffers (208 KiB,
    // not autotuned) meant many small reads, and migrations took 1171-1267 ms against 903-1330
    // over TCP (docs/benchmarks.md "Session 5").
    let uri = `tcp:${destHost}:${dstPort}`;
    if (opts.transport.kind === 'direct' && opts.via) {
      const hop = await opts.via({ host: destHost, port: dstPort });
      uri = `tcp:${hop.host}:${hop.port}`;
    }
    if (opts.transport.kind === 'mecom') {
      const t = opts.transport;
      const nice = t.nice !== undefined ? ['--nice', String(t.nice)] : [];
      receiver = new ChildAgent('receive', ['--listen', `${destHost}:0`, '--to', `${destHost}:${dstPort}`, ...nice], { netns: opts.receiverNetns });
      const rport = Number((await receiver.waitFor('listening', 10_000)).port);
      const peer = opts.via ? await opts.via({ host: destHost, port: rport }) : { host: destHost, port: rport };
      if (t.sourceHop === 'unix') sockDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mecom-'));
      const sendSock = sockDir ? path.join(sockDir, 'send.sock') : undefined;
      sender = new ChildAgent('send', [
        '--listen', sendSock ? `unix:${sendSock}` : '127.0.0.1:0', '--to', `${peer.host}:${peer.port}`,
        '--codec', t.policy,
        '--batch-pages', String(t.batchPages ?? 256),
        ...(t.zstdLevel !== undefined ? ['--zstd-level', String(t.zstdLevel)] : []),
        ...(t.model === false ? ['--no-model'] : []),
        ...(t.trials === true ? ['--trials'] : []),
        ...nice,
      ]);
      const listening = await sender.waitFor('listening', 10_000);
      uri = sendSock ? `unix:${sendSock}` : `tcp:127.0.0.1:${Number(listening.port)}`;
    }

    // --- transfer
    const t0 = Date.now();
    await src.execute('migrate', { uri });
    opts.onStarted?.({ sender, receiver });
    let agentFailed = false;
    for (const a of [sender, receiver]) {
      a?.once('exit', () => {
        if (a.result?.event !== 'done') agentFailed = true;
      });
    }
    // The receiver's account names the root cause (a bad frame, a lost QEMU); the sender's
    // usually only says that the receiver aborted.
    const agentFailure = async (): Promise<AgentError | undefined> => {
      await Promise.race([Promise.all([sender?.exited, receiver?.exited]), sleep(1500)]);
      for (const a of [receiver, sender]) if (a && (a.result?.event === 'failed' || a.proc.exitCode !== null || a.proc.signalCode !== null) && a.result?.event !== 'done') return a.failure();
      return undefined;
    };
    let info: QueryMigrate = {};
    for (;;) {
      info = (await src.execute('query-migrate')) as QueryMigrate;
      const status = info.status ?? 'none';
      const p = progress(info, Date.now() - t0, sender);
      opts.onProgress?.(p);
      if (opts.control && status === 'active') await opts.control(p, src);
      if (status === 'completed') break;
      if (FAILED_STATES.has(status)) {
        throw (await agentFailure()) ?? new MigrationError('MECOM_MIGRATE_FAILED', `source QEMU reports migration ${status}${info['error-desc'] ? `: ${info['error-desc']}` : ''}`);
      }
      if (agentFailed) throw (await agentFailure())!;
      if (opts.signal?.aborted) {
        throw new MigrationError('MECOM_MIGRATE_INTERRUPTED', 'interrupted; the migration was cancelled and the source runs on');
      }
      if (Date.now() - t0 > timeoutMs) {
        throw new MigrationError('MECOM_MIGRATE_TIMEOUT', `migration did not complete within ${timeoutMs} ms (round ${info.ram?.['dirty-sync-count'] ?? 0}, ${Math.round((info.ram?.remaining ?? 0) / 1e6)} MB still dirty)`);
      }
      await Promise.race([sleep(100), src.waitForEvent('MIGRATION', () => true, 100).catch(() => {})]);
    }

    // --- verify: the receiver's proof and the destination's own word that it loaded.
    const tc = Date.now();
    const since = () => Date.now() - tc;
    const timeline: Partial<SwitchoverTimeline> = {};
    await Promise.all([
      receiver?.waitFor('done', 30_000).then(() => { timeline.receiverVerified = since(); }),
      sender?.waitFor('done', 30_000).then(() => { timeline.senderDone = since(); }),
      waitDestinationLoaded(dst, 30_000).then(() => { timeline.destLoaded = since(); }),
    ]);

    // --- switchover
    await dst.execute('cont');
    const after = (await dst.execute('query-status')) as { status: string };
    if (after.status !== 'running') {
      throw new MigrationError('MECOM_MIGRATE_DEST', `destination did not start running after cont (status '${after.status}')`);
    }
    timeline.resumed = since();
    const sent = sender?.result;
    return {
      verified: true,
      totalMs: info['total-time'] ?? Date.now() - t0,
      downtimeMs: info.downtime ?? 0,
      setupMs: info['setup-time'] ?? 0,
      ...(prefaultMs !== undefined ? { prefaultMs } : {}),
      wireBytes: sent ? Number(sent.wireBytes) : info.ram?.transferred ?? 0,
      qemuBytes: sent ? Number(sent.streamBytes) : info.ram?.transferred ?? 0,
      ramBytes: info.ram?.total ?? 0,
      rounds: info.ram?.['dirty-sync-count'] ?? 0,
      pagesByCodec: (sent?.pagesByCodec as Record<string, number>) ?? {},
      ...(sent?.qemuReads !== undefined ? { qemuReads: Number(sent.qemuReads) } : {}),
      transport: opts.transport.kind === 'mecom' ? `mecom-${opts.transport.policy}` : 'direct',
      model: sent?.model,
      agentCpuSeconds: sent && receiver?.result ? { send: Number(sent.cpuSeconds), receive: Number(receiver.result.cpuSeconds) } : undefined,
      agentStreamCpuSeconds: sent && receiver?.result
        ? { send: sent.streamCpuSeconds as CpuSplit | undefined, receive: receiver.result.streamCpuSeconds as CpuSplit | undefined }
        : undefined,
      switchover: timeline as SwitchoverTimeline,
    };
  } catch (err) {
    await rollback(src, sourceWasRunning, [sender, receiver]);
    if (err instanceof MecomError) throw err;
    throw new MigrationError('MECOM_MIGRATE_FAILED', `migration failed: ${(err as Error).message}`, { cause: err });
  } finally {
    for (const a of [sender, receiver]) a?.kill('SIGTERM');
    if (sockDir) fs.rmSync(sockDir, { recursive: true, force: true });
    src.close();
    dst?.close();
  }
}

async function waitDestinationLoaded(dst: QmpClient, timeoutMs: number): Promise<void> {
  const info = (await waitForMigrationStatus(dst, ['completed', 'failed', 'cancelled'], timeoutMs, 20).catch((e) => {
    throw new MigrationError('MECOM_MIGRATE_DEST', `destination QEMU did not finish loading: ${(e as Error).message}`, { cause: e });
  })) as QueryMigrate;
  if (info.status !== 'completed') {
    throw new MigrationError('MECOM_MIGRATE_DEST', `destination QEMU failed to load the stream (${info.status})`);
  }
  const st = (await dst.execute('query-status')) as { status: string };
  if (st.status !== 'paused') {
    throw new MigrationError('MECOM_MIGRATE_DEST', `destination QEMU is '${st.status}' after loading, expected 'paused'`);
  }
}

/** Leave the source as the one running copy of the VM. Never touches the destination. */
async function rollback(src: QmpClient, sourceWasRunning: boolean, agents: (ChildAgent | undefined)[]): Promise<void> {
  for (const a of agents) a?.kill('SIGKILL');
  try {
    const info = (await src.execute('query-migrate')) as QueryMigrate;
    if (info.status && !['completed', 'failed', 'cancelled', 'none'].includes(info.status)) {
      await src.execute('migrate_cancel').catch(() => {});
      for (let i = 0; i < 100; i++) {
        const s = ((await src.execute('query-migrate')) as QueryMigrate).status;
        if (s !== 'cancelling' && s !== 'active' && s !== 'device' && s !== 'setup') break;
        await sleep(50);
      }
    }
    const st = (await src.execute('query-status')) as { status: string };
    if (sourceWasRunning && st.status !== 'running') await src.execute('cont');
  } catch {
    // The source's QMP is gone too; nothing more we can do from here, and the error that
    // brought us here is the one worth reporting.
  }
}

function progress(info: QueryMigrate, elapsedMs: number, sender?: ChildAgent): MigrationProgress {
  const p = sender?.latest('progress');
  const qemuBytes = p ? Number(p.streamBytes) : info.ram?.transferred ?? 0;
  const wireBytes = p ? Number(p.wireBytes) : qemuBytes;
  const pageSize = info.ram?.['page-size'] ?? 4096;
  return {
    status: info.status ?? 'none',
    elapsedMs,
    round: info.ram?.['dirty-sync-count'] ?? 0,
    qemuBytes,
    wireBytes,
    ratio: wireBytes > 0 ? qemuBytes / wireBytes : 1,
    dirtyRateBps: (info.ram?.['dirty-pages-rate'] ?? 0) * pageSize,
    expectedDowntimeMs: info['expected-downtime'] ?? 0,
    remainingBytes: info.ram?.remaining ?? 0,
  };
}

export { AgentCodes };
