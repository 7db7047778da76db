import type { Command } from 'commander';

/** TODO: placeholder until the command is implemented. */
export function registerBench(program: Command): void {
  program.command('bench').description('Benchmarks (codec) (not yet implemented)');
}
