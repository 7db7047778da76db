import type { Command } from 'commander';

/** TODO: placeholder until the command is implemented. */
export function registerDemo(program: Command): void {
  program.command('demo').description('Boot a guest and migrate it live, mecom vs plain QEMU (not yet implemented)');
}
