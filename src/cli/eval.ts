/**
 * `mecom eval`: the live evaluation (docs/benchmarks.md, "Live evaluation"), and the hidden
 * `mecom tunnel` used by its pipe-zstd mode. Parsing and printing only; the work is in src/eval.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import { UsageError } from '../errors.js';
import { intOption } from './options.js';

interface EvalCliOptions {
  workloads?: string;
  modes?: string;
  links?: string;
  runs?: number;
  json?: boolean;
  out?: string;
  mem: number;
  timeLimit?: number;
  warmup: number;
  quick?: boolean;
  from?: string;
  markdown?: boolean;
  prefault?: boolean;
}

const QUICK = { workloads: 'memwrite,hog', modes: 'plain,xen,mecom,qemu-multifd-zstd', links: '1gbit', runs: 2, timeLimit: 30 };
const DEFAULTS = { links: '1gbit', runs: 3, timeLimit: 60 };

function list<T>(what: string, value: string, known: readonly T[], find: (s: string) => T | undefined, names: string[]): T[] {
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new UsageError(`--${what} is empty`);
  return items.map((s) => {
    const f = find(s);
    if (f === undefined) throw new UsageError(`unknown ${what.replace(/s$/, '')} '${s}' (one of ${names.join(', ')})`);
    return f;
  });
}

function hostPort(v: string): { host: string; port: number } {
  const i = v.lastIndexOf(':');
  const port = Number(v.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`expected HOST:PORT, got '${v}'`);
  return { host: v.slice(0, i), port };
}

/** `--from`: summarise rows already measured (several runs of `mecom eval` merged). */
async function report(o: EvalCliOptions, outDir: string): Promise<void> {
  const { summarise } = await import('../eval/stats.js');
  const { textTable, markdownTable, summaryJson } = await import('../eval/report.js');
  const { writeCharts } = await import('../eval/charts.js');
  const files = o.from!.split(',').filter(Boolean);
  if (files.length === 0) throw new UsageError('--from is empty');
  const rows = files.flatMap((f) => {
    let text: string;
    try {
      text = fs.readFileSync(f, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read ${f}: ${(err as Error).message}`);
    }
    return text.split('\n').filter((l) => l.trim()).map((l, i) => {
      try {
        return JSON.parse(l) as import('../eval/stats.js').EvalRow;
      } catch {
        throw new UsageError(`${f}:${i + 1}: not a JSON row`);
      }
    });
  });
  const cells = summarise(rows);
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'summary.json'), JSON.stringify(summaryJson(cells, { from: files, rows: rows.length }), null, 2) + '\n');
  const charts = await writeCharts(cells, outDir);
  process.stdout.write(o.markdown ? markdownTable(cells) : textTable(cells));
  process.stdout.write(`\ncharts: ${charts.map((c) => path.basename(c)).join(', ')}\n`);
}

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('Live evaluation: migrate real guests under every mode over shaped links and compare (needs root)')
    .option('--workloads <list>', 'comma-separated: idle, memwrite-slow, memwrite, hog, compile, random (default all)')
    .option('--modes <list>', 'comma-separated: plain, xen, mecom, mecom-classifier, mecom-zero, mecom-wkdm, mecom-lz4, mecom-zstd, qemu-xbzrle, qemu-multifd-zstd, qemu-multifd-zlib, pipe-zstd (default all)')
    .option('--links <list>', 'comma-separated: 100mbit, 1gbit, 10gbit, loopback (default 1gbit)')
    .option('--runs <n>', 'runs per cell (default 3)', intOption(1, 1000))
    .option('--json', 'print one JSON row per run on stdout instead of the table')
    .option('--out <dir>', 'write rows.jsonl, summary.json and SVG charts here (default ./eval-out)')
    .option('--mem <MiB>', 'guest memory', intOption(128, 65536), 512)
    .option('--time-limit <s>', 'per-run limit on the migration; past it the run counts as not converged (default 60)', intOption(1, 86400))
    .option('--warmup <ms>', 'let the workload run this long before migrating', intOption(0, 600000), 4000)
    .option('--from <files>', 'run nothing: summarise these rows.jsonl files (comma-separated) into --out')
    .option('--markdown', 'print the table as Markdown')
    .option('--prefault', "preallocate every destination's RAM before migrating, in every mode alike (mecom migrate --prefault)")
    .option('--quick', `quick check: ${QUICK.workloads} x ${QUICK.modes} @ ${QUICK.links}, ${QUICK.runs} runs, ${QUICK.timeLimit} s per run`)
    .action(async (o: EvalCliOptions) => {
      const { EVAL_WORKLOADS, findWorkload } = await import('../eval/workloads.js');
      const { EVAL_LINKS, findLink } = await import('../eval/links.js');
      const { EVAL_MODES, isEvalMode } = await import('../eval/modes.js');
      const q = o.quick ? QUICK : undefined;
      const workloads = list('workloads', o.workloads ?? q?.workloads ?? EVAL_WORKLOADS.map((w) => w.name).join(','), EVAL_WORKLOADS, findWorkload, EVAL_WORKLOADS.map((w) => w.name));
      const modes = list('modes', o.modes ?? q?.modes ?? EVAL_MODES.join(','), EVAL_MODES, (s) => (isEvalMode(s) ? s : undefined), [...EVAL_MODES]);
      const links = list('links', o.links ?? q?.links ?? DEFAULTS.links, EVAL_LINKS, findLink, EVAL_LINKS.map((l) => l.name));
      for (const [what, arr] of [['workloads', workloads.map((w) => w.name)], ['modes', modes as string[]], ['links', links.map((l) => l.name)]] as [string, string[]][]) {
        const dup = arr.find((x, i) => arr.indexOf(x) !== i);
        if (dup) throw new UsageError(`--${what} lists '${dup}' twice`);
      }
      const runs = o.runs ?? q?.runs ?? DEFAULTS.runs;
      const timeLimitS = o.timeLimit ?? q?.timeLimit ?? DEFAULTS.timeLimit;
      const outDir = path.resolve(o.out ?? 'eval-out');
      if (o.from !== undefined) return report(o, outDir);

      const { guestKit } = await import('../guest/kit.js');
      guestKit();
      const { runEval, machineFacts } = await import('../eval/harness.js');
      const { summarise } = await import('../eval/stats.js');
      const { textTable, markdownTable, summaryJson } = await import('../eval/report.js');
      const { writeCharts } = await import('../eval/charts.js');

      fs.mkdirSync(outDir, { recursive: true });
      const rowsPath = path.join(outDir, 'rows.jsonl');
      fs.writeFileSync(rowsPath, '');
      const startedAt = new Date().toISOString();
      const t0 = Date.now();
      const rows = await runEval({
        workloads,
        modes,
        links,
        runs,
        memMiB: o.mem,
        timeLimitS,
        warmupMs: o.warmup,
        prefault: o.prefault === true,
        rowsPath,
        onCellStart: (c, i, n) => process.stderr.write(`[${i + 1}/${n}] ${c.workload} @ ${c.link} ${c.mode} run ${c.run} ... `),
        onRow: (r) => {
          process.stderr.write(r.ok ? `ok ${r.totalMs} ms, downtime ${r.downtimeMs} ms, ${((r.wireBytes ?? 0) / 1e6).toFixed(1)} MB\n` : `FAILED: ${r.error}\n`);
          if (o.json) process.stdout.write(JSON.stringify(r) + '\n');
        },
      });
      const cells = summarise(rows);
      const meta = {
        command: `mecom ${process.argv.slice(2).join(' ')}`,
        startedAt,
        elapsedS: Math.round((Date.now() - t0) / 1000),
        machine: await machineFacts(),
        config: { workloads: workloads.map((w) => w.name), modes, links: links.map((l) => l.name), runs, memMiB: o.mem, timeLimitS, warmupMs: o.warmup, prefault: o.prefault === true },
        workloadDefinitions: Object.fromEntries(workloads.map((w) => [w.name, { guest: w.guest, args: w.args, writes: w.writes }])),
      };
      fs.writeFileSync(path.join(outDir, 'summary.json'), JSON.stringify(summaryJson(cells, meta), null, 2) + '\n');
      const charts = await writeCharts(cells, outDir);
      if (!o.json) {
        process.stdout.write(o.markdown ? markdownTable(cells) : textTable(cells));
        process.stdout.write(`\nrows: ${rowsPath}\nsummary: ${path.join(outDir, 'summary.json')}\ncharts: ${charts.map((c) => path.basename(c)).join(', ')}\n`);
      }
    });

  program
    .addCommand(
      new Command('tunnel')
        .description('(internal) one end of the pipe-zstd evaluation tunnel')
        .addOption(new Option('--role <role>', 'compress or decompress').choices(['compress', 'decompress']).makeOptionMandatory())
        .requiredOption('--listen <host:port>', 'where to accept connections')
        .requiredOption('--to <host:port>', 'where to forward them')
        .option('--level <n>', 'zstd level', intOption(1, 19), 1)
        .action(async (o: { role: 'compress' | 'decompress'; listen: string; to: string; level: number }) => {
          const { serveTunnel } = await import('../eval/tunnel.js');
          await serveTunnel({
            role: o.role,
            listen: hostPort(o.listen),
            to: hostPort(o.to),
            level: o.level,
            onEvent: (ev) => process.stdout.write(JSON.stringify(ev) + '\n'),
          });
          // Serve until stopped.
          await new Promise<void>((resolve) => {
            process.once('SIGTERM', () => resolve());
            process.once('SIGINT', () => resolve());
          });
        }),
      { hidden: true },
    );
}
