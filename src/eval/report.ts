/**
 * The evaluation's printed table and summary: medians with spread (min–max) per cell, the
 * change of each headline metric vs plain and vs xen, and the paper's numbers beside them.
 */
import { PAPER_CHANGE, type CellSummary, type Metric, type Spread } from './stats.js';

const fmtMs = (s?: Spread) => (s ? `${Math.round(s.median)} (${Math.round(s.min)}–${Math.round(s.max)})` : '—');
const fmtMB = (s?: Spread) => (s ? `${(s.median / 1e6).toFixed(1)} (${(s.min / 1e6).toFixed(1)}–${(s.max / 1e6).toFixed(1)})` : '—');
const fmtN = (s?: Spread) => (s ? `${s.median} (${s.min}–${s.max})` : '—');
export const fmtPct = (v?: number) => (v === undefined ? '—' : `${v > 0 ? '+' : ''}${v.toFixed(1)}%`);

const HEADER = ['mode', 'ok', 'total ms', 'downtime ms', 'guest pause ms', 'wire MB', 'rounds', 'vs plain dt/time/data', 'vs xen dt/time/data'];

function pctTriple(c: Partial<Record<Metric, number>>): string {
  return `${fmtPct(c.downtimeMs)} / ${fmtPct(c.totalMs)} / ${fmtPct(c.wireBytes)}`;
}

function cellRow(c: CellSummary): string[] {
  return [
    c.mode,
    `${c.okRuns}/${c.runs}`,
    fmtMs(c.metrics.totalMs),
    fmtMs(c.metrics.downtimeMs),
    fmtMs(c.metrics.guestPauseMs),
    fmtMB(c.metrics.wireBytes),
    fmtN(c.metrics.rounds),
    pctTriple(c.vsPlain),
    pctTriple(c.vsXen),
  ];
}

const PAPER_LINE = `paper (MECOM vs Xen): ${fmtPct(PAPER_CHANGE.downtimeMs)} downtime / ${fmtPct(PAPER_CHANGE.totalMs)} time / ${fmtPct(PAPER_CHANGE.wireBytes)} data`;

/** Groups of cells by (link, workload), in first-seen order. */
function groups(cells: CellSummary[]): CellSummary[][] {
  const m = new Map<string, CellSummary[]>();
  for (const c of cells) {
    const k = `${c.link} ${c.workload}`;
    m.set(k, [...(m.get(k) ?? []), c]);
  }
  return [...m.values()];
}

/** Plain-text table for the terminal. */
export function textTable(cells: CellSummary[]): string {
  let out = '';
  for (const g of groups(cells)) {
    out += `\n${g[0].workload} @ ${g[0].link} — median (min–max) over ok runs; ${PAPER_LINE}\n`;
    const lines = [HEADER, ...g.map(cellRow)];
    const widths = HEADER.map((_, i) => Math.max(...lines.map((l) => l[i].length)));
    for (const l of lines) out += l.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join('  ') + '\n';
    for (const c of g) for (const e of c.errors.slice(0, 2)) out += `  ${c.mode}: ${e}\n`;
  }
  return out;
}

/** Markdown table (docs/benchmarks.md). */
export function markdownTable(cells: CellSummary[]): string {
  let out = '';
  for (const g of groups(cells)) {
    out += `\n**${g[0].workload} @ ${g[0].link}** — median (min–max) over ok runs; change = dt / time / data\n\n`;
    out += `| ${HEADER.join(' | ')} |\n|${HEADER.map(() => '---').join('|')}|\n`;
    for (const c of g) out += `| ${cellRow(c).join(' | ')} |\n`;
  }
  return out + `\n${PAPER_LINE}\n`;
}

export function summaryJson(cells: CellSummary[], meta: Record<string, unknown>): unknown {
  return { ...meta, paperChangeVsXen: PAPER_CHANGE, cells };
}
