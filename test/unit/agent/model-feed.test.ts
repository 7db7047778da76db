/** What the sender's feed counts as the workers' share of a contended core. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { fairShare } from '../../../src/agent/model-feed.js';

test('fairShare: a whole core while the runnable threads fit the cores; contended, weighted by nice', () => {
  const cores = os.availableParallelism();
  assert.equal(fairShare(0, 0), 0, 'unknown');
  assert.equal(fairShare(cores, 10), 1, 'no contention: nice changes nothing');
  const even = fairShare(cores * 2, 0);
  assert.equal(even, 0.5);
  // nice 10 weighs 110/1024 of nice 0 in CFS; 1.25^-10 = 0.107.
  assert.ok(Math.abs(fairShare(cores * 2, 10) / even - 0.107) < 0.001);
  assert.ok(fairShare(cores * 2, 19) < fairShare(cores * 2, 10));
});
