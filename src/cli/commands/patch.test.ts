/** `patch`: the seed's meshconfig merge patch, other patch types refused, bad JSON reported. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeMesh } from '../testing/fake-mesh.js';
import { meshConfig } from '../testing/fixtures.js';
import { runTessera } from '../testing/harness.js';

const SEED = ['patch', 'meshconfig', 'fsm-mesh-config', '-n', 'fsm-system', '-p', '{"spec":{"featureFlags":{"enablePluginPolicy":true}}}', '--type=merge'];

test("the seed's patch enables plugin policy and prints kubectl's line", async () => {
  const m = new FakeMesh([meshConfig]);
  const r = await runTessera(SEED, m);
  assert.deepEqual([r.code, r.stdout, r.stderr], [0, 'meshconfig.config.flomesh.io/fsm-mesh-config patched\n', '']);
  assert.deepEqual(m.callsTo('patch')[0], ['MeshConfig', 'fsm-mesh-config', 'fsm-system', { spec: { featureFlags: { enablePluginPolicy: true } } }]);
  const again = await runTessera(SEED, m);
  assert.equal(again.stdout, 'meshconfig.config.flomesh.io/fsm-mesh-config patched (no change)\n');
});

test('KIND/NAME form, --type merge as two words, and YAML patches', async () => {
  const m = new FakeMesh([meshConfig]);
  const r = await runTessera(['patch', 'meshconfig/fsm-mesh-config', '-n', 'fsm-system', '--type', 'merge', '-p', 'spec: {featureFlags: {enablePluginPolicy: true}}'], m);
  assert.equal(r.code, 0);
  assert.equal(((await m.get('MeshConfig', 'fsm-mesh-config', 'fsm-system')).spec as { featureFlags: { enablePluginPolicy: boolean } }).featureFlags.enablePluginPolicy, true);
});

test('json and strategic patches are refused with a clear message', async () => {
  const r = await runTessera(['patch', 'meshconfig', 'fsm-mesh-config', '-n', 'fsm-system', '--type=json', '-p', '[{"op":"replace"}]'], new FakeMesh([meshConfig]));
  assert.deepEqual([r.code, r.stderr], [1, 'error: --type=json is not supported: Tessera applies JSON merge patches only; use --type=merge\n']);
});

test('malformed or non-object patches and missing objects are errors', async () => {
  const bad = await runTessera(['patch', 'meshconfig', 'fsm-mesh-config', '-n', 'fsm-system', '-p', '{"spec":', '--type=merge'], new FakeMesh([meshConfig]));
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^error: unable to parse "\{"spec":"/);
  const list = await runTessera(['patch', 'meshconfig', 'fsm-mesh-config', '-n', 'fsm-system', '-p', '[1]'], new FakeMesh([meshConfig]));
  assert.match(list.stderr, /^error: a merge patch must be a JSON object/);
  const missing = await runTessera(['patch', 'meshconfig', 'nope', '-n', 'fsm-system', '-p', '{}'], new FakeMesh([meshConfig]));
  assert.deepEqual([missing.code, missing.stderr], [1, 'error: meshconfigs "nope" not found\n']);
});
