/**
 * Writes as kube-apiserver v1.37.2 answers them (measured by test/e2e/differential.test.ts): a
 * dry-run create carries a uid, strict decoding errors on create/update name the kind and version,
 * a JSON patch that cannot be applied is 422 Invalid with empty details. In process: the generic
 * server over a SQLite-backed store, on a loopback HTTP port.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testKubeApi as server } from './test-server.js';

test('a dry-run create answers with a generated name, a uid and a creation time, and stores nothing', async (t) => {
  const send = await server(t);
  const r = await send('POST', '/api/v1/namespaces/demo/configmaps?dryRun=All', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'g-' } });
  assert.equal(r.status, 201);
  assert.match(r.body.metadata.name, /^g-[a-z0-9]{5}$/);
  assert.match(r.body.metadata.uid, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.ok(r.body.metadata.creationTimestamp);
  assert.equal(r.body.metadata.resourceVersion, undefined);
  assert.equal((await send('GET', '/api/v1/namespaces/demo/configmaps')).body.items.length, 0);
});

test('strict decoding errors on create and update: "<Kind> in version "<v>" cannot be handled as a <Kind>: …" (400)', async (t) => {
  const send = await server(t);
  const create = await send('POST', '/apis/example.com/v1/namespaces/demo/widgets?fieldValidation=Strict', { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec: { size: 1, shape: 'round' } });
  assert.equal(create.status, 400);
  assert.equal(create.body.message, 'Widget in version "v1" cannot be handled as a Widget: strict decoding error: unknown field "spec.shape"');
  assert.equal((await send('POST', '/apis/example.com/v1/namespaces/demo/widgets', { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec: { size: 1 } })).status, 201);
  const update = await send('PUT', '/apis/example.com/v1/namespaces/demo/widgets/w?fieldValidation=Strict', { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec: { size: 2, shape: 'round' } });
  assert.equal(update.status, 400);
  assert.equal(update.body.message, 'Widget in version "v1" cannot be handled as a Widget: strict decoding error: unknown field "spec.shape"');
});

test('a JSON patch that cannot be applied is 422 Invalid with empty details; merge patches are unchanged', async (t) => {
  const send = await server(t);
  await send('POST', '/api/v1/namespaces/demo/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { color: 'blue' } });
  const path = '/api/v1/namespaces/demo/configmaps/c';
  for (const ops of [[{ op: 'test', path: '/data/color', value: 'red' }], [{ op: 'remove', path: '/data/nope' }], [{ op: 'bogus', path: '/data/color' }]]) {
    const r = await send('PATCH', path, ops, 'application/json-patch+json');
    assert.equal(r.status, 422, JSON.stringify(r.body));
    assert.equal(r.body.reason, 'Invalid');
    assert.deepEqual(r.body.details, {});
    assert.match(r.body.message, /^operation 0: /);
  }
  // not a list of operations at all: still a bad request
  assert.equal((await send('PATCH', path, { op: 'add' }, 'application/json-patch+json')).status, 400);
  assert.equal((await send('GET', path)).body.data.color, 'blue');
});
