/** Events expire a TTL after their last write (kube-apiserver's --event-ttl), over the real SQLite store. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startEventTtl } from './index.js';
import { configMap, harness, keyOf, obj, waitFor } from './fixtures.js';

const event = (name: string, count = 1) => obj('v1', 'Event', name, 'team', {}, {
  involvedObject: { kind: 'Pod', name: 'web-1', namespace: 'team' }, reason: 'Started', message: 'Started container', count, type: 'Normal',
} as never);

test('an Event is deleted once the TTL has passed since its last write; a rewrite extends it; other kinds are untouched', async (t) => {
  const h = harness(t);
  const { storage } = h;
  const listed = storage.create(event('before-start'));
  storage.create(configMap('cfg', 'team'));
  h.start((o) => startEventTtl({ ...o, ttlMs: 400 }));
  const fresh = storage.create(event('fresh'));
  // rewritten (a repeat bumps its count) twice before its deadline: it lives 400 ms past the last write
  const repeated = storage.create(event('repeated'));
  await sleep(250);
  const again = storage.update({ ...repeated, count: 2 } as never).object;
  await waitFor('every Event to expire', () => !storage.get(keyOf(listed)) && !storage.get(keyOf(fresh)) && !storage.get(keyOf(again)), 5000);
  // the rewritten one went last: its first deadline was skipped for the one its rewrite set
  assert.deepEqual(h.deleted.filter((d) => d.startsWith('Event/')), ['Event/before-start', 'Event/fresh', 'Event/repeated']);
  assert.ok(storage.get(keyOf(configMap('cfg', 'team'))), 'a ConfigMap never expires');
  assert.ok(h.logs.some((l) => /^event team\/fresh expired \(ttl 400 ms\): deleted$/.test(l)), h.logs.join('\n'));
});
