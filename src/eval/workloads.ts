/**
 * The evaluation's workloads: a name, the guest workload it runs and the arguments it gets
 * (kernel command line mecom.KEY=VALUE, see guest/src/workloads.c and compile.c). What each
 * writes is stated here and in docs/benchmarks.md, because it decides every compression result.
 */
export interface EvalWorkload {
  name: string;
  guest: 'idle' | 'memwrite' | 'random' | 'hog' | 'compile';
  args: Record<string, string>;
  writes: string;
}

export const EVAL_WORKLOADS: readonly EvalWorkload[] = [
  {
    name: 'idle',
    guest: 'idle',
    args: {},
    writes: 'nothing but the checker (8 MiB of pseudo-random check patterns, 4 pages rewritten per 10 ms tick)',
  },
  {
    name: 'memwrite-slow',
    guest: 'memwrite',
    args: { size: '64M', rate: '8M' },
    writes: 'a 64 MiB working set rewritten at 8 MiB/s in 64 KiB chunks of mixed content (text 28%, decimal numbers 14%, pointer arrays 20%, small-integer arrays 16%, mostly-zero structs 14%, random bytes 8%)',
  },
  {
    name: 'memwrite',
    guest: 'memwrite',
    args: { size: '64M', rate: '32M' },
    writes: 'the same 64 MiB mixed-content working set rewritten at 32 MiB/s',
  },
  {
    name: 'hog',
    guest: 'hog',
    args: { size: '128M' },
    writes: 'one 64-bit counter increment in every page of 128 MiB, nonstop (every page dirty all the time; pages otherwise zero)',
  },
  {
    name: 'compile',
    guest: 'compile',
    args: { size: '32M', rate: '16M' },
    writes: 'a build tree in tmpfs (~32 MiB): source-like text files, object-like binaries and archives rewritten cyclically at 16 MiB/s',
  },
  {
    name: 'random',
    guest: 'random',
    args: { size: '64M', rate: '32M' },
    writes: 'a 64 MiB working set of random bytes rewritten at 32 MiB/s: the case no compressor can win',
  },
];

export function findWorkload(name: string): EvalWorkload | undefined {
  return EVAL_WORKLOADS.find((w) => w.name === name);
}
