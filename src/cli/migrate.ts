import { Command, Option } from 'commander';
import { migrate } from '../agent/orchestrator.js';
import { CODEC_POLICIES, type CodecPolicy } from '../wire/frame-encode.js';
import { intOption } from './options.js';
import { progressView } from './progress.js';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('live-migrate a running QEMU guest to a destination QEMU (started with -incoming defer -S) through mecom')
    .requiredOption('--from <qmp>', 'QMP unix socket of the source QEMU')
    .requiredOption('--to <qmp>', 'QMP unix socket of the destination QEMU')
    .option('--downtime-limit <ms>', 'QEMU downtime-limit (default: QEMU\'s own, 300 ms)', intOption(1, 2_000_000))
    .option('--bandwidth <MBps>', 'cap QEMU\'s stream at this many MB/s (default: uncapped; the link paces it)', intOption(1))
    .addOption(new Option('--codec <policy>', 'page codec policy').choices(CODEC_POLICIES).default('adaptive'))
    .option('--batch-pages <n>', 'pages per frame', intOption(1, 65535), 256)
    .option('--no-model', 'adaptive codec without the link/CPU cost model (the page classifier alone)')
    .option('--direct', 'bypass mecom: plain QEMU migration, for comparison')
    .option('--prefault', "preallocate the destination's guest RAM before the transfer: its page faults (huge-page clears) leave the migration, and its RAM is committed in full first")
    .option('--timeout <s>', 'give up (source keeps running) after this many seconds', intOption(1), 300)
    .option('--json', 'print the result as JSON on stdout')
    .action(async (o: { from: string; to: string; downtimeLimit?: number; bandwidth?: number; codec: CodecPolicy; batchPages: number; model?: boolean; direct?: boolean; prefault?: boolean; timeout: number; json?: boolean }) => {
      const view = progressView(o.direct ? 'plain' : 'mecom');
      // Ctrl-C cancels cleanly: the orchestrator rolls back and the source keeps running.
      const interrupt = new AbortController();
      const onSignal = () => interrupt.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        const r = await migrate({
          fromQmp: o.from,
          toQmp: o.to,
          transport: o.direct ? { kind: 'direct' } : { kind: 'mecom', policy: o.codec, batchPages: o.batchPages, model: o.model !== false },
          downtimeLimitMs: o.downtimeLimit,
          bandwidthMBps: o.bandwidth,
          prefaultDestination: o.prefault === true,
          timeoutMs: o.timeout * 1000,
          onProgress: (p) => view.update(p),
          signal: interrupt.signal,
        });
        view.stop();
        if (o.json) process.stdout.write(JSON.stringify(r) + '\n');
        else {
          process.stdout.write(
            `migrated and verified: total ${r.totalMs} ms, downtime ${r.downtimeMs} ms, ${r.rounds} rounds, ` +
              `${(r.wireBytes / 1e6).toFixed(1)} MB on the wire for ${(r.ramBytes / 1e6).toFixed(0)} MB of RAM ` +
              `(QEMU wrote ${(r.qemuBytes / 1e6).toFixed(1)} MB); pages by codec ${JSON.stringify(r.pagesByCodec)}; ` +
              `destination resumed ${r.switchover.resumed} ms after the source completed` +
              (r.prefaultMs !== undefined ? `; its RAM was preallocated in ${r.prefaultMs} ms before the transfer` : '') + '\n',
          );
        }
      } finally {
        view.stop();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
