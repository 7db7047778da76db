/**
 * A multi-round live migration between two real QEMU 10 processes through a
 * Node proxy that parses the stream and forwards only what the sink rebuilds:
 * the destination must load it and run on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import os from 'node:os';
import { QmpClient } from '../../../src/qemu/qmp.js';
import { QemuStreamParser, type BoundaryKind } from '../../../src/qemu/stream-parser.js';
import { assertSourceCompatible } from '../../../src/qemu/capabilities.js';
import { queryMigrate, queryStatus, setParameters, waitForMigrationStatus } from '../../../src/qemu/migration.js';
import { startQemu } from './qemu-process.js';

/** 64 KiB BIOS: from the reset vector, increments a word every 256 bytes of 0x10000-0x1ffff forever. */
function tinyBios(): string {
  const bios = Buffer.alloc(65536, 0xff);
  Buffer.from('B800108ED831F6FF0481C6000175F8EBF4', 'hex').copy(bios, 0);
  Buffer.from([0xe9, 0x0d, 0x00]).copy(bios, 0xfff0); // jmp near 0x0000
  const p = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mecom-bios-')), 'tinybios.bin');
  fs.writeFileSync(p, bios);
  return p;
}

test('multi-round live migration: parsed, rebuilt, loaded by the destination, which runs on', async () => {
  const bios = tinyBios();
  const args = ['-bios', bios];
  const src = await startQemu(args, 16);
  const dst = await startQemu([...args, '-incoming', 'defer', '-S'], 16);
  const proxy = net.createServer();
  let parser: QemuStreamParser | undefined;
  let streamBytes = 0;
  const boundaries: BoundaryKind[] = [];
  try {
    const sq = await QmpClient.connect(src.qmpPath, { timeoutMs: 5000 });
    const dq = await QmpClient.connect(dst.qmpPath, { timeoutMs: 5000 });
    await dq.execute('migrate-incoming', { uri: 'tcp:127.0.0.1:0' });
    const incoming = (await queryMigrate(dq)) as { 'socket-address'?: { port?: string | number }[] };
    const dstPort = Number(incoming['socket-address']?.[0]?.port);
    assert.ok(dstPort > 0);

    const proxied = new Promise<void>((resolve, reject) => {
      proxy.on('connection', (from) => {
        const to = net.connect(dstPort, '127.0.0.1');
        to.on('error', reject);
        parser = new QemuStreamParser({
          glue: (buf, s, e) => { to.write(Buffer.from(buf.subarray(s, e))); },
          page: (buf, s) => { to.write(Buffer.from(buf.subarray(s, s + 4096))); },
          boundary: (k) => { boundaries.push(k); },
        });
        from.on('data', (d: Buffer) => {
          streamBytes += d.length;
          try { parser?.push(d); } catch (e) { from.destroy(); to.destroy(); reject(e); }
        });
        from.on('end', () => {
          try { parser?.end(); } catch (e) { reject(e); return; }
          to.end(resolve);
        });
      });
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const port = (proxy.address() as net.AddressInfo).port;

    await assertSourceCompatible(sq);
    // Slow and unable to converge at first (1 ms downtime), so the guest's pages go round several times.
    await setParameters(sq, { 'max-bandwidth': 400_000, 'downtime-limit': 1 });
    await sq.execute('migrate', { uri: `tcp:127.0.0.1:${port}` });
    await new Promise((r) => setTimeout(r, 1500));
    await setParameters(sq, { 'downtime-limit': 2000 });
    const info = await waitForMigrationStatus(sq, ['completed', 'failed'], 30000);
    assert.equal(info.status, 'completed', info['error-desc']);
    await proxied;

    assert.ok(parser);
    const st = parser.stats;
    assert.equal(st.bytes, streamBytes);
    assert.equal(st.bytes, info.ram?.transferred);
    assert.equal(st.pages, info.ram?.normal);
    assert.equal(st.zeroPages, info.ram?.duplicate);
    assert.ok(st.ramSections >= 4, `ram sections ${st.ramSections}`);
    assert.ok((info.ram?.['dirty-sync-count'] ?? 0) >= 3);
    assert.deepEqual(boundaries.slice(-2), ['ram-end', 'eof']);

    const dinfo = await waitForMigrationStatus(dq, ['completed', 'failed'], 10000);
    assert.equal(dinfo.status, 'completed');
    assert.equal((await queryStatus(dq)).status, 'paused');
    await dq.execute('cont');
    assert.equal((await queryStatus(dq)).status, 'running');
    assert.equal((await queryStatus(sq)).status, 'postmigrate');
    sq.close();
    dq.close();
  } finally {
    proxy.close();
    await src.stop();
    await dst.stop();
    fs.rmSync(path.dirname(bios), { recursive: true, force: true });
  }
});
