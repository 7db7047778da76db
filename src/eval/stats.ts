/**
 * The numbers of the evaluation's table: medians with their spread, and changes against a
 * baseline mode in percent. Pure functions over rows; no I/O.
 */

/** One migration measured by `mecom eval` (one line of rows.jsonl). */
export interface EvalRow {
  workload: string;
  mode: string;
  link: string;
  run: number;
  /** QEMU's total-time; for a failed run the time until it was given up. */
  totalMs: number | null;
  /** QEMU's downtime (stop-and-copy as QEMU measured it). */
  downtimeMs: number | null;
  /** Largest gap between guest heartbeats as seen from the host, across both guests. */
  guestPauseMs: number | null;
  /** Bytes that crossed the link, both directions (veth counters), or the transport's count on loopback. */
  wireBytes: number | null;
  /** The guest's RAM as QEMU counts it (ram.total). */
  ramBytes: number | null;
  /** QEMU's dirty-sync-count at the end (rounds of pre-copy). */
  rounds: number | null;
  /** The migration completed within the per-run time limit. */
  converged: boolean;
  /** Converged, destination resumed, checker OK and heartbeat counter continued. */
  ok: boolean;
  error?: string;
  /** Where wireBytes was counted: 'veth' (link counters) or 'transport' (loopback runs). */
  wireCountedOn?: 'veth' | 'transport';
  /** Extra facts (Xen stop reason, codec page counts); not used by the table. */
  notes?: Record<string, unknown>;
}

export const METRICS = ['downtimeMs', 'totalMs', 'wireBytes'] as const;
export type Metric = (typeof METRICS)[number];
export const TABLE_METRICS = ['totalMs', 'downtimeMs', 'guestPauseMs', 'wireBytes', 'rounds'] as const;
export type TableMetric = (typeof TABLE_METRICS)[number];

/** The paper's headline changes vs plain Xen pre-copy (MECOM, CLUSTER 2009), in percent. */
export const PAPER_CHANGE: Record<Metric, number> = { downtimeMs: -27.1, totalMs: -32, wireBytes: -68.8 };

export interface Spread {
  n: number;
  median: number;
  min: number;
  max: number;
}

/** Median of a non-empty list (mean of the middle two for an even count); undefined when empty. */
export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Median, min and max of the finite values; undefined when there are none. */
export function spread(values: readonly (number | null | undefined)[]): Spread | undefined {
  const v = values.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  const m = median(v);
  if (m === undefined) return undefined;
  return { n: v.length, median: m, min: Math.min(...v), max: Math.max(...v) };
}

/**
 * Change of `value` against `base` in percent ((value - base) / base * 100); undefined when
 * either is missing or the base is 0 (a change against nothing has no meaning).
 */
export function percentChange(value: number | undefined, base: number | undefined): number | undefined {
  if (value === undefined || base === undefined || base === 0) return undefined;
  return ((value - base) / base) * 100;
}

export interface CellSummary {
  link: string;
  workload: string;
  mode: string;
  runs: number;
  /** Runs with ok:true; only they enter the medians. */
  okRuns: number;
  converged: number;
  metrics: Partial<Record<TableMetric, Spread>>;
  /** Change of each headline metric's median vs the plain and xen modes' medians, in percent. */
  vsPlain: Partial<Record<Metric, number>>;
  vsXen: Partial<Record<Metric, number>>;
  errors: string[];
}

const cellKey = (r: { link: string; workload: string; mode: string }) => `${r.link}\u0000${r.workload}\u0000${r.mode}`;

/**
 * One summary per (link, workload, mode), in first-seen order. Medians are over ok runs only:
 * a run that did not converge or failed its checks has no meaningful time or downtime; the
 * summary says how many runs were ok.
 */
export function summarise(rows: readonly EvalRow[]): CellSummary[] {
  const groups = new Map<string, EvalRow[]>();
  for (const r of rows) {
    const k = cellKey(r);
    const g = groups.get(k);
    if (g) g.push(r);
    else groups.set(k, [r]);
  }
  const cells: CellSummary[] = [];
  for (const g of groups.values()) {
    const ok = g.filter((r) => r.ok);
    const metrics: CellSummary['metrics'] = {};
    for (const m of TABLE_METRICS) {
      const s = spread(ok.map((r) => r[m]));
      if (s) metrics[m] = s;
    }
    cells.push({
      link: g[0].link,
      workload: g[0].workload,
      mode: g[0].mode,
      runs: g.length,
      okRuns: ok.length,
      converged: g.filter((r) => r.converged).length,
      metrics,
      vsPlain: {},
      vsXen: {},
      errors: [...new Set(g.filter((r) => r.error).map((r) => r.error!))],
    });
  }
  const find = (c: CellSummary, mode: string) => cells.find((x) => x.link === c.link && x.workload === c.workload && x.mode === mode);
  for (const c of cells) {
    for (const [baseMode, into] of [['plain', c.vsPlain], ['xen', c.vsXen]] as const) {
      const base = find(c, baseMode);
      if (!base) continue;
      for (const m of METRICS) {
        const d = percentChange(c.metrics[m]?.median, base.metrics[m]?.median);
        if (d !== undefined) into[m] = d;
      }
    }
  }
  return cells;
}
