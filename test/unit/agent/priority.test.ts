/**
 * The agents' priority: every thread of the process lowered, threads started afterwards (the
 * workers) inherit it, and the agents' CLI applies `--nice`. Each case runs in a child process:
 * renicing the test runner would slow every test after it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const priorityModule = path.resolve(here, '../../../src/agent/priority.js');
const cli = path.resolve(here, '../../../src/cli/main.js');

/** Nice value of every thread of `pid` (field 19 of /proc/PID/task/TID/stat). */
function threadNices(pid: number): number[] {
  return fs.readdirSync(`/proc/${pid}/task`).map((tid) => {
    const s = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    return Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[16]);
  });
}

test('lowerPriority lowers every thread, and a worker started afterwards inherits it', () => {
  const script = `
    import { lowerPriority } from ${JSON.stringify(priorityModule)};
    import { Worker } from 'node:worker_threads';
    import fs from 'node:fs';
    const threadNices = ${threadNices.toString()}; // the reader above, by its source (it uses fs, imported here)
    const changed = lowerPriority(7);
    const w = new Worker('setTimeout(() => {}, 1000)', { eval: true });
    await new Promise((r) => w.once('online', r));
    const nices = threadNices(process.pid);
    // Never raised again: a second, higher-priority call leaves the threads at 7.
    lowerPriority(3);
    const after = threadNices(process.pid);
    console.log(JSON.stringify({ changed, nices, after }));
    process.exit(0);`;
  const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }));
  assert.ok(out.changed >= 2, `changed ${out.changed} threads`);
  // The worker adds threads of its own; all of them, and all the earlier ones, are at 7.
  assert.ok(out.nices.length > out.changed, 'the worker started threads');
  assert.deepEqual([...new Set(out.nices)], [7]);
  assert.deepEqual([...new Set(out.after)], [7]);
  assert.throws(() => execFileSync(process.execPath, ['--input-type=module', '-e', `import { lowerPriority } from ${JSON.stringify(priorityModule)}; lowerPriority(20);`], { stdio: 'pipe' }), /nice must be an integer 0..19/);
});

test('mecom receive runs at --nice (default 10) on all its threads', async () => {
  for (const [args, want] of [[[], 10], [['--nice', '4'], 4]] as const) {
    const p = spawn(process.execPath, [cli, 'receive', '--listen', '127.0.0.1:0', '--to', '127.0.0.1:9', '--json', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      await new Promise<void>((resolve, reject) => {
        p.stdout.setEncoding('utf8').on('data', (d: string) => { if (d.includes('"listening"')) resolve(); });
        p.once('exit', (code) => reject(new Error(`receive exited ${code}`)));
      });
      const nices = threadNices(p.pid!);
      assert.ok(nices.length > 2);
      assert.deepEqual([...new Set(nices)], [want], `threads at ${JSON.stringify(nices)}`);
    } finally {
      p.kill('SIGTERM');
    }
  }
  const bad = spawn(process.execPath, [cli, 'receive', '--listen', '127.0.0.1:0', '--to', '127.0.0.1:9', '--nice', '25'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  bad.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
  const code = await new Promise<number | null>((r) => bad.once('exit', r));
  assert.equal(code, 2);
  assert.match(err, /--nice.*must be between 0 and 19/);
});
