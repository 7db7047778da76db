import { InvalidArgumentError, type Command } from 'commander';
import type { CodecPolicy } from '../wire/frame-encode.js';
import { UsageError } from '../errors.js';

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
    .option('--corpus <file>', 'file of whole 4 KiB pages (default: the built-in sources, see --sources)')
    .option('--sources <list>', 'built-in corpus sources: node (a node process\'s memory), python (a python3 process\'s), guest (a live test guest\'s RAM)', 'node,python,guest')
    .option('--no-guest', 'same as leaving guest out of --sources (no QEMU boot)')
    .option('--pages <n>', 'at most this many pages', positiveInt)
    .option('--reps <n>', 'repetitions per codec (median is reported)', positiveInt, 7)
    .option('--save-corpus <file>', 'also write the corpus (whole pages) to this file, for --corpus later')
    .option('--json', 'print JSON instead of a table')
    .action(async (o: { corpus?: string; sources: string; guest: boolean; pages?: number; reps: number; saveCorpus?: string; json?: boolean }) => {
      const { loadCorpus, fileSource, nodeProcessSource, pythonProcessSource, DEFAULT_PROCESS_PAGES } = await import('../eval/corpus.js');
      const { benchCodecs, formatReport } = await import('../eval/bench-codec.js');
      const { UsageError } = await import('../errors.js');
      const sources = [];
      if (o.corpus !== undefined) sources.push(fileSource(o.corpus));
      else {
        const names = o.sources.split(',').map((x) => x.trim()).filter((x) => x !== '');
        for (const n of names) if (!['node', 'python', 'guest'].includes(n)) throw new UsageError(`unknown corpus source '${n}' (node, python, guest)`);
        if (names.length === 0) throw new UsageError('--sources is empty');
        if (names.includes('node')) sources.push(nodeProcessSource());
        if (names.includes('python')) sources.push(pythonProcessSource());
        if (names.includes('guest') && o.guest) {
          const { guestKit } = await import('../guest/kit.js');
          const { guestSource } = await import('../eval/guest-corpus.js');
          try {
            guestKit();
            sources.push(guestSource());
          } catch (err) {
            process.stderr.write(`mecom: corpus without guest RAM: ${(err as Error).message}\n`);
          }
        }
      }
      const perSource = o.pages !== undefined ? Math.ceil(o.pages / sources.length) : o.corpus !== undefined ? Number.MAX_SAFE_INTEGER : DEFAULT_PROCESS_PAGES;
      const corpus = await loadCorpus(sources, perSource);
      if (corpus.pageCount === 0) throw new UsageError('the corpus is empty');
      if (o.saveCorpus !== undefined) (await import('node:fs')).writeFileSync(o.saveCorpus, corpus.pages);
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
    .option('--reps <n>', 'runs per configuration, interleaved (the median is reported)', positiveInt, 3)
    .option('--codecs <list>', 'comma-separated settings to run (default: raw, every fixed codec, adaptive; worker scaling runs those of zstd, zstd-group, lz4 listed)')
    .option('--json', 'print JSON instead of a table')
    .action(async (o: { corpus?: string; pages: number; links: string; threads: string; seconds: string; reps: number; codecs?: string; json?: boolean }) => {
      const { loadCorpus, fileSource, builtinSources } = await import('../eval/corpus.js');
      const { benchThroughput, formatThroughput, THROUGHPUT_FIXED, SCALING_POLICIES } = await import('../eval/bench-throughput.js');
      let policies: CodecPolicy[] | undefined;
      if (o.codecs !== undefined) {
        const known: string[] = [...THROUGHPUT_FIXED, 'adaptive'];
        policies = o.codecs.split(',').map((x) => {
          if (!known.includes(x)) throw new UsageError(`unknown codec setting: ${x} (one of ${known.join(', ')})`);
          return x as CodecPolicy;
        });
      }
      const list = (s: string, what: string) => s.split(',').map((x) => {
        const n = Number(x);
        if (!(n > 0)) throw new UsageError(`bad ${what}: ${x}`);
        return n;
      });
      const sources = o.corpus !== undefined ? [fileSource(o.corpus)] : builtinSources();
      const corpus = await loadCorpus(sources, Math.ceil(o.pages / sources.length));
      const report = await benchThroughput(corpus, {
        links: list(o.links, 'link speed'),
        threads: list(o.threads, 'thread count').map((n) => Math.max(1, Math.round(n))),
        runMs: list(o.seconds, 'seconds')[0] * 1000,
        reps: o.reps,
        policies,
        scalingPolicies: policies && SCALING_POLICIES.filter((p) => policies!.includes(p)),
        onResult: o.json ? undefined : (gbit, r) => process.stderr.write(`  ${gbit} Gbit/s ${r.name} x${r.threads}: ${r.effectiveMBps} MB/s\n`),
      });
      process.stdout.write(o.json ? JSON.stringify(report) + '\n' : formatThroughput(report) + '\n');
    });
}
