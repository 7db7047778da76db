/** QmpClient, the migration helpers and QemuStreamParser against a real QEMU 10 (BIOS only, TCG). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { QmpClient } from '../../../src/qemu/qmp.js';
import { QemuStreamParser, type BoundaryKind } from '../../../src/qemu/stream-parser.js';
import { assertSourceCompatible } from '../../../src/qemu/capabilities.js';
import { queryStatus, setCapabilities, setParameters, waitForMigrationStatus } from '../../../src/qemu/migration.js';
import { startQemu } from './qemu-process.js';

test('QMP: greeting, query-status, STOP/RESUME events, typed errors, close', async () => {
  const q = await startQemu();
  try {
    const qmp = await QmpClient.connect(q.qmpPath, { timeoutMs: 5000 });
    const version = (qmp.greeting.version as { qemu: { major: number } }).qemu;
    assert.equal(version.major, 10);
    assert.equal((await queryStatus(qmp)).status, 'running');

    const stopped = qmp.waitForEvent('STOP', () => true, 5000);
    await qmp.execute('stop');
    const ev = await stopped;
    assert.equal(ev.name, 'STOP');
    assert.ok(ev.timestamp.seconds > 0);
    assert.equal((await queryStatus(qmp)).status, 'paused');

    const seen: string[] = [];
    qmp.on('event', (name: string) => seen.push(name));
    const resumed = qmp.waitForEvent('RESUME', () => true, 5000);
    await qmp.execute('cont');
    await resumed;
    assert.ok(seen.includes('RESUME'));

    await assert.rejects(qmp.execute('no-such-command'), { code: 'MECOM_QMP_ERROR', errorClass: 'CommandNotFound' });
    await assert.rejects(qmp.execute('migrate-set-capabilities', { capabilities: [{ capability: 'nope', state: true }] }),
      { code: 'MECOM_QMP_ERROR', errorClass: 'GenericError' });
    await assert.rejects(qmp.waitForEvent('SHUTDOWN', () => true, 100), { code: 'MECOM_QMP_TIMEOUT' });
    // Still usable after errors; concurrent commands are matched by id.
    const [a, b] = await Promise.all([qmp.execute('query-status'), qmp.execute('query-name')]);
    assert.equal((a as { status: string }).status, 'running');
    assert.deepEqual(b, {});

    // QEMU goes away: pending and later commands reject with MECOM_QMP_CLOSED.
    const pending = qmp.execute('quit').then(() => qmp.execute('query-status', undefined, { timeoutMs: 5000 }));
    await assert.rejects(pending, { code: 'MECOM_QMP_CLOSED' });
    assert.ok(qmp.isClosed);
    qmp.close();
  } finally {
    await q.stop();
  }
});

test('QMP: connect to a missing socket is MECOM_QMP_CLOSED', async () => {
  await assert.rejects(QmpClient.connect('/nonexistent/qmp.sock', { timeoutMs: 1000 }), { code: 'MECOM_QMP_CLOSED' });
});

test('live migration over TCP is parsed and rebuilt byte for byte; counts match QEMU', async () => {
  const q = await startQemu();
  const received: Buffer[] = [];
  const rebuilt: Buffer[] = [];
  const boundaries: BoundaryKind[] = [];
  let parser: QemuStreamParser | undefined;
  let parseError: unknown;
  const server = net.createServer();
  const done = new Promise<void>((resolve) => {
    server.on('connection', (sock) => {
      parser = new QemuStreamParser({
        glue: (buf, s, e) => { rebuilt.push(Buffer.from(buf.subarray(s, e))); },
        page: (buf, s) => { rebuilt.push(Buffer.from(buf.subarray(s, s + 4096))); },
        boundary: (k) => { boundaries.push(k); },
      });
      sock.on('data', (d: Buffer) => {
        received.push(d);
        try { parser?.push(d); } catch (e) { parseError = e; sock.destroy(); resolve(); }
      });
      sock.on('end', () => {
        try { parser?.end(); } catch (e) { parseError = e; }
        resolve();
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  try {
    const qmp = await QmpClient.connect(q.qmpPath, { timeoutMs: 5000 });
    await setCapabilities(qmp, { events: true });
    await setParameters(qmp, { 'max-bandwidth': 64 * 1024 * 1024 });
    const compat = await assertSourceCompatible(qmp);
    assert.deepEqual(compat.enabled, ['events']);
    await qmp.execute('migrate', { uri: `tcp:127.0.0.1:${port}` });
    const info = await waitForMigrationStatus(qmp, ['completed', 'failed'], 30000);
    assert.equal(info.status, 'completed');
    await done;
    assert.equal(parseError, undefined);
    const input = Buffer.concat(received);
    assert.ok(Buffer.concat(rebuilt).equals(input), 'rebuilt stream equals the received one');
    assert.equal(info.ram?.transferred, input.length);
    assert.equal(parser?.stats.pages, info.ram?.normal);
    assert.equal(parser?.stats.zeroPages, info.ram?.duplicate);
    assert.deepEqual(boundaries.slice(-2), ['ram-end', 'eof']);
    qmp.close();
  } finally {
    server.close();
    await q.stop();
  }
});
