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
    .option('--corpus <file>', 'file of whole 4 KiB pages (default: memory of freshly spawned node and python3 processes and a live guest\'s RAM)')
    .option('--no-guest', 'leave the guest RAM out of the built-in corpus (no QEMU boot)')
    .option('--pages <n>', 'at most this many pages', positiveInt)
    .option('--reps <n>', 'repetitions per codec (median is reported)', positiveInt, 7)
    .option('--json', 'print JSON instead of a table')
    .action(async (o: { corpus?: string; guest: boolean; pages?: number; reps: number; json?: boolean }) => {
      const { loadCorpus, fileSource, builtinSources, DEFAULT_PROCESS_PAGES } = await import('../eval/corpus.js');
      const { benchCodecs, formatReport } = await import('../eval/bench-codec.js');
      const sources = o.corpus !== undefined ? [fileSource(o.corpus)] : builtinSources();
      if (o.corpus === undefined && o.guest) {
        const { guestKit } = await import('../guest/kit.js');
        const { guestSource } = await import('../eval/guest-corpus.js');
        try {
          guestKit();
          sources.push(guestSource());
        } catch (err) {
          process.stderr.write(`mecom: corpus without guest RAM: ${(err as Error).message}\n`);
        }
      }
      const perSource = o.pages !== undefined ? Math.ceil(o.pages / sources.length) : o.corpus !== undefined ? Number.MAX_SAFE_INTEGER : DEFAULT_PROCESS_PAGES;
      const corpus = await loadCorpus(sources, perSource);
      const report = benchCodecs(corpus, { repetitions: o.reps, verify: true });
      process.stdout.write(o.json ? JSON.stringify(report) + '\n' : formatReport(report) + '\n');
    });

  bench
    .command('throughput')
    .description('Effective throughput of raw, each fixed codec and adaptive (cost model) over simulated 0.1/1/10 Gbit/s links, 1 and 2 workers')
    .option('--corpus <file>', 'file of whole 4 KiB pages (default: memory of freshly spawned node and python3 processes)')
    .option('--pages <n>', 'at most this many corpus pages', positiveInt, 8192)
    .option('--links <list>', 'comma-separated link speeds in Gbit/s', '0.1,1,10')
    .option('--threads <list>', 'comma-separated worker counts', '1,2')
    .option('--seconds <s>', 'wall time per configuration', '2.5')
    .option('--reps <n>', 'runs per configuration (median is reported)', positiveInt, 1)
    .option('--json', 'print JSON instead of a table')
    .action(async (o: { corpus?: string; pages: number; links: string; threads: string; seconds: string; reps: number; json?: boolean }) => {
      const { loadCorpus, fileSource, builtinSources } = await import('../eval/corpus.js');
      const { benchThroughput, formatThroughput } = await import('../eval/bench-throughput.js');
      const list = (s: string, what: string) => s.split(',').map((x) => {
        const n = Number(x);
        if (!(n > 0)) throw new InvalidArgumentError(`bad ${what}: ${x}`);
        return n;
      });
      const sources = o.corpus !== undefined ? [fileSource(o.corpus)] : builtinSources();
      const corpus = await loadCorpus(sources, Math.ceil(o.pages / sources.length));
      const report = await benchThroughput(corpus, {
        links: list(o.links, 'link speed'),
        threads: list(o.threads, 'thread count').map((n) => Math.max(1, Math.round(n))),
        runMs: list(o.seconds, 'seconds')[0] * 1000,
        reps: o.reps,
        onResult: o.json ? undefined : (gbit, r) => process.stderr.write(`  ${gbit} Gbit/s ${r.name} x${r.threads}: ${r.effectiveMBps} MB/s\n`),
      });
      process.stdout.write(o.json ? JSON.stringify(report) + '\n' : formatThroughput(report) + '\n');
    });
}
