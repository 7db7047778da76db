/**
 * mecom receive and chained checksums (docs/frame-format.md "Chained checksum"), over real
 * sockets: a stand-in sender speaks the protocol, a stand-in destination QEMU records what it is
 * given. A frame whose chained checksum does not match never reaches QEMU.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { Xxh64 } from '@node-rs/xxhash';
import { Receiver } from '../../../src/agent/receiver.js';
import { ControlType, encodeControl, PROTOCOL_VERSION } from '../../../src/wire/control.js';
import { FRAME_VERSION } from '../../../src/wire/frame-format.js';
import { SpanFrameBuilder } from '../../../src/wire/span-frame.js';

/** A destination QEMU that only reads, and keeps every byte. */
async function recordingQemu(): Promise<{ server: net.Server; bytes: () => Buffer; closed: Promise<void> }> {
  const chunks: Buffer[] = [];
  let closedResolve!: () => void;
  const closed = new Promise<void>((r) => (closedResolve = r));
  const server = net.createServer((c) => {
    c.on('data', (d: Buffer) => chunks.push(d));
    c.on('close', () => closedResolve());
    c.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, bytes: () => Buffer.concat(chunks), closed };
}

async function handshake(rport: number, receiver: Receiver): Promise<net.Socket> {
  const sock = net.connect(rport, '127.0.0.1');
  sock.on('error', () => {});
  await new Promise<void>((r) => sock.once('connect', () => r()));
  sock.write(encodeControl({ type: ControlType.Hello, body: { protocol: PROTOCOL_VERSION, frameVersion: FRAME_VERSION, policy: 'raw', batchPages: 4, software: 'test' } }));
  await new Promise<void>((r) => receiver.on('state', (st) => st === 'streaming' && r()));
  return sock;
}

test('receiver: chained frames reach QEMU verified; one whose chain breaks is refused before a byte of it is written', async () => {
  const qemu = await recordingQemu();
  const receiver = new Receiver({ listen: { host: '127.0.0.1', port: 0 }, to: { host: '127.0.0.1', port: (qemu.server.address() as net.AddressInfo).port }, threads: 1 });
  const rport = await receiver.start();
  const sock = await handshake(rport, receiver);
  try {
    const stream = new Xxh64();
    const b = new SpanFrameBuilder(4);
    const first = randomBytes(10_000);
    b.appendGlue(first, 0, first.length);
    stream.update(first);
    sock.write(b.take(stream.digest()));
    // The second frame's checksum is chained to a stream that differs in one earlier byte, as
    // if a byte of the first frame had been changed after the sender hashed it.
    const second = randomBytes(10_000);
    b.appendGlue(second, 0, second.length);
    const other = new Xxh64();
    const altered = Buffer.from(first);
    altered[123] ^= 1;
    other.update(altered);
    other.update(second);
    sock.write(b.take(other.digest()));
    // Raced with a clock, so that a receiver that accepts the frame fails this test instead of hanging it.
    const outcome = await Promise.race([
      receiver.done.then(() => 'verified', (e: { code?: string }) => e.code),
      new Promise((r) => setTimeout(() => r('no verdict within 10 s'), 10_000).unref()),
    ]);
    assert.equal(outcome, 'MECOM_WIRE_CHECKSUM');
    await qemu.closed; // the receiver cut the destination
    assert.deepEqual(qemu.bytes(), first, 'the first span, verified, and nothing of the second');
  } finally {
    receiver.abort('test over');
    sock.destroy();
    qemu.server.close();
  }
});
