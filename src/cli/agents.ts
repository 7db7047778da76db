/**
 * `mecom send` and `mecom receive`: the two agents as processes. With --json each prints one
 * JSON object per line on stdout (events: listening, ready, progress, done, failed), which is
 * how `mecom migrate` drives and watches them.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { parseAddress } from '../agent/address.js';
import { Sender } from '../agent/sender.js';
import { Receiver } from '../agent/receiver.js';
import { MecomError } from '../errors.js';
import { CODEC_POLICIES, type CodecPolicy } from '../wire/frame-encode.js';
import { intOption } from './options.js';
import { DEFAULT_AGENT_NICE, lowerPriority } from '../agent/priority.js';

function addressOption(value: string): string {
  try {
    parseAddress(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
  return value;
}

/** `--nice`, for both agents (a commander Option belongs to one command: one per call). */
function niceOption(): Option {
  return new Option('--nice <n>', 'scheduling priority of the agent (0-19): it yields the CPU to QEMU, whose threads cannot wait (docs/architecture.md "Priority")')
    .argParser(intOption(0, 19))
    .default(DEFAULT_AGENT_NICE);
}

type Emit = (event: string, data?: Record<string, unknown>) => void;

function emitter(json: boolean, who: string): Emit {
  return (event, data = {}) => {
    if (json) process.stdout.write(JSON.stringify({ event, ...data }) + '\n');
    // Human mode: the CLI's own error line reports a failure; progress is for machines.
    else if (event !== 'progress' && event !== 'failed') process.stderr.write(`mecom ${who}: ${event}${Object.keys(data).length ? ' ' + JSON.stringify(data) : ''}\n`);
  };
}

/** Rate-limit progress lines: the orchestrator polls, it does not need every chunk. */
function throttle(fn: () => void, ms: number): () => void {
  let last = 0;
  return () => {
    const now = Date.now();
    if (now - last >= ms) {
      last = now;
      fn();
    }
  };
}

async function runAgent(agent: Sender | Receiver, emit: Emit, onStart: (port: number) => void): Promise<void> {
  const stop = (sig: string) => agent.abort(`interrupted by ${sig}`);
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  // CPU from the start of the stream on: what the migration itself cost, start-up excluded.
  let atStream: NodeJS.CpuUsage | undefined;
  agent.on('state', (state) => {
    if (state === 'streaming') atStream = process.cpuUsage();
    emit('state', { state });
  });
  try {
    onStart(await agent.start());
    const stats = await agent.done;
    // The agent's own CPU (all threads, user + system) over its life: what a migration costs
    // the host beside QEMU, and what limits mecom when the link is faster than the host.
    const cpu = process.cpuUsage();
    const seconds = (us: number) => Math.round(us / 1000) / 1000;
    const stream = atStream && process.cpuUsage(atStream);
    emit('done', {
      ...stats,
      cpuSeconds: seconds(cpu.user + cpu.system),
      ...(stream ? { streamCpuSeconds: { user: seconds(stream.user), system: seconds(stream.system) } } : {}),
    });
  } catch (err) {
    const e = err as MecomError;
    emit('failed', { code: e.code, message: e.message });
    throw err;
  }
}

export function registerAgents(program: Command): void {
  program
    .command('send')
    .description('source-side agent: take QEMU\'s migration stream, compress its pages, send frames to `mecom receive`')
    .requiredOption('--listen <addr>', 'HOST:PORT or unix:PATH where the source QEMU connects (migrate tcp:HOST:PORT or unix:PATH); port 0 picks one', addressOption)
    .requiredOption('--to <addr>', 'HOST:PORT of `mecom receive`', addressOption)
    .addOption(new Option('--codec <policy>', 'page codec policy').choices(CODEC_POLICIES).default('adaptive'))
    .option('--batch-pages <n>', 'pages per frame', intOption(1, 65535), 256)
    .option('--zstd-level <n>', 'zstd level for pages sent with zstd (default: 1 for --codec zstd, -1 for the adaptive codec\'s per-page zstd)', intOption(-7, 19))
    .option('--threads <n>', 'encode worker threads (default: cores - 1, at least 1)', intOption(1, 256))
    .option('--max-cpu <percent>', 'CPU budget of the encode workers, percent of one core (e.g. 150 = 1.5 cores)', intOption(1, 25600))
    .option('--no-model', 'adaptive policy without the link/CPU cost model: the page classifier alone picks each codec')
    .option('--trials', 'settle the cost model\'s CPU-dependent choice by trials of its plan against its plan with the whole CPU budget (experimental; docs/codec.md "Trials")')
    .addOption(niceOption())
    .option('--json', 'print events as JSON lines on stdout')
    .action(async (o: { listen: string; to: string; codec: CodecPolicy; batchPages: number; zstdLevel?: number; threads?: number; maxCpu?: number; model?: boolean; trials?: boolean; nice: number; json?: boolean }) => {
      const emit = emitter(!!o.json, 'send');
      lowerPriority(o.nice); // before the workers start: they inherit it
      const sender = new Sender({
        listen: parseAddress(o.listen),
        to: parseAddress(o.to),
        policy: o.codec,
        batchPages: o.batchPages,
        zstdLevel: o.zstdLevel,
        threads: o.threads,
        maxCpuPercent: o.maxCpu,
        model: o.model !== false,
        trials: o.trials === true,
      });
      sender.on('progress', throttle(() => emit('progress', { ...sender.stats() }), 200));
      await runAgent(sender, emit, (port) => emit('listening', { port }));
    });

  program
    .command('receive')
    .description('destination-side agent: verify frames from `mecom send` and rebuild QEMU\'s stream for the destination QEMU')
    .requiredOption('--listen <addr>', 'HOST:PORT where `mecom send` connects; port 0 picks one', addressOption)
    .requiredOption('--to <addr>', 'HOST:PORT or unix:PATH of the destination QEMU (migrate-incoming tcp:HOST:PORT or unix:PATH)', addressOption)
    .option('--threads <n>', 'decode worker threads (default: cores - 1, at least 1)', intOption(1, 256))
    .addOption(niceOption())
    .option('--json', 'print events as JSON lines on stdout')
    .action(async (o: { listen: string; to: string; threads?: number; nice: number; json?: boolean }) => {
      const emit = emitter(!!o.json, 'receive');
      lowerPriority(o.nice); // before the workers start: they inherit it
      const receiver = new Receiver({ listen: parseAddress(o.listen), to: parseAddress(o.to), threads: o.threads });
      await runAgent(receiver, emit, (port) => emit('listening', { port }));
    });
}
