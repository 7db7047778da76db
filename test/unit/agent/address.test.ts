/** Agent addresses: TCP and unix-domain sockets, parsed from the CLI and used for real. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectTo, formatAddress, listenOn, listeningPort, parseAddress } from '../../../src/agent/address.js';
import { AgentError } from '../../../src/agent/errors.js';

test('addresses parse as HOST:PORT, [V6]:PORT or unix:PATH, and format back', () => {
  assert.deepEqual(parseAddress('127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
  assert.deepEqual(parseAddress('[::1]:4444'), { host: '::1', port: 4444 });
  assert.deepEqual(parseAddress('unix:/run/mecom/send.sock'), { path: '/run/mecom/send.sock' });
  for (const t of ['127.0.0.1:4444', '[::1]:4444', 'unix:/tmp/x.sock']) assert.equal(formatAddress(parseAddress(t)), t);
  for (const bad of ['unix:', 'localhost', 'h:70000', ':1', '']) {
    assert.throws(() => parseAddress(bad), (e: unknown) => e instanceof AgentError && e.exitCode === 2, bad);
  }
});

test('a unix-domain listener takes a connection and its bytes; a missing socket is a clear error', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mecom-addr-'));
  try {
    const addr = parseAddress(`unix:${path.join(dir, 'a.sock')}`);
    const server = await listenOn(addr);
    assert.equal(listeningPort(server), 0);
    const got = new Promise<Buffer>((resolve) => server.once('connection', (s) => {
      const parts: Buffer[] = [];
      s.on('data', (d: Buffer) => parts.push(d)).on('end', () => resolve(Buffer.concat(parts)));
    }));
    const c = await connectTo(addr, 'test peer');
    c.end(Buffer.from('page bytes'));
    assert.equal((await got).toString(), 'page bytes');
    server.close();
    await assert.rejects(connectTo(parseAddress(`unix:${path.join(dir, 'none.sock')}`), 'destination QEMU'),
      /cannot connect to destination QEMU at unix:.*none\.sock/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
