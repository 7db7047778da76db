/** readIntoBuffer on real TCP sockets: accepted and connected sockets, pause/resume, end. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { readIntoBuffer } from '../../../src/agent/read-buffer.js';

test('readIntoBuffer: an accepted socket reads a stream into one reused buffer, intact, through pause/resume, to end', async () => {
  const data = randomBytes(5 << 20);
  const got: Buffer[] = [];
  let sizes = 0;
  const shared = Buffer.alloc(256 << 10);
  const ended = new Promise<void>((resolve, reject) => {
    const server = net.createServer((sock) => {
      const ok = readIntoBuffer(sock, (chunk) => {
        assert.equal(chunk.buffer, shared.buffer, 'every read lands in the shared buffer');
        got.push(Buffer.from(chunk)); // copy: the buffer is reused by the next read
        sizes++;
        if (sizes === 3) {
          sock.pause();
          setTimeout(() => sock.resume(), 50);
        }
      }, shared);
      assert.equal(ok, true, 'this Node supports reads into a user buffer on accepted sockets');
      sock.on('end', () => { server.close(); resolve(); });
      sock.on('error', reject);
    });
    server.listen(0, '127.0.0.1', () => {
      const c = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1', () => c.end(data));
    });
  });
  await ended;
  assert.ok(sizes > 1);
  assert.deepEqual(Buffer.concat(got), data);
});
