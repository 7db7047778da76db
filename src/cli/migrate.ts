import type { Command } from 'commander';

/** TODO: placeholder until the command is implemented. */
export function registerMigrate(program: Command): void {
  program.command('migrate').description('Live-migrate a QEMU guest through mecom (not yet implemented)');
}
