/** checkCompatibility against what QEMU 10.0.2 reports (query-migrate-capabilities / -parameters). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkCompatibility } from '../../../src/qemu/capabilities.js';

/** QEMU 10.0.2's capability list, in its order, all off (the default). */
const QEMU10_CAPS = ['xbzrle', 'rdma-pin-all', 'auto-converge', 'zero-blocks', 'events', 'postcopy-ram', 'x-colo',
  'release-ram', 'return-path', 'pause-before-switchover', 'multifd', 'dirty-bitmaps', 'postcopy-blocktime',
  'late-block-activate', 'x-ignore-shared', 'validate-uuid', 'background-snapshot', 'zero-copy-send',
  'postcopy-preempt', 'switchover-ack', 'dirty-limit', 'mapped-ram'];
const QEMU10_PARAMS = { 'zero-page-detection': 'multifd', mode: 'normal', 'tls-creds': '', 'direct-io': false, 'multifd-channels': 2 };

const caps = (on: string[]) => QEMU10_CAPS.map((capability) => ({ capability, state: on.includes(capability) }));

test('QEMU 10 defaults are accepted', () => {
  assert.deepEqual(checkCompatibility(caps([]), QEMU10_PARAMS), { enabled: [], zeroPageDetection: 'multifd' });
});

test('events, pause-before-switchover, auto-converge and zero-page-detection none are accepted', () => {
  const r = checkCompatibility(caps(['events', 'pause-before-switchover', 'auto-converge']), { ...QEMU10_PARAMS, 'zero-page-detection': 'none' });
  assert.deepEqual(r.enabled, ['auto-converge', 'events', 'pause-before-switchover']);
  assert.equal(r.zeroPageDetection, 'none');
});

for (const name of ['xbzrle', 'multifd', 'mapped-ram', 'postcopy-ram', 'return-path', 'x-colo', 'switchover-ack',
  'x-ignore-shared', 'validate-uuid', 'dirty-bitmaps', 'release-ram', 'compress', 'some-future-capability']) {
  test(`capability ${name} on is refused, naming it`, () => {
    const list = name === 'compress' || name === 'some-future-capability' ? [...caps([]), { capability: name, state: true }] : caps([name]);
    assert.throws(() => checkCompatibility(list, QEMU10_PARAMS), (e: { code: string; capability: string; message: string }) =>
      e.code === 'MECOM_QEMU_UNSUPPORTED_CAPABILITY' && e.capability === name && e.message.includes(`'${name}'`));
  });
}

for (const [param, value] of [['tls-creds', 'tls0'], ['mode', 'cpr-reboot'], ['direct-io', true], ['zero-page-detection', 'magic']] as const) {
  test(`parameter ${param}=${String(value)} is refused`, () => {
    assert.throws(() => checkCompatibility(caps([]), { ...QEMU10_PARAMS, [param]: value }),
      { code: 'MECOM_QEMU_UNSUPPORTED_CAPABILITY', capability: param });
  });
}
