/** `wait`: --for and --timeout parsing, success lines, and kubectl's timeout report. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MeshError } from '../../lib/errors.js';
import { parseDuration } from '../duration.js';
import { FakeMesh } from '../testing/fake-mesh.js';
import { curlPod, httpbinDeployment, httpbinPod, pendingPod } from '../testing/fixtures.js';
import { runTessera } from '../testing/harness.js';
import { parseWaitFor } from './wait.js';

test("the seed's wait: --for=condition=ready pod -n curl -l app=curl --timeout=90s", async () => {
  const m = new FakeMesh([curlPod]);
  const r = await runTessera(['wait', '--for=condition=ready', 'pod', '-n', 'curl', '-l', 'app=curl', '--timeout=90s'], m);
  assert.deepEqual([r.code, r.stdout, r.stderr], [0, 'pod/curl-7d8f9c6b5d-x2x7q condition met\n', '']);
  assert.deepEqual(m.callsTo('wait'), [[{ kind: 'Pod', namespace: 'curl', labelSelector: 'app=curl' }, 'ready', 90_000]]);
});

test('KIND/NAME, condition=Available, delete, and the 30s default', async () => {
  const m = new FakeMesh([httpbinDeployment]);
  const r = await runTessera(['wait', '--for', 'condition=Available', 'deploy/httpbin', '-n', 'httpbin'], m);
  assert.equal(r.stdout, 'deployment.apps/httpbin condition met\n');
  assert.deepEqual(m.callsTo('wait')[0], [{ kind: 'Deployment', namespace: 'httpbin', name: 'httpbin' }, 'available', 30_000]);
  await runTessera(['wait', '--for=delete', 'pod', 'x', '-n', 'curl', '--timeout', '2m'], m);
  assert.deepEqual(m.callsTo('wait')[1]!.slice(1), ['delete', 120_000]);
});

test('--for=delete reports the objects that were there when it started', async () => {
  const m = new FakeMesh([httpbinPod]);
  m.waitImpl = async () => [];
  const r = await runTessera(['wait', '--for=delete', 'pod/httpbin-5c7b9d6f4-k8s2m', '-n', 'httpbin'], m);
  assert.deepEqual([r.code, r.stdout], [0, 'pod/httpbin-5c7b9d6f4-k8s2m condition met\n']);
  const gone = await runTessera(['wait', '--for=delete', 'deploy/ghost', '-n', 'httpbin'], m);
  assert.deepEqual([gone.code, gone.stdout], [0, 'deployment.apps/ghost condition met\n']);
});

test('timeout: the satisfied objects are met, each pending one is an error line, exit 1', async () => {
  const m = new FakeMesh([httpbinPod, pendingPod]);
  m.waitImpl = async () => {
    throw new MeshError('MESH_ERR_TIMEOUT', 'timed out');
  };
  const r = await runTessera(['wait', '--for=condition=ready', 'pod', '-l', 'app=httpbin', '-n', 'httpbin', '--timeout=1s'], m);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, 'pod/httpbin-5c7b9d6f4-k8s2m condition met\n');
  assert.equal(r.stderr, 'error: timed out waiting for the condition on pods/httpbin-5c7b9d6f4-zzzzz\n');
});

test('a named object that never appeared still names itself in the timeout', async () => {
  const m = new FakeMesh();
  m.waitImpl = async () => {
    throw new MeshError('MESH_ERR_TIMEOUT', 'timed out');
  };
  const r = await runTessera(['wait', '--for=condition=ready', 'pod/ghost', '--timeout=0s'], m);
  assert.deepEqual([r.code, r.stderr], [1, 'error: timed out waiting for the condition on pods/ghost\n']);
});

test('usage errors: no --for, no target, bad duration', async () => {
  assert.match((await runTessera(['wait', 'pod', '-l', 'a=b'])).stderr, /^error: --for must be set/);
  assert.match((await runTessera(['wait', '--for=condition=ready', 'pod'])).stderr, /no name, label selector, or --all/);
  const bad = await runTessera(['wait', '--for=condition=ready', 'pod', 'x', '--timeout=soon']);
  assert.deepEqual([bad.code, bad.stderr], [1, 'error: time: invalid duration "soon"\n']);
});

test('parseWaitFor and parseDuration', () => {
  assert.equal(parseWaitFor('condition=ready'), 'ready');
  assert.equal(parseWaitFor('condition=Ready=True'), 'ready');
  assert.equal(parseWaitFor('delete'), 'delete');
  assert.throws(() => parseWaitFor('jsonpath={.x}'), /unrecognized condition/);
  assert.equal(parseDuration('90s'), 90_000);
  assert.equal(parseDuration('1m30s'), 90_000);
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('1h'), 3_600_000);
  assert.equal(parseDuration('0'), 0);
  assert.equal(parseDuration('45'), 45_000);
  assert.throws(() => parseDuration('90x'), /invalid duration "90x"/);
});
