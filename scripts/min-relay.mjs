// The least a user-space relay in Node can do: one TCP connection in, bytes out to HOST:PORT unchanged.
// No parsing, framing, hashing or model: reads into one reused 1 MiB buffer (Node's onread), one copy
// into a pooled buffer per read, pause on a full socket. A yardstick for mecom's agents in the same
// topology (scripts/ab-live.mjs variant `relay`). Prints {"port"} on stdout once listening (port 0 picks
// one), and {"user","system","reads"} (CPU seconds from its first byte on) on stderr when done.
// Usage: node scripts/min-relay.mjs LISTEN_HOST LISTEN_PORT TO_HOST TO_PORT [NICE]
import net from 'node:net';
import os from 'node:os';
import { readIntoBuffer } from '../dist/src/agent/read-buffer.js';

const [lh, lp, th, tp, nice] = process.argv.slice(2);
if (nice) os.setPriority(0, Number(nice));
const free = Array.from({ length: 16 }, () => Buffer.alloc(1 << 20, 1));
const srv = net.createServer({ pauseOnConnect: true }, (inSock) => {
  srv.close();
  const out = net.connect({ host: th, port: Number(tp) });
  out.on('connect', () => {
    let reads = 0;
    let cpu0;
    const onChunk = (chunk) => {
      if (reads++ === 0) cpu0 = process.cpuUsage();
      const b = free.pop() ?? Buffer.alloc(1 << 20);
      chunk.copy(b);
      if (!out.write(b.subarray(0, chunk.length), () => free.push(b))) {
        inSock.pause();
        out.once('drain', () => inSock.resume());
      }
    };
    if (!readIntoBuffer(inSock, onChunk, Buffer.alloc(1 << 20, 1))) inSock.on('data', onChunk);
    inSock.resume();
    inSock.on('end', () => out.end());
    out.on('close', () => {
      const u = process.cpuUsage(cpu0);
      process.stderr.write(JSON.stringify({ user: u.user / 1e6, system: u.system / 1e6, reads }) + '\n');
      process.exit(0);
    });
  });
});
srv.listen(Number(lp), lh, () => process.stdout.write(JSON.stringify({ port: srv.address().port }) + '\n'));
