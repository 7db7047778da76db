import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type net from 'node:net';
import { QemuGate } from '../../../src/agent/qemu-gate.js';

/** QEMU's socket as the gate sees it: pause/resume, counted. */
class QemuSide {
  paused = false;
  pauses = 0;
  pause(): void { this.paused = true; this.pauses++; }
  resume(): void { this.paused = false; }
}
/** The receiver's socket: a queue length and 'drain'. */
class PeerSide extends EventEmitter {
  writableLength = 0;
}

const gateOver = (pool: { full: boolean }) => {
  const qemu = new QemuSide();
  const peer = new PeerSide();
  const gate = new QemuGate(qemu as unknown as net.Socket, peer as unknown as net.Socket, () => pool.full);
  return { qemu, peer, gate };
};

test('QemuGate: holds QEMU while the receiver socket queues past its limit, until it drains', async () => {
  const pool = { full: false };
  const { qemu, peer, gate } = gateOver(pool);
  peer.writableLength = 1000;
  gate.wrote(false, 4000);
  assert.equal(qemu.paused, false, 'under the limit: keep reading');
  peer.writableLength = 5000;
  gate.wrote(true, 4000);
  assert.equal(qemu.paused, false, 'the write was taken: keep reading');
  gate.wrote(false, 4000);
  assert.equal(qemu.paused, true);
  gate.wrote(false, 4000);
  assert.equal(peer.listenerCount('drain'), 1, 'one drain listener however many frames');
  await new Promise((r) => setTimeout(r, 20));
  const heldSoFar = gate.takeHeldMs(performance.now());
  assert.ok(heldSoFar >= 15, `held ${heldSoFar} ms while paused`);
  peer.emit('drain');
  assert.equal(qemu.paused, false);
  assert.ok(gate.takeHeldMs(performance.now()) < 5, 'the held time was taken once');
});

test('QemuGate: a full pool holds QEMU; the pool freeing a slot lets it go on', () => {
  const pool = { full: true };
  const { qemu, gate } = gateOver(pool);
  gate.update();
  assert.equal(qemu.paused, true);
  gate.update();
  assert.equal(qemu.pauses, 1, 'paused once');
  pool.full = false;
  gate.update();
  assert.equal(qemu.paused, false);
  assert.equal(gate.takeHeldMs(performance.now()) >= 0, true);
  assert.equal(gate.takeHeldMs(performance.now()), 0, 'nothing held since');
});
