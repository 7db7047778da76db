/**
 * The evaluation's migration modes: for each, the transport and the QEMU settings of one run.
 * Every mode runs the same guest over the same link; only what is listed here differs.
 */
import type { MigrateOptions, MigrationProgress, Transport } from '../agent/orchestrator.js';
import type { QmpClient } from '../qemu/qmp.js';
import { QEMU_MAX_DOWNTIME_LIMIT_MS, XenStopTracker } from './xen-rules.js';
import { TunnelProcess } from './tunnel.js';

export const EVAL_MODES = [
  'plain',
  'xen',
  'mecom',
  'mecom-classifier',
  'mecom-zero',
  'mecom-wkdm',
  'mecom-lz4',
  'mecom-zstd',
  'qemu-xbzrle',
  'qemu-multifd-zstd',
  'qemu-multifd-zlib',
  'pipe-zstd',
] as const;
export type EvalMode = (typeof EVAL_MODES)[number];

export function isEvalMode(m: string): m is EvalMode {
  return (EVAL_MODES as readonly string[]).includes(m);
}

export const MODE_DESCRIPTIONS: Record<EvalMode, string> = {
  plain: 'QEMU pre-copy straight to the destination, QEMU defaults (300 ms downtime limit, zero pages elided)',
  xen: "Xen 3.1 baseline: zero-page-detection=none (every page sent in full) plus Xen's stop rules (29 rounds, 3x RAM sent, < 50 pages in a round) forced over QMP",
  mecom: 'through mecom send/receive, adaptive codec: page classes from the classifier, a codec per class from the link/CPU cost model',
  'mecom-classifier': 'through mecom, adaptive codec without the cost model: the page classifier alone picks each codec (mecom send --no-model)',
  'mecom-zero': 'through mecom, zero-page elision only (everything else raw)',
  'mecom-wkdm': 'through mecom, WKdm for every non-zero page',
  'mecom-lz4': 'through mecom, lz4 for every non-zero page',
  'mecom-zstd': 'through mecom, zstd level 1 for every non-zero page',
  'qemu-xbzrle': 'QEMU XBZRLE (delta against a 64 MiB cache of sent pages)',
  'qemu-multifd-zstd': 'QEMU multifd, 2 channels, zstd compression (level 1)',
  'qemu-multifd-zlib': 'QEMU multifd, 2 channels, zlib compression (level 1)',
  'pipe-zstd': 'plain QEMU through a generic tunnel that compresses the whole byte stream with zstd level 1',
};

/** What a mode adds to liveRun's options, plus what to release after the run. */
export interface ModeSetup {
  transport: Transport;
  capabilities?: Record<string, boolean>;
  sourceParameters?: Record<string, unknown>;
  destParameters?: Record<string, unknown>;
  via?: MigrateOptions['via'];
  control?: MigrateOptions['control'];
  /** Facts for the row's notes (the Xen stop reason, say), read after the run. */
  notes(): Record<string, unknown>;
  /** Bytes the mode's own transport put on the wire, if it counts them (loopback accounting). */
  transportWireBytes?(): number | undefined;
  release(): void;
}

export interface ModeContext {
  ramBytes: number;
  /** Network namespace of the destination (tunnel far end runs there), if any. */
  destNetns?: string;
}

const none = () => ({});

export function setupMode(mode: EvalMode, ctx: ModeContext): ModeSetup {
  const direct: Transport = { kind: 'direct' };
  switch (mode) {
    case 'plain':
      return { transport: direct, notes: none, release() {} };
    case 'xen': {
      const tracker = new XenStopTracker(ctx.ramBytes);
      let forcedAtMs: number | undefined;
      return {
        transport: direct,
        sourceParameters: { 'zero-page-detection': 'none' },
        async control(p: MigrationProgress, src: QmpClient) {
          const reason = tracker.observe(p);
          if (reason) {
            forcedAtMs = p.elapsedMs;
            await src.execute('migrate-set-parameters', { 'downtime-limit': QEMU_MAX_DOWNTIME_LIMIT_MS });
          }
        },
        notes: () => (tracker.reason ? { xenStop: tracker.reason, xenStopAtMs: forcedAtMs, xenMeasure: tracker.decidedAt } : { xenStop: 'qemu-converged' }),
        release() {},
      };
    }
    case 'mecom-classifier':
      return { transport: { kind: 'mecom', policy: 'adaptive', model: false }, notes: none, release() {} };
    case 'mecom':
    case 'mecom-zero':
    case 'mecom-wkdm':
    case 'mecom-lz4':
    case 'mecom-zstd': {
      const policy = mode === 'mecom' ? 'adaptive' : mode.slice('mecom-'.length);
      return { transport: { kind: 'mecom', policy: policy as never }, notes: none, release() {} };
    }
    case 'qemu-xbzrle':
      return { transport: direct, capabilities: { xbzrle: true }, notes: none, release() {} };
    case 'qemu-multifd-zstd':
    case 'qemu-multifd-zlib': {
      const params = { 'multifd-channels': 2, 'multifd-compression': mode === 'qemu-multifd-zstd' ? 'zstd' : 'zlib' };
      return { transport: direct, capabilities: { multifd: true }, sourceParameters: params, destParameters: params, notes: none, release() {} };
    }
    case 'pipe-zstd': {
      const procs: TunnelProcess[] = [];
      let near: TunnelProcess | undefined;
      return {
        transport: direct,
        async via(far) {
          // Far end beside the destination QEMU (inside its namespace), near end on loopback.
          const farEnd = new TunnelProcess('decompress', `${far.host}:0`, `${far.host}:${far.port}`, ctx.destNetns);
          procs.push(farEnd);
          const farPort = await farEnd.port();
          near = new TunnelProcess('compress', '127.0.0.1:0', `${far.host}:${farPort}`);
          procs.push(near);
          return { host: '127.0.0.1', port: await near.port() };
        },
        notes: none,
        transportWireBytes: () => near?.outBytes(),
        release() {
          for (const p of procs) p.stop();
        },
      };
    }
  }
}
