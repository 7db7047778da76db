import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OrderedPool, PoolCodes } from '../../../src/wire/worker-pool.js';
import { DecodePool, EncodePool } from '../../../src/wire/codec-pool.js';
import { copyBatch } from '../../../src/wire/batch.js';
import { FrameEncoder } from '../../../src/wire/frame-encode.js';
import { WireCodes, WireError } from '../../../src/wire/errors.js';
import { MecomError } from '../../../src/errors.js';
import { sampleBatch } from './helpers.js';

/** A test worker: answers after job.delay ms; can fail the job, throw uncaught, or exit. */
const TEST_WORKER = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', ({ id, job }) => {
  setTimeout(() => {
    if (job.fail) return parentPort.postMessage({ id, ok: false, error: { code: 'MECOM_TEST_FAIL', message: 'job failed' } });
    if (job.plain) return parentPort.postMessage({ id, ok: false, error: { message: 'plain error' } });
    if (job.crash) throw new Error('worker crashed');
    if (job.exit) process.exit(3);
    parentPort.postMessage({ id, ok: true, result: job.v, seconds: job.delay / 1000 });
  }, job.delay);
});`;

function testPool(threads: number, maxInFlight?: number): OrderedPool<number> {
  return new OrderedPool<number>({ script: TEST_WORKER, eval: true, threads, maxInFlight, name: 'test' });
}

test('pool: results settle in submission order although workers finish out of order', async () => {
  const pool = testPool(3, 6);
  const seen: number[] = [];
  const jobs: Promise<void>[] = [];
  for (let i = 0; i < 30; i++) {
    if (pool.full) await pool.whenAvailable();
    jobs.push(pool.run({ v: i, delay: (i * 7) % 13 }).then((v) => { seen.push(v); }));
  }
  await Promise.all(jobs);
  assert.deepEqual(seen, [...Array(30).keys()]);
  await pool.close();
});

test('pool: jobs run here settle in order with the workers\' jobs; a throw rejects in its place', async () => {
  const pool = testPool(2, 8);
  const seen: string[] = [];
  const jobs: Promise<void>[] = [];
  for (let i = 0; i < 12; i++) {
    if (pool.full) await pool.whenAvailable();
    const p = i % 3 === 1
      ? pool.runHere(() => { if (i === 7) throw new Error('bad here'); return i; })
      : pool.run({ v: i, delay: 20 - i });
    jobs.push(p.then((v) => { seen.push(String(v)); }, (e: Error) => { seen.push(`err:${e.message}`); }));
  }
  await Promise.all(jobs);
  assert.deepEqual(seen, ['0', '1', '2', '3', '4', '5', '6', 'err:test job failed: bad here', '8', '9', '10', '11']);
  await pool.close();
});

test('pool: back-pressure under a slow consumer keeps in-flight jobs and sink queue bounded', async () => {
  const pool = testPool(2, 3);
  // Sink: accepts a result, "drains" one every 10 ms; write() returns false when 2 are queued.
  let queued = 0;
  let maxQueued = 0;
  let maxInFlight = 0;
  const waiters: Array<() => void> = [];
  const drainTimer = setInterval(() => {
    if (queued > 0) queued--;
    if (queued < 2) while (waiters.length) waiters.shift()!();
  }, 10);
  const got: number[] = [];
  const pending: Promise<void>[] = [];
  for (let i = 0; i < 25; i++) {
    // Producer: stop while the pool is full or the sink is full (as the sender pauses QEMU).
    while (pool.full || queued >= 2) {
      if (pool.full) await pool.whenAvailable();
      else await new Promise<void>((r) => waiters.push(r));
    }
    pending.push(pool.run({ v: i, delay: 3 }).then((v) => { got.push(v); queued++; maxQueued = Math.max(maxQueued, queued); }));
    maxInFlight = Math.max(maxInFlight, pool.inFlight);
  }
  await Promise.all(pending);
  clearInterval(drainTimer);
  assert.deepEqual(got, [...Array(25).keys()]);
  assert.ok(maxInFlight <= 3, `in flight ${maxInFlight}`);
  assert.ok(maxQueued <= 2 + 3, `sink queue ${maxQueued}`);
  await pool.close();
});

test('pool: a failing job rejects with its typed error, in order, and the pool goes on', async () => {
  const pool = testPool(2);
  const a = pool.run({ v: 1, delay: 5 });
  const b = pool.run({ fail: true, delay: 1 });
  const c = pool.run({ plain: true, delay: 1 });
  const d = pool.run({ v: 4, delay: 1 });
  assert.equal(await a, 1);
  await assert.rejects(b, (e: unknown) => e instanceof MecomError && e.code === 'MECOM_TEST_FAIL');
  await assert.rejects(c, (e: unknown) => e instanceof MecomError && e.code === PoolCodes.job);
  assert.equal(await d, 4);
  await pool.close();
});

test('pool: a worker that throws or exits fails every pending job cleanly (no hang)', async () => {
  for (const job of [{ crash: true, delay: 2 }, { exit: true, delay: 2 }]) {
    const pool = testPool(2);
    const slow = pool.run({ v: 1, delay: 5000 });
    const bad = pool.run(job);
    const queued = pool.run({ v: 3, delay: 1 });
    for (const p of [slow, bad, queued]) {
      await assert.rejects(p, (e: unknown) => e instanceof MecomError && e.code === PoolCodes.workerFailed);
    }
    await assert.rejects(pool.run({ v: 5, delay: 1 }), (e: unknown) => e instanceof MecomError && e.code === PoolCodes.workerFailed);
    await assert.rejects(pool.whenAvailable().then(() => { throw new Error('x'); }), () => true);
    await pool.drained();
    await pool.close();
  }
});

test('pool: closing rejects unsettled jobs with MECOM_POOL_CLOSED', async () => {
  const pool = testPool(1);
  const p = assert.rejects(pool.run({ v: 1, delay: 200 }), (e: unknown) => e instanceof MecomError && e.code === PoolCodes.closed);
  await pool.close();
  await p;
});

test('EncodePool + DecodePool: frames in order, spans exact, codec counts kept', async () => {
  const batches = [sampleBatch(12), sampleBatch(30), sampleBatch(5)];
  const enc = new EncodePool({ policy: 'adaptive', threads: 2, probeEvery: 2 });
  const dec = new DecodePool({ threads: 2 });
  const jobs: Promise<void>[] = [];
  const order: number[] = [];
  for (let i = 0; i < 12; i++) {
    if (enc.full) await enc.whenAvailable();
    const k = i % batches.length;
    jobs.push(enc.submit(batches[k].batch, { transfer: false }).then((f) => dec.submit(f, { transfer: true })).then((d) => {
      order.push(i);
      assert.ok(Buffer.from(d.span).equals(Buffer.from(batches[k].span)), `batch ${i}`);
    }));
  }
  await Promise.all(jobs);
  assert.deepEqual(order, [...Array(12).keys()]);
  const counts = enc.pagesByCodec();
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  assert.equal(total, 4 * (batches[0].batch.pageCount + batches[1].batch.pageCount + batches[2].batch.pageCount));
  const snap = enc.modelSnapshot()!;
  assert.ok(snap.batches === 12 && snap.probes >= 2, JSON.stringify(snap));
  assert.ok(Object.keys(snap.measured).length > 3);
  await enc.close();
  await dec.close();
});

test('EncodePool: transfer moves the batch buffers to the worker', async () => {
  const { batch } = sampleBatch(4);
  const enc = new EncodePool({ policy: 'raw', threads: 1 });
  await enc.submit(batch);
  assert.equal(batch.pages.byteLength, 0, 'pages were transferred (detached)');
  await enc.close();
});

test('DecodePool: a corrupt frame rejects with the WireError code; later frames still decode', async () => {
  const { batch, span } = sampleBatch(6);
  const frame = new FrameEncoder({ policy: 'zstd' }).encode(batch);
  const bad = Uint8Array.from(frame);
  bad[bad.length - 1] ^= 1;
  const dec = new DecodePool({ threads: 1 });
  const p1 = dec.submit(bad);
  const p2 = dec.submit(frame);
  await assert.rejects(p1, (e: unknown) => e instanceof WireError && e.code === WireCodes.checksum);
  assert.ok(Buffer.from((await p2).span).equals(Buffer.from(span)));
  await dec.close();
});

test('DecodePool: raw/zero/fill frames decode on the calling thread, in order with worker frames, checksum still checked', async () => {
  const { batch, span } = sampleBatch(6);
  const raw = new FrameEncoder({ policy: 'zero' }).encode(batch);
  const zstd = new FrameEncoder({ policy: 'zstd' }).encode(batch);
  const bad = Uint8Array.from(raw);
  bad[bad.length - 20] ^= 1;
  const dec = new DecodePool({ threads: 1 });
  const order: string[] = [];
  const ps = [
    dec.submit(zstd).then((r) => { order.push('zstd'); return r; }),
    dec.submit(raw).then((r) => { order.push('raw'); return r; }),
    dec.submit(bad).then(() => { order.push('bad'); }, (e: unknown) => { order.push(e instanceof WireError ? e.code : 'other'); }),
    dec.submit(raw).then((r) => { order.push('raw2'); return r; }),
  ];
  const [a, b, , d] = await Promise.all(ps);
  assert.deepEqual(order, ['zstd', 'raw', WireCodes.checksum, 'raw2']);
  for (const r of [a, b, d]) assert.ok(Buffer.from((r as { span: Uint8Array }).span).equals(Buffer.from(span)));
  // The span is the caller's: a later frame does not overwrite it.
  assert.notEqual((b as { span: Uint8Array }).span.buffer, (d as { span: Uint8Array }).span.buffer);
  await dec.close();
});

test('pool: drained() resolves after callbacks chained to the last job (an END never overtakes the last frame)', async () => {
  const pool = testPool(2);
  const log: string[] = [];
  for (let i = 0; i < 5; i++) {
    pool.run({ v: i, delay: 1 }).then((v) => v).then((v) => v).then((v) => { log.push(`frame ${v}`); });
  }
  await pool.drained();
  log.push('END');
  assert.deepEqual(log, ['frame 0', 'frame 1', 'frame 2', 'frame 3', 'frame 4', 'END']);
  await pool.close();
});

test('pool: --max-cpu budget rests workers between jobs', async () => {
  // One worker, 50% of a core: each 20 ms job is followed by ~20 ms of rest.
  const pool = new OrderedPool<number>({ script: TEST_WORKER, eval: true, threads: 1, maxCpuPercent: 50, name: 'test' });
  await pool.run({ v: 0, delay: 1 }); // worker started
  const t0 = performance.now();
  const jobs = [];
  for (let i = 0; i < 5; i++) jobs.push(pool.run({ v: i, delay: 20 }));
  await Promise.all(jobs);
  const ms = performance.now() - t0;
  assert.ok(ms >= 5 * 20 + 4 * 18, `took ${ms.toFixed(0)} ms`);
  await pool.close();
});

test('EncodePool.submitReturning hands the batch back intact, and BatchBuilder reuses its pages', async () => {
  const { BatchBuilder } = await import('../../../src/wire/batch.js');
  const pool = new EncodePool({ policy: 'raw', threads: 1 });
  try {
    const b = new BatchBuilder(4);
    const page = new Uint8Array(4096).fill(7);
    for (let i = 0; i < 4; i++) b.appendPage(page, 0, i * 4096);
    const taken = b.take();
    const before = Buffer.from(taken.pages);
    const { frame, batch } = await pool.submitReturning(taken);
    assert.equal(taken.pages.byteLength, 0, 'the batch was transferred');
    assert.ok(frame.byteLength > 4 * 4096);
    assert.ok(Buffer.from(batch.pages).equals(before), 'the returned batch holds the same pages');
    assert.deepEqual([...batch.addrs], [0, 4096, 8192, 12288]);
    b.recycle(batch);
    // take() hands out the buffer it was filling and picks up the recycled one to fill next.
    b.appendPage(new Uint8Array(4096).fill(8), 0, 0);
    b.take();
    b.appendPage(new Uint8Array(4096).fill(9), 0, 0);
    const next = b.take();
    assert.ok(next.pages.buffer === batch.pages.buffer, 'the batch after next is built in the recycled buffer');
    assert.equal(next.pageCount, 1);
    assert.ok(next.pages.subarray(0, 4096).every((x) => x === 9));
    assert.equal(next.pages.byteLength, 4096, 'only the new page belongs to the batch');
  } finally {
    await pool.close();
  }
});

test('EncodePool.nextRoute: always pass-through under policy raw, always the workers under a fixed codec', async () => {
  const raw = new EncodePool({ policy: 'raw', threads: 1 });
  const zstd = new EncodePool({ policy: 'zstd', threads: 1 });
  try {
    for (let i = 0; i < 5; i++) {
      assert.equal(raw.nextRoute(), 'pass');
      assert.equal(zstd.nextRoute(), 'pool');
    }
  } finally {
    await Promise.all([raw.close(), zstd.close()]);
  }
});

test('EncodePool.nextRoute follows the cost model: pass-through on a link faster than the CPU, with probes beside the stream; the workers on a slow link', async () => {
  const { batch } = sampleBatch(64);
  // `fast`: a saturated receiver sets the pace, so the plan sends all raw; on its 300 MB/s link
  // compression could pay with the whole CPU budget, so the model still learns (probes).
  const fast = new EncodePool({ policy: 'adaptive', threads: 1, priorLinkBps: 300e6 });
  const slow = new EncodePool({ policy: 'adaptive', threads: 1, priorLinkBps: 1e6 });
  try {
    await Promise.all([fast.ready(), slow.ready()]);
    fast.model!.setReceiverLoad(1, 0);
    // Batch 0 is always a probe. A 1 MB/s link is worth compressing for: to the workers.
    assert.equal(slow.nextRoute(), 'pool');
    await slow.submit(batch, { transfer: false });
    // All raw: the batch passes through, and a copy of it is probed aside.
    assert.equal(fast.model!.allRaw, true);
    assert.equal(fast.nextRoute(), 'pass-probe');
    let probed = false;
    const aside = fast.submitAside(copyBatch(batch)).then((b) => { probed = true; return b; });
    // The probe does not hold back the stream: a pass-through frame submitted after it settles first.
    const frame = new Uint8Array([1, 2, 3]);
    assert.equal(await fast.submitFrame(frame, 0, 3), frame);
    assert.equal(probed, false, 'the pass-through frame did not wait for the probe');
    assert.equal(fast.inFlight, 0, 'a probe aside is not a job in flight');
    const back = await aside;
    assert.equal(back?.pageCount, batch.pageCount, 'the batch comes back for reuse');
    assert.ok(Object.keys(fast.model!.snapshot().measured).length > 0, 'the model learnt from the probe');
    assert.equal(fast.pagesByCodec().raw, undefined, 'a probe sends nothing: no pages counted');
    fast.model!.setLink(1e12);
    slow.model!.setLink(1e6);
    assert.equal(fast.nextRoute(), 'pass', 'batch 1: no probe due');
    assert.equal(slow.nextRoute(), 'pool');
    assert.equal(fast.nextRoute(), 'pass-probe', 'batch 2 probes again (batches 0, 2, 4, 8 learn fast)');
  } finally {
    await Promise.all([fast.close(), slow.close()]);
  }
});

test('EncodePool.nextRoute: a probe that is due is skipped while no worker is free', async () => {
  const { batch } = sampleBatch(64);
  const pool = new EncodePool({ policy: 'adaptive', threads: 1, priorLinkBps: 300e6 });
  try {
    await pool.ready();
    pool.model!.setReceiverLoad(1, 0); // all raw, and compression could pay: probes are due
    // Batches 0 and 1 to the workers: the one worker is busy with them.
    const busy = Promise.all([pool.submit(batch, { transfer: false }), pool.submit(batch, { transfer: false })]);
    assert.equal(pool.model!.shouldProbe(), true, 'batch 2 is due a probe');
    assert.equal(pool.nextRoute(), 'pass', 'no worker free: pass-through without a probe');
    await busy;
    assert.equal(pool.nextRoute(), 'pass', 'batch 3: none due');
    assert.equal(pool.nextRoute(), 'pass-probe', 'batch 4: due, and the worker is free');
    assert.equal(await pool.submitAside(copyBatch(batch)).then((b) => b?.pageCount), batch.pageCount);
  } finally {
    await pool.close();
  }
});

test('EncodePool.submitFrame: pass-through frames settle in order with the workers\' frames and count as raw pages', async () => {
  const pool = new EncodePool({ policy: 'lz4', threads: 1 });
  try {
    const { batch } = sampleBatch(32);
    const order: string[] = [];
    const a = pool.submitReturning(batch, { transfer: false }).then(() => order.push('pool'));
    const frame = new Uint8Array([1, 2, 3]);
    const b = pool.submitFrame(frame, 7, 7 * 4104).then((f) => { assert.equal(f, frame); order.push('pass'); });
    await Promise.all([a, b]);
    assert.deepEqual(order, ['pool', 'pass'], 'the frame built here waits for the worker frame before it');
    assert.equal(pool.passThroughFrames, 1);
    assert.ok(pool.pagesByCodec().raw >= 7);
  } finally {
    await pool.close();
  }
});

test('codec pools: ready() resolves once every worker has started (and warmed up its encoder)', async () => {
  const enc = new EncodePool({ policy: 'adaptive', threads: 2 });
  const dec = new DecodePool({ threads: 1 });
  try {
    await Promise.all([enc.ready(), dec.ready()]);
    await enc.ready(); // and stays resolved
    const { batch, span } = sampleBatch(8);
    const frame = await enc.submit(batch, { transfer: false });
    assert.deepEqual(Buffer.from((await dec.submit(frame)).span), Buffer.from(span));
  } finally {
    await Promise.all([enc.close(), dec.close()]);
  }
});
