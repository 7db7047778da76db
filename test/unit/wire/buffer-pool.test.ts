/** BufferPool: reuse of the relays' large buffers, and the misuse it refuses to act on. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BufferPool } from '../../../src/wire/buffer-pool.js';

test('a released buffer is handed out again, as a view of the length asked for', () => {
  const pool = new BufferPool(100_000);
  assert.equal(pool.bufferSize, 128 * 1024, 'sizes are rounded up to 64 KiB');
  const a = pool.acquire(90_000);
  assert.equal(a.length, 90_000);
  assert.equal(a.buffer.byteLength, 128 * 1024);
  pool.release(a.subarray(10, 20)); // any view of it gives it back
  assert.equal(pool.freeCount, 1);
  const b = pool.acquire(1000);
  assert.equal(b.buffer, a.buffer);
  assert.equal(b.length, 1000);
  assert.equal(pool.freeCount, 0);
});

test('buffers it did not lend, or lent and already given back, are not taken', () => {
  const pool = new BufferPool(64 * 1024);
  const foreign = new Uint8Array(64 * 1024);
  assert.equal(pool.owns(foreign), false);
  pool.release(foreign); // same size, not ours
  assert.equal(pool.freeCount, 0);
  const a = pool.acquire(10);
  assert.equal(pool.owns(a.subarray(2)), true);
  pool.release(a);
  assert.equal(pool.owns(a), false, 'given back');
  pool.release(a); // a double release must not put one buffer on the free list twice
  assert.equal(pool.freeCount, 1);
  const x = pool.acquire(10);
  const y = pool.acquire(10);
  assert.notEqual(x.buffer, y.buffer, 'two users never share a buffer');
});

test('a larger request raises the size and drops smaller buffers; a detached buffer is not kept', () => {
  const pool = new BufferPool(64 * 1024);
  const small = pool.acquire(100);
  const big = pool.acquire(200 * 1024);
  assert.equal(pool.bufferSize, 256 * 1024);
  assert.equal(big.length, 200 * 1024);
  pool.release(small);
  assert.equal(pool.freeCount, 0, 'a buffer of the old size is dropped');
  pool.release(big);
  assert.equal(pool.freeCount, 1);
  const moved = pool.acquire(10);
  structuredClone(moved.buffer, { transfer: [moved.buffer as ArrayBuffer] }); // as postMessage to a worker does
  pool.release(moved);
  assert.equal(pool.freeCount, 0, 'a detached buffer is not reused');
});

test('at most maxFree buffers are kept', () => {
  const pool = new BufferPool(64 * 1024, 2);
  const bufs = [pool.acquire(1), pool.acquire(1), pool.acquire(1)];
  for (const b of bufs) pool.release(b);
  assert.equal(pool.freeCount, 2);
});
