/**
 * The evaluation's link: a veth pair between the root namespace and a network namespace the
 * harness creates, shaped with tbf on both ends' egress. The destination QEMU and `mecom
 * receive` run inside the namespace, so every mode's migration crosses this pair and nothing
 * else (the namespace has no other interface than its loopback and no route out).
 *
 * Everything created is recorded and removed by `destroy()`, which also runs on process exit
 * and on SIGINT/SIGTERM. The /30 is chosen from 10.213.0.0/16 and checked against the
 * addresses already present.
 */
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { MecomError } from '../errors.js';

export class NetnsError extends MecomError {}

export interface LinkCounters {
  txBytes: number;
  rxBytes: number;
}

function run(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new NetnsError('MECOM_EVAL_NETNS', `${cmd} ${args.join(' ')} failed: ${(e.stderr ?? e.message).trim()}`, { cause: err });
  }
}

function tryRun(cmd: string, args: string[]): void {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
  } catch {
    // already gone
  }
}

/** A free 10.213.x.y/30 (pid-derived start, skipping any /30 already in use on this host). */
function pickSubnet(): { hostIp: string; nsIp: string } {
  const used = run('ip', ['-o', '-4', 'addr', 'show']);
  for (let i = 0; i < 16384; i++) {
    const n = (process.pid + i * 7) % 16384;
    const base = `10.213.${n >> 6}.${(n & 63) * 4}`;
    const prefix = base.slice(0, base.lastIndexOf('.') + 1);
    const last = (n & 63) * 4;
    const hostIp = `${prefix}${last + 1}`;
    const nsIp = `${prefix}${last + 2}`;
    if (!used.includes(` ${hostIp}/`) && !used.includes(` ${nsIp}/`)) return { hostIp, nsIp };
  }
  throw new NetnsError('MECOM_EVAL_NETNS', 'no free /30 in 10.213.0.0/16');
}

const liveLinks = new Set<EvalNetns>();
let hooksInstalled = false;
function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => {
    for (const l of liveLinks) l.destroy();
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      for (const l of liveLinks) l.destroy();
      process.exit(sig === 'SIGINT' ? 130 : 143);
    });
  }
}

export class EvalNetns {
  readonly ns: string;
  /** Root-namespace end of the pair, and the end inside the namespace. */
  readonly hostIf: string;
  readonly nsIf: string;
  readonly hostIp: string;
  readonly nsIp: string;
  private destroyed = false;
  private rate?: string;

  private constructor(tag: string) {
    this.ns = `mecom-eval-${tag}`;
    this.hostIf = `mev${tag}h`;
    this.nsIf = `mev${tag}n`;
    ({ hostIp: this.hostIp, nsIp: this.nsIp } = pickSubnet());
  }

  /** Creates the namespace and the pair, unshaped. `tag` defaults to this process's pid. */
  static create(tag: string = String(process.pid)): EvalNetns {
    if (!/^[a-z0-9]{1,10}$/.test(tag)) throw new NetnsError('MECOM_EVAL_NETNS', `bad netns tag '${tag}'`);
    if (process.getuid?.() !== 0) throw new NetnsError('MECOM_EVAL_NETNS', 'creating the evaluation link needs root (ip netns, tc)');
    const l = new EvalNetns(tag);
    installHooks();
    liveLinks.add(l);
    try {
      run('ip', ['netns', 'add', l.ns]);
      run('ip', ['link', 'add', l.hostIf, 'type', 'veth', 'peer', 'name', l.nsIf]);
      run('ip', ['link', 'set', l.nsIf, 'netns', l.ns]);
      run('ip', ['addr', 'add', `${l.hostIp}/30`, 'dev', l.hostIf]);
      run('ip', ['link', 'set', l.hostIf, 'up']);
      run('ip', ['-n', l.ns, 'addr', 'add', `${l.nsIp}/30`, 'dev', l.nsIf]);
      run('ip', ['-n', l.ns, 'link', 'set', l.nsIf, 'up']);
      run('ip', ['-n', l.ns, 'link', 'set', 'lo', 'up']);
    } catch (err) {
      l.destroy();
      throw err;
    }
    return l;
  }

  /** Shapes both directions' egress with tbf at `rate` (tc syntax, e.g. '1gbit'); undefined removes it. */
  shape(rate: string | undefined): void {
    if (rate === this.rate) return;
    for (const prefix of [[], ['-n', this.ns]]) {
      const dev = prefix.length ? this.nsIf : this.hostIf;
      if (rate === undefined) tryRun('tc', [...prefix, 'qdisc', 'del', 'dev', dev, 'root']);
      else run('tc', [...prefix, 'qdisc', 'replace', 'dev', dev, 'root', 'tbf', 'rate', rate, 'burst', '256kb', 'latency', '50ms']);
    }
    this.rate = rate;
  }

  /** Byte counters of the root-side end: tx is toward the namespace, rx is from it. */
  counters(): LinkCounters {
    const read = (what: string) => Number(fs.readFileSync(`/sys/class/net/${this.hostIf}/statistics/${what}`, 'utf8').trim());
    return { txBytes: read('tx_bytes'), rxBytes: read('rx_bytes') };
  }

  /** Bytes that crossed the pair in both directions between two counter readings. */
  static crossed(before: LinkCounters, after: LinkCounters): number {
    return after.txBytes - before.txBytes + (after.rxBytes - before.rxBytes);
  }

  /**
   * Removes the pair and the namespace (synchronous, idempotent). Processes still inside the
   * namespace are ours (the destination QEMUs and agents this harness started): they are killed
   * by pid first, since a namespace with processes in it lingers.
   */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    liveLinks.delete(this);
    try {
      const pids = execFileSync('ip', ['netns', 'pids', this.ns], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      for (const pid of pids.split(/\s+/).filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // exited meanwhile
        }
      }
    } catch {
      // no such namespace
    }
    tryRun('ip', ['link', 'del', this.hostIf]);
    tryRun('ip', ['netns', 'del', this.ns]);
  }

  /** Whether anything of this link is still present (for tests). */
  exists(): { netns: boolean; hostIf: boolean } {
    const netns = run('ip', ['netns', 'list']).split('\n').some((l) => l.split(' ')[0] === this.ns);
    return { netns, hostIf: fs.existsSync(`/sys/class/net/${this.hostIf}`) };
  }
}
