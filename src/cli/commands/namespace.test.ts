/** FSM's namespace verbs: labels and annotation patches, messages, default mesh name from the running mesh. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeMesh } from '../testing/fake-mesh.js';
import { namespace } from '../testing/fixtures.js';
import { runTessera } from '../testing/harness.js';

test('namespace add NS...: both labels, injection enabled, mesh name from status()', async () => {
  const m = new FakeMesh([namespace('curl'), namespace('httpbin')]);
  const r = await runTessera(['namespace', 'add', 'curl', 'httpbin'], m);
  assert.deepEqual([r.code, r.stdout], [0, 'Namespace [curl] successfully added to mesh [fsm]\nNamespace [httpbin] successfully added to mesh [fsm]\n']);
  const ns = await m.get('Namespace', 'curl');
  assert.deepEqual(ns.metadata.labels, { 'flomesh.io/monitored-by': 'fsm', 'openservicemesh.io/monitored-by': 'fsm' });
  assert.deepEqual(ns.metadata.annotations, { 'flomesh.io/sidecar-injection': 'enabled' });
  assert.deepEqual(m.callsTo('patch')[0]!.slice(0, 2), ['Namespace', 'curl']);
});

test('--mesh-name and --disable-sidecar-injection', async () => {
  const m = new FakeMesh([namespace('auth')]);
  const r = await runTessera(['namespace', 'add', 'auth', '--mesh-name', 'other', '--disable-sidecar-injection'], m);
  assert.equal(r.stdout, 'Namespace [auth] successfully added to mesh [other]\n');
  assert.equal(m.callsTo('status').length, 0);
  const ns = await m.get('Namespace', 'auth');
  assert.equal(ns.metadata.annotations?.['flomesh.io/sidecar-injection'], 'disabled');
});

test('adding a namespace another mesh monitors, or a missing one, fails', async () => {
  const m = new FakeMesh([namespace('x', { 'flomesh.io/monitored-by': 'other' })]);
  const r = await runTessera(['namespace', 'add', 'x'], m);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^error: Namespace \[x\] already has \[flomesh.io\/monitored-by\] label set to \[other\]/);
  const missing = await runTessera(['ns', 'add', 'nope'], m);
  assert.deepEqual([missing.code, missing.stderr], [1, 'error: namespaces "nope" not found\n']);
});

test('namespace remove drops the keys; a namespace outside any mesh is reported, not an error', async () => {
  const m = new FakeMesh([namespace('curl', { team: 'a' }, { keep: 'me' })]);
  await runTessera(['namespace', 'add', 'curl'], m);
  const r = await runTessera(['namespace', 'remove', 'curl'], m);
  assert.deepEqual([r.code, r.stdout], [0, 'Namespace [curl] successfully removed from mesh [fsm]\n']);
  const ns = await m.get('Namespace', 'curl');
  assert.deepEqual(ns.metadata.labels, { team: 'a' });
  assert.deepEqual(ns.metadata.annotations, { keep: 'me' });
  const again = await runTessera(['namespace', 'remove', 'curl'], m);
  assert.deepEqual([again.code, again.stdout], [0, 'Namespace [curl] already does not belong to any mesh\n']);
});

test('namespace list shows NAMESPACE MESH SIDECAR-INJECTION', async () => {
  const m = new FakeMesh([namespace('curl'), namespace('httpbin'), namespace('plain')]);
  await runTessera(['namespace', 'add', 'curl'], m);
  await runTessera(['namespace', 'add', 'httpbin', '--disable-sidecar-injection'], m);
  const r = await runTessera(['namespace', 'list'], m);
  assert.equal(r.stdout, 'NAMESPACE   MESH   SIDECAR-INJECTION\ncurl        fsm    enabled\nhttpbin     fsm    disabled\n');
  const none = await runTessera(['namespace', 'list', '--mesh-name', 'zzz'], m);
  assert.equal(none.stdout, 'No namespace in mesh [zzz]\n');
});
