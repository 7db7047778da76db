import type { Command } from 'commander';

/** TODO: placeholder until the command is implemented. */
export function registerGuest(program: Command): void {
  program.command('guest').description('Build and boot the test guest kit (not yet implemented)');
}
