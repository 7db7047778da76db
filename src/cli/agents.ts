import type { Command } from 'commander';

/** TODO: placeholder until the command is implemented. */
export function registerAgents(program: Command): void {
  program.command('send').description('Source-side agent (not yet implemented)');
}
