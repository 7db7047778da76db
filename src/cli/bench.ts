import { InvalidArgumentError, type Command } from 'commander';

function positiveInt(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

/** `mecom bench codec`: codec ratio and speed on real memory pages. */
export function registerBench(program: Command): void {
  const bench = program.command('bench').description('Benchmarks');
  bench
    .command('codec')
    .description('Encode and decode real memory pages with every codec and the adaptive policy (one core)')
    .option('--corpus <file>', 'file of whole 4 KiB pages (default: memory of freshly spawned node and python3 processes)')
    .option('--pages <n>', 'at most this many pages', positiveInt)
    .option('--reps <n>', 'repetitions per codec (median is reported)', positiveInt, 3)
    .option('--json', 'print JSON instead of a table')
    .action(async (o: { corpus?: string; pages?: number; reps: number; json?: boolean }) => {
      const { loadCorpus, fileSource, builtinSources, DEFAULT_PROCESS_PAGES } = await import('../eval/corpus.js');
      const { benchCodecs, formatReport } = await import('../eval/bench-codec.js');
      const sources = o.corpus !== undefined ? [fileSource(o.corpus)] : builtinSources();
      const perSource = o.pages !== undefined ? Math.ceil(o.pages / sources.length) : o.corpus !== undefined ? Number.MAX_SAFE_INTEGER : DEFAULT_PROCESS_PAGES;
      const corpus = await loadCorpus(sources, perSource);
      const report = benchCodecs(corpus, { repetitions: o.reps, verify: true });
      process.stdout.write(o.json ? JSON.stringify(report) + '\n' : formatReport(report) + '\n');
    });
}
