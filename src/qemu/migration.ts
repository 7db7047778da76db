/**
 * Small QMP helpers the orchestrator uses around a migration. Types cover the
 * fields mecom reads; QEMU returns more.
 */
import { QmpTimeoutError } from './errors.js';
import type { QmpClient } from './qmp.js';

/** query-migrate "status" values in QEMU 10 (qapi/migration.json MigrationStatus). */
export type MigrationStatus =
  | 'none' | 'setup' | 'cancelling' | 'cancelled' | 'active' | 'postcopy-device' | 'postcopy-active'
  | 'postcopy-paused' | 'postcopy-recover-setup' | 'postcopy-recover' | 'completed' | 'failed'
  | 'colo' | 'pre-switchover' | 'device' | 'wait-unplug';

export interface MigrationInfo {
  status?: MigrationStatus;
  'error-desc'?: string;
  'total-time'?: number;
  downtime?: number;
  'setup-time'?: number;
  ram?: {
    transferred: number;
    total: number;
    remaining: number;
    duplicate: number;
    normal: number;
    'normal-bytes': number;
    'dirty-sync-count': number;
    mbps: number;
    'dirty-pages-rate'?: number;
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

export interface StatusInfo {
  running: boolean;
  status: string;
  singlestep?: boolean;
}

export async function queryMigrate(qmp: QmpClient): Promise<MigrationInfo> {
  return (await qmp.execute('query-migrate')) as MigrationInfo;
}

export async function queryStatus(qmp: QmpClient): Promise<StatusInfo> {
  return (await qmp.execute('query-status')) as StatusInfo;
}

/** migrate-set-capabilities from { name: on/off }. */
export async function setCapabilities(qmp: QmpClient, caps: Record<string, boolean>): Promise<void> {
  const capabilities = Object.entries(caps).map(([capability, state]) => ({ capability, state }));
  if (capabilities.length > 0) await qmp.execute('migrate-set-capabilities', { capabilities });
}

/** migrate-set-parameters, e.g. { 'max-bandwidth': 0, 'downtime-limit': 300 }. */
export async function setParameters(qmp: QmpClient, params: Record<string, unknown>): Promise<void> {
  if (Object.keys(params).length > 0) await qmp.execute('migrate-set-parameters', params);
}

/**
 * Resolves with query-migrate's answer once its status is one of `statuses`.
 * Wakes on MIGRATION events (capability `events`) and polls query-migrate
 * every `pollMs` as a fallback; rejects with MECOM_QMP_TIMEOUT at the deadline.
 */
export async function waitForMigrationStatus(qmp: QmpClient, statuses: readonly MigrationStatus[],
  timeoutMs: number, pollMs = 200): Promise<MigrationInfo> {
  const deadline = Date.now() + timeoutMs;
  let wake: (() => void) | undefined;
  const onEvent = (name: string, data: Record<string, unknown>): void => {
    if (name === 'MIGRATION' && statuses.includes(data.status as MigrationStatus)) wake?.();
  };
  qmp.on('event', onEvent);
  try {
    for (;;) {
      const info = await queryMigrate(qmp);
      if (info.status !== undefined && statuses.includes(info.status)) return info;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new QmpTimeoutError(`waiting for migration status ${statuses.join('|')} (now ${info.status ?? 'none'})`, timeoutMs);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(pollMs, left));
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      wake = undefined;
    }
  } finally {
    qmp.off('event', onEvent);
  }
}
