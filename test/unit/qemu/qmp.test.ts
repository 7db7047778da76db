/** QmpClient against a scripted fake QMP server: id matching, typed errors, timeouts, connection loss, events. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { QmpClient } from '../../../src/qemu/qmp.js';

type Handler = (cmd: { execute: string; id: number; arguments?: unknown }, sock: net.Socket) => void;

async function fakeQmp(handler: Handler): Promise<{ path: string; close: () => void; sockets: net.Socket[] }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mecom-qmp-'));
  const p = path.join(dir, 'qmp.sock');
  const sockets: net.Socket[] = [];
  const server = net.createServer((sock) => {
    sockets.push(sock);
    sock.write('{"QMP": {"version": {"qemu": {"micro": 2, "minor": 0, "major": 10}, "package": ""}, "capabilities": ["oob"]}}\r\n');
    let buf = '';
    sock.on('data', (d) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const cmd = JSON.parse(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        if (cmd.execute === 'qmp_capabilities') sock.write(JSON.stringify({ return: {}, id: cmd.id }) + '\r\n');
        else handler(cmd, sock);
      }
    });
    sock.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(p, r));
  return {
    path: p, sockets,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

test('replies are matched by id even out of order', async () => {
  const held: { id: number; execute: string }[] = [];
  const srv = await fakeQmp((cmd, sock) => {
    held.push(cmd);
    if (held.length === 2) for (const c of held.reverse()) sock.write(JSON.stringify({ return: { echo: c.execute }, id: c.id }) + '\r\n');
  });
  try {
    const qmp = await QmpClient.connect(srv.path, { timeoutMs: 1000 });
    const [a, b] = await Promise.all([qmp.execute('first'), qmp.execute('second')]);
    assert.deepEqual(a, { echo: 'first' });
    assert.deepEqual(b, { echo: 'second' });
    qmp.close();
  } finally {
    srv.close();
  }
});

test('error replies, timeouts, events and connection loss are typed', async () => {
  const srv = await fakeQmp((cmd, sock) => {
    if (cmd.execute === 'bad') sock.write(JSON.stringify({ error: { class: 'GenericError', desc: 'no way' }, id: cmd.id }) + '\r\n');
    if (cmd.execute === 'emit') {
      sock.write('{"timestamp": {"seconds": 1700000000, "microseconds": 5}, "event": "MIGRATION", "data": {"status": "active"}}\r\n');
      sock.write('{"timestamp": {"seconds": 1700000001, "microseconds": 6}, "event": "MIGRATION", "data": {"status": "completed"}}\r\n');
      sock.write(JSON.stringify({ return: {}, id: cmd.id }) + '\r\n');
    }
    if (cmd.execute === 'hangup') sock.destroy();
    // 'silent' never answers.
  });
  try {
    const qmp = await QmpClient.connect(srv.path, { timeoutMs: 1000 });
    assert.equal((qmp.greeting.version as { qemu: { major: number } }).qemu.major, 10);
    await assert.rejects(qmp.execute('bad'), { code: 'MECOM_QMP_ERROR', errorClass: 'GenericError', desc: 'no way', command: 'bad' });
    await assert.rejects(qmp.execute('silent', undefined, { timeoutMs: 50 }), { code: 'MECOM_QMP_TIMEOUT' });

    const events: [string, unknown, unknown][] = [];
    qmp.on('event', (n: string, d: unknown, t: unknown) => events.push([n, d, t]));
    const completed = qmp.waitForEvent('MIGRATION', (d) => d.status === 'completed', 1000);
    await qmp.execute('emit');
    const ev = await completed;
    assert.deepEqual(ev.data, { status: 'completed' });
    assert.deepEqual(ev.timestamp, { seconds: 1700000001, microseconds: 6 });
    assert.equal(events.length, 2);

    const pending = [qmp.execute('silent'), qmp.execute('silent'), qmp.waitForEvent('STOP', () => true, 5000)];
    void qmp.execute('hangup').catch(() => {});
    for (const p of pending) await assert.rejects(p, { code: 'MECOM_QMP_CLOSED' });
    await assert.rejects(qmp.execute('after'), { code: 'MECOM_QMP_CLOSED' });
  } finally {
    srv.close();
  }
});

test('a server that never greets times out at connect', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mecom-qmp-'));
  const p = path.join(dir, 'mute.sock');
  const socks: net.Socket[] = [];
  const server = net.createServer((s) => socks.push(s));
  await new Promise<void>((r) => server.listen(p, r));
  try {
    await assert.rejects(QmpClient.connect(p, { timeoutMs: 100 }), { code: 'MECOM_QMP_TIMEOUT' });
  } finally {
    for (const s of socks) s.destroy();
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
