/**
 * Refuses a source QEMU whose migration settings would put anything into the
 * stream that QemuStreamParser does not follow (docs/qemu-stream.md#capabilities).
 * Checked against what QEMU 10.0.2 reports for query-migrate-capabilities and
 * query-migrate-parameters.
 */
import { UnsupportedCapabilityError } from './errors.js';
import type { QmpClient } from './qmp.js';

/**
 * Capabilities that may be on: they change pacing or destination behaviour,
 * never the bytes of a precopy stream. Every other capability must be off,
 * including names this list does not know (a newer QEMU's additions).
 */
export const ALLOWED_CAPABILITIES: ReadonlySet<string> = new Set([
  'events', // MIGRATION / MIGRATION_PASS events on QMP only
  'pause-before-switchover', // source stops in pre-switchover until migrate-continue
  'auto-converge', // vCPU throttling
  'dirty-limit', // dirty-rate limiting
  'late-block-activate', // destination side
]);

/** Why the common unsupported ones are refused (for messages). */
const REASONS: Record<string, string> = {
  xbzrle: 'XBZRLE-encoded pages (flag 0x40)',
  multifd: 'pages on extra channels, MULTIFD_FLUSH records',
  'mapped-ram': 'file-offset page layout and a configuration subsection',
  'postcopy-ram': 'postcopy commands and a return path',
  'postcopy-preempt': 'a second postcopy channel',
  'postcopy-blocktime': 'postcopy only',
  'return-path': 'a return path (OPEN_RETURN_PATH / PING commands)',
  'switchover-ack': 'a return path',
  'x-colo': 'COLO checkpoints',
  compress: 'compressed pages (removed in QEMU 9.1)',
  'x-ignore-shared': 'extra MEM_SIZE fields and a configuration subsection',
  'validate-uuid': 'a configuration subsection',
  'dirty-bitmaps': 'a dirty-bitmap iterable section',
  'background-snapshot': 'snapshots, not migration',
  'zero-copy-send': 'multifd only',
  'release-ram': 'source RAM discarded as sent: no way back if the migration fails',
  'rdma-pin-all': 'RDMA only',
  'zero-blocks': 'block migration (removed)',
};

export interface SourceCompatibility {
  /** Capabilities that are on. */
  enabled: string[];
  /** "multifd" (default) and "legacy": zero pages as ZERO records; "none": all as PAGE. */
  zeroPageDetection: string;
}

/** Throws MECOM_QEMU_UNSUPPORTED_CAPABILITY naming the first capability or parameter the parser cannot follow. */
export async function assertSourceCompatible(qmp: QmpClient): Promise<SourceCompatibility> {
  const caps = (await qmp.execute('query-migrate-capabilities')) as { capability: string; state: boolean }[];
  const params = (await qmp.execute('query-migrate-parameters')) as Record<string, unknown>;
  return checkCompatibility(caps, params);
}

/** The pure check behind assertSourceCompatible (unit-tested with recorded QMP answers). */
export function checkCompatibility(caps: { capability: string; state: boolean }[],
  params: Record<string, unknown>): SourceCompatibility {
  const enabled = caps.filter((c) => c.state).map((c) => c.capability);
  for (const name of enabled) {
    if (!ALLOWED_CAPABILITIES.has(name)) {
      const why = REASONS[name] ?? 'not known to mecom\'s stream parser';
      throw new UnsupportedCapabilityError(name,
        `source QEMU has migration capability '${name}' on (${why}); turn it off: migrate-set-capabilities {"capability":"${name}","state":false}`);
    }
  }
  const zpd = String(params['zero-page-detection'] ?? 'legacy');
  if (!['none', 'legacy', 'multifd'].includes(zpd)) {
    throw new UnsupportedCapabilityError('zero-page-detection', `source QEMU has zero-page-detection '${zpd}'`);
  }
  const mode = params.mode;
  if (mode !== undefined && mode !== 'normal') {
    throw new UnsupportedCapabilityError('mode', `source QEMU has migration mode '${String(mode)}' (only 'normal' is supported)`);
  }
  if (typeof params['tls-creds'] === 'string' && params['tls-creds'] !== '') {
    throw new UnsupportedCapabilityError('tls-creds', 'source QEMU migrates over TLS (tls-creds set): mecom cannot read an encrypted stream');
  }
  if (params['direct-io'] === true) {
    throw new UnsupportedCapabilityError('direct-io', 'source QEMU has direct-io on (mapped-ram file migration only)');
  }
  return { enabled, zeroPageDetection: zpd };
}
