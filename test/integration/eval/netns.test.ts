/**
 * The evaluation link: a namespace with a veth pair shaped by tbf carries a real TCP transfer
 * at the shaped rate, its counters see the bytes, and destroy() leaves nothing behind.
 * Needs root (ip netns, tc), as `mecom eval` does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { execFileSync, spawn } from 'node:child_process';
import { EvalNetns } from '../../../src/eval/netns.js';

const isRoot = process.getuid?.() === 0;

/** A listener inside the namespace that counts bytes and prints the total when the sender closes. */
const LISTENER = `
const net = require('node:net');
const srv = net.createServer((s) => { let n = 0; s.on('data', (c) => (n += c.length)); s.on('end', () => { console.log(JSON.stringify({ received: n })); s.end(); srv.close(); }); });
srv.listen(0, process.argv[1], () => console.log(JSON.stringify({ port: srv.address().port })));
`;

test('a shaped veth pair into a namespace carries a transfer at its rate, and cleanup removes everything', { skip: !isRoot && 'needs root', timeout: 60_000 }, async () => {
  const link = EvalNetns.create(`t${process.pid}`);
  try {
    assert.deepEqual(link.exists(), { netns: true, hostIf: true });
    link.shape('100mbit');
    for (const args of [['qdisc', 'show', 'dev', link.hostIf], ['-n', link.ns, 'qdisc', 'show', 'dev', link.nsIf]]) {
      assert.match(execFileSync('tc', args, { encoding: 'utf8' }), /tbf .*rate 100Mbit/, `tc ${args.join(' ')}`);
    }
    const child = spawn('ip', ['netns', 'exec', link.ns, process.execPath, '-e', LISTENER, link.nsIp], { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines: Record<string, number>[] = [];
    let buf = '';
    const gotLine = (want: string) =>
      new Promise<Record<string, number>>((resolve, reject) => {
        const check = () => {
          const l = lines.find((x) => want in x);
          if (l) resolve(l);
        };
        child.stdout!.on('data', check);
        child.on('exit', () => reject(new Error('listener exited')));
        check();
      });
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      buf += c;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        lines.push(JSON.parse(buf.slice(0, nl)));
        buf = buf.slice(nl + 1);
      }
    });
    const { port } = await gotLine('port');
    const before = link.counters();
    const bytes = 6_000_000;
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) => {
      const s = net.connect(port, link.nsIp, () => {
        s.end(Buffer.alloc(bytes, 0x5a));
      });
      s.on('error', reject);
      s.on('close', () => resolve());
      s.resume();
    });
    const seconds = (performance.now() - t0) / 1000;
    const { received } = await gotLine('received');
    assert.equal(received, bytes);
    const crossed = EvalNetns.crossed(before, link.counters());
    assert.ok(crossed >= bytes, `counters saw ${crossed} bytes, sent ${bytes}`);
    assert.ok(crossed < bytes * 1.2, `counters saw ${crossed} bytes for ${bytes} of payload`);
    const mbit = (bytes * 8) / seconds / 1e6;
    assert.ok(mbit < 110, `transfer ran at ${mbit.toFixed(1)} Mbit/s through a 100 Mbit/s shape`);
    assert.ok(mbit > 50, `transfer ran at only ${mbit.toFixed(1)} Mbit/s`);

    // Leave a process inside: destroy() must still remove the namespace.
    const sleeper = spawn('ip', ['netns', 'exec', link.ns, 'sleep', '60'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 200));
    link.destroy();
    await new Promise((r) => sleeper.on('exit', r));
    assert.deepEqual(link.exists(), { netns: false, hostIf: false });
  } finally {
    link.destroy();
  }
});

test('a link created and destroyed twice leaves no namespace or interface', { skip: !isRoot && 'needs root' }, () => {
  const a = EvalNetns.create(`u${process.pid}`);
  a.shape('1gbit');
  a.shape(undefined);
  a.destroy();
  a.destroy();
  assert.deepEqual(a.exists(), { netns: false, hostIf: false });
});
