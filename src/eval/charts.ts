/**
 * SVG charts of the evaluation: per link and metric (downtime, total time, wire bytes), a bar
 * per mode (median over ok runs) with a min–max rule, one panel per workload. Specified in
 * vega-lite, compiled to vega and rendered headless with View.toSVG.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { CellSummary, Metric } from './stats.js';

const TITLES: Record<Metric, { title: string; scale: number; unit: string }> = {
  downtimeMs: { title: 'Downtime (QEMU)', scale: 1, unit: 'ms' },
  totalMs: { title: 'Total migration time', scale: 1, unit: 'ms' },
  wireBytes: { title: 'Bytes on the link', scale: 1e-6, unit: 'MB' },
};

export function chartSpec(cells: CellSummary[], link: string, metric: Metric): Record<string, unknown> {
  const t = TITLES[metric];
  const values = cells
    .filter((c) => c.link === link && c.metrics[metric])
    .map((c) => ({
      workload: c.workload,
      mode: c.mode,
      median: c.metrics[metric]!.median * t.scale,
      min: c.metrics[metric]!.min * t.scale,
      max: c.metrics[metric]!.max * t.scale,
      ok: `${c.okRuns}/${c.runs}`,
    }));
  const modes = [...new Set(cells.map((c) => c.mode))];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `${t.title} @ ${link} (median, min–max; ok runs only)`,
    data: { values },
    facet: { column: { field: 'workload', type: 'nominal', title: null } },
    spec: {
      width: Math.max(120, modes.length * 18),
      height: 220,
      layer: [
        {
          mark: 'bar',
          encoding: {
            x: { field: 'mode', type: 'nominal', sort: modes, title: null, axis: { labelAngle: -60 } },
            y: { field: 'median', type: 'quantitative', title: `${t.title} (${t.unit})` },
            color: { field: 'mode', type: 'nominal', sort: modes, legend: null },
          },
        },
        {
          mark: { type: 'rule', color: 'black' },
          encoding: {
            x: { field: 'mode', type: 'nominal', sort: modes },
            y: { field: 'min', type: 'quantitative' },
            y2: { field: 'max' },
          },
        },
      ],
    },
    resolve: { scale: { y: 'independent' } },
  };
}

/** Renders every (link, metric) chart into `dir`; returns the files written. */
export async function writeCharts(cells: CellSummary[], dir: string): Promise<string[]> {
  const vl = await import('vega-lite');
  const vega = await import('vega');
  const files: string[] = [];
  for (const link of [...new Set(cells.map((c) => c.link))]) {
    for (const metric of Object.keys(TITLES) as Metric[]) {
      const spec = chartSpec(cells, link, metric);
      if ((spec.data as { values: unknown[] }).values.length === 0) continue;
      const compiled = vl.compile(spec as never).spec;
      const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
      const svg = await view.toSVG();
      view.finalize();
      const file = path.join(dir, `chart-${link}-${metric}.svg`);
      fs.writeFileSync(file, svg);
      files.push(file);
    }
  }
  return files;
}
