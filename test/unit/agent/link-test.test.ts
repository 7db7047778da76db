/**
 * The link test between the agents (docs/wire-protocol.md "Conversation"): real sockets on
 * loopback, a stand-in destination QEMU that only reads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Receiver } from '../../../src/agent/receiver.js';
import { Sender } from '../../../src/agent/sender.js';
import { ControlType, encodeControl, PROTOCOL_VERSION } from '../../../src/wire/control.js';
import { FRAME_VERSION } from '../../../src/wire/frame-format.js';
import { DEFAULT_PRIOR_LINK_BPS } from '../../../src/codec/cost-model.js';

async function sinkServer(): Promise<net.Server> {
  const s = net.createServer((c) => c.resume());
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return s;
}
const portOf = (s: net.Server) => (s.address() as net.AddressInfo).port;

test('link test: before QEMU may connect, the sender has timed the link and starts its model from it', async () => {
  const qemu = await sinkServer();
  const receiver = new Receiver({ listen: { host: '127.0.0.1', port: 0 }, to: { host: '127.0.0.1', port: portOf(qemu) }, threads: 1 });
  const rport = await receiver.start();
  const sender = new Sender({ listen: { host: '127.0.0.1', port: 0 }, to: { host: '127.0.0.1', port: rport }, policy: 'adaptive', batchPages: 256, threads: 1 });
  try {
    await sender.start();
    const s = sender.stats(true);
    assert.ok(s.linkTestMBps !== undefined && s.linkTestMBps > 0 && Number.isFinite(s.linkTestMBps), `linkTestMBps ${s.linkTestMBps}`);
    assert.equal(s.model?.linkMBps, s.linkTestMBps, 'the model starts from the test, not from the fixed prior');
    assert.notEqual(s.model?.linkMBps, DEFAULT_PRIOR_LINK_BPS / 1e6);
    assert.ok(s.wireBytes >= 8 * 65000, 'the filler went over the connection and is counted');
  } finally {
    sender.abort('test over');
    receiver.abort('test over');
    await Promise.allSettled([sender.done, receiver.done]);
    qemu.close();
  }
});

test('link test: the receiver refuses a LINKTEST that does not fit (protocol error, the destination is cut)', async () => {
  const qemu = await sinkServer();
  const receiver = new Receiver({ listen: { host: '127.0.0.1', port: 0 }, to: { host: '127.0.0.1', port: portOf(qemu) }, threads: 1 });
  const rport = await receiver.start();
  const sock = net.connect(rport, '127.0.0.1');
  try {
    await new Promise<void>((r) => sock.once('connect', () => r()));
    sock.write(encodeControl({ type: ControlType.Hello, body: { protocol: PROTOCOL_VERSION, frameVersion: FRAME_VERSION, policy: 'adaptive', batchPages: 256, software: 'test' } }));
    await new Promise<void>((r) => receiver.once('state', (st) => st === 'streaming' && r()));
    sock.write(encodeControl({ type: ControlType.LinkTest, body: { seq: 5, of: 2, pad: '' } }));
    await assert.rejects(receiver.done, (e: { code?: string }) => e.code === 'MECOM_AGENT_PROTOCOL');
    assert.equal(receiver.state, 'failed');
  } finally {
    sock.destroy();
    qemu.close();
  }
});
