/**
 * A tiny evaluation cell end to end: one workload, plain and mecom, one run each, on loopback
 * (no namespace, no shaping). Every field of every row is checked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runEval } from '../../../src/eval/harness.js';
import { findWorkload } from '../../../src/eval/workloads.js';
import { findLink } from '../../../src/eval/links.js';
import { summarise, type EvalRow } from '../../../src/eval/stats.js';

test('a tiny cell (idle, plain + mecom, loopback) yields complete, verified rows', { timeout: 300_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mecom-eval-test-'));
  const rowsPath = path.join(dir, 'rows.jsonl');
  try {
    const rows = await runEval({
      workloads: [findWorkload('idle')!],
      modes: ['plain', 'mecom'],
      links: [findLink('loopback')!],
      runs: 1,
      memMiB: 256,
      timeLimitS: 60,
      warmupMs: 1500,
      rowsPath,
    });
    assert.equal(rows.length, 2);
    const fromFile = fs.readFileSync(rowsPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as EvalRow);
    assert.deepEqual(fromFile, JSON.parse(JSON.stringify(rows)));
    for (const r of rows) {
      const what = `${r.mode}: ${JSON.stringify(r)}`;
      assert.equal(r.workload, 'idle');
      assert.equal(r.link, 'loopback');
      assert.equal(r.run, 1);
      assert.ok(['plain', 'mecom'].includes(r.mode), what);
      assert.equal(r.error, undefined, what);
      assert.equal(r.ok, true, what);
      assert.equal(r.converged, true, what);
      assert.ok(Number.isInteger(r.totalMs) && r.totalMs! > 0 && r.totalMs! < 60_000, what);
      assert.ok(Number.isInteger(r.downtimeMs) && r.downtimeMs! >= 0 && r.downtimeMs! <= r.totalMs!, what);
      assert.ok(Number.isInteger(r.guestPauseMs) && r.guestPauseMs! > 0 && r.guestPauseMs! < 60_000, what);
      assert.ok(r.ramBytes! >= 256 * 1024 * 1024, what);
      assert.ok(r.wireBytes! > 1e6 && r.wireBytes! < 2 * r.ramBytes!, what);
      assert.ok(Number.isInteger(r.rounds) && r.rounds! >= 1, what);
      assert.equal(r.wireCountedOn, 'transport');
    }
    const [plain, mecom] = ['plain', 'mecom'].map((m) => rows.find((r) => r.mode === m)!);
    // On loopback the link outruns the codecs, so the cost model may send every page raw (as
    // pass-through frames: the stream plus 32 bytes a frame); it must never send much more than
    // QEMU itself would. (That compression shrinks the wire is checked by the live migrate tests.)
    assert.ok(mecom.wireBytes! < plain.wireBytes! * 1.1, `mecom ${mecom.wireBytes} B not within 10% of plain's ${plain.wireBytes} B`);
    const cells = summarise(rows);
    assert.equal(cells.length, 2);
    assert.equal(cells.find((c) => c.mode === 'plain')!.vsPlain.wireBytes, 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
