/**
 * Runs `mecom send` / `mecom receive` as child processes (optionally inside a network
 * namespace) and turns their JSON-lines output into events. Separate processes give the
 * agents a core each and let faults (a killed agent) be real.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { AgentCodes, AgentError } from './errors.js';

const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));

export interface AgentEvent {
  event: string;
  [key: string]: unknown;
}

export interface ChildAgentEvents {
  event: [AgentEvent];
  exit: [number | null, NodeJS.Signals | null];
}

export class ChildAgent extends EventEmitter<ChildAgentEvents> {
  readonly proc: ChildProcess;
  /** The last `done` or `failed` event, once it came. */
  result?: AgentEvent;
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private last: Record<string, AgentEvent> = {};

  constructor(readonly role: 'send' | 'receive', args: string[], opts: { netns?: string } = {}) {
    super();
    // MECOM_AGENT_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"): Node flags for the
    // agents alone, for profiling a live migration; Node refuses most of them in NODE_OPTIONS.
    const nodeArgs = (process.env.MECOM_AGENT_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
    const argv = [...nodeArgs, CLI, role, ...args, '--json'];
    this.proc = opts.netns
      ? spawn('ip', ['netns', 'exec', opts.netns, process.execPath, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    this.proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buf += chunk;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let ev: AgentEvent;
        try {
          ev = JSON.parse(line) as AgentEvent;
        } catch {
          continue; // not ours; the agents print nothing else on stdout
        }
        this.last[ev.event] = ev;
        if (ev.event === 'done' || ev.event === 'failed') this.result = ev;
        this.emit('event', ev);
      }
    });
    this.proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-4000);
    });
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => {
      this.emit('exit', code, signal);
      resolve({ code, signal });
    }));
  }

  latest(event: string): AgentEvent | undefined {
    return this.last[event];
  }

  /** Wait for an event; fail if the agent exits or reports failure first. */
  waitFor(event: string, timeoutMs: number): Promise<AgentEvent> {
    const seen = this.last[event];
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        this.off('event', onEvent);
        this.off('exit', onExit);
      };
      const onEvent = (ev: AgentEvent) => {
        if (ev.event === event) {
          cleanup();
          resolve(ev);
        } else if (ev.event === 'failed') {
          cleanup();
          reject(this.failure());
        }
      };
      const onExit = () => {
        cleanup();
        reject(this.failure());
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new AgentError(AgentCodes.connect, `mecom ${this.role} did not report '${event}' within ${timeoutMs} ms`));
      }, timeoutMs);
      this.on('event', onEvent);
      this.on('exit', onExit);
    });
  }

  /** The agent's own account of why it stopped, or how it died. */
  failure(): AgentError {
    const f = this.result?.event === 'failed' ? this.result : undefined;
    if (f) return new AgentError(String(f.code ?? AgentCodes.aborted), `mecom ${this.role}: ${String(f.message)}`);
    const code = this.proc.exitCode;
    const sig = this.proc.signalCode;
    const how = sig ? `was killed by ${sig}` : code !== null ? `exited with status ${code}` : 'stopped';
    const tail = this.stderr.trim().split('\n').slice(-1)[0];
    return new AgentError(AgentCodes.peerLost, `mecom ${this.role} ${how}${tail ? ` (${tail})` : ''}`);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal);
  }
}
