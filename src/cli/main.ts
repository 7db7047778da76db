#!/usr/bin/env node
/**
 * mecom command line. Parsing only: every command's work lives in its own
 * module and is loaded lazily so `mecom --help` stays fast.
 */
import { Command, CommanderError } from 'commander';
import { MecomError } from '../errors.js';
import { registerBench } from './bench.js';
import { registerGuest } from './guest.js';
import { registerAgents } from './agents.js';
import { registerMigrate } from './migrate.js';
import { registerDemo } from './demo.js';
import { registerEval } from './eval.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('mecom')
    .description('Live migration of QEMU virtual machines with adaptive memory compression')
    .version('0.1.0')
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({
      // commander prints "error: ..." itself; keep it to one line.
      outputError: (str, write) => write(str.trimEnd() + '\n'),
    });
  // One module per command group; each owns its options and its output.
  registerBench(program);
  registerGuest(program);
  registerAgents(program);
  registerMigrate(program);
  registerDemo(program);
  registerEval(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version are "errors" to commander with exit code 0.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof MecomError) {
      process.stderr.write(`mecom: ${err.message} [${err.code}]\n`);
      return err.exitCode;
    }
    process.stderr.write(`mecom: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    return 70;
  }
}

const isEntry = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isEntry || process.argv[1]?.endsWith('/mecom')) {
  main(process.argv).then((code) => process.exit(code));
}
