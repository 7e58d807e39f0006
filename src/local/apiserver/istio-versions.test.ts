/**
 * security.istio.io served at v1 and v1beta1 (Istio 1.22+ writes v1): one stored object, read at
 * either version, listed by discovery with one storage version. Over real HTTPS to the local API server.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestMesh } from './api-fixtures.js';

const GROUP = 'security.istio.io';
const policy = (apiVersion: string, name: string) => ({
  apiVersion, kind: 'AuthorizationPolicy', metadata: { name, namespace: 'demo' },
  spec: { action: 'ALLOW', rules: [{ to: [{ operation: { methods: ['GET'] } }] }] },
});

test('security.istio.io: both versions in discovery, created at either, read at either, stored once', async (t) => {
  const mesh = await startTestMesh(t, { controllers: false });
  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> => {
    const res = await mesh.transport.fetch(`${mesh.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${mesh.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: await res.json() };
  };
  assert.equal((await call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' } })).status, 201);

  const groups = (await call('GET', '/apis')).body as { groups: { name: string; versions: { version: string }[]; preferredVersion: { version: string } }[] };
  const istio = groups.groups.find((g) => g.name === GROUP)!;
  assert.deepEqual(istio.versions.map((v) => v.version).sort(), ['v1', 'v1beta1']);
  for (const v of ['v1', 'v1beta1']) {
    const list = (await call('GET', `/apis/${GROUP}/${v}`)).body as { resources: { name: string; kind: string }[] };
    const names = list.resources.map((r) => r.name);
    for (const n of ['authorizationpolicies', 'requestauthentications']) assert.ok(names.includes(n), `${v}: ${names.join(',')}`);
  }

  // created at v1, read back at v1 and at v1beta1 (the same object, the version it is asked for)
  const created = await call('POST', `/apis/${GROUP}/v1/namespaces/demo/authorizationpolicies`, policy(`${GROUP}/v1`, 'from-v1'));
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.apiVersion, `${GROUP}/v1`);
  const atV1 = (await call('GET', `/apis/${GROUP}/v1/namespaces/demo/authorizationpolicies/from-v1`)).body;
  const atBeta = (await call('GET', `/apis/${GROUP}/v1beta1/namespaces/demo/authorizationpolicies/from-v1`)).body;
  assert.equal(atV1.apiVersion, `${GROUP}/v1`);
  assert.equal(atBeta.apiVersion, `${GROUP}/v1beta1`);
  assert.equal(atV1.metadata.uid, atBeta.metadata.uid);
  assert.deepEqual(atV1.spec, atBeta.spec);

  // created at v1beta1 too; both versions list both objects, once each
  assert.equal((await call('POST', `/apis/${GROUP}/v1beta1/namespaces/demo/authorizationpolicies`, policy(`${GROUP}/v1beta1`, 'from-beta'))).status, 201);
  for (const v of ['v1', 'v1beta1']) {
    const list = (await call('GET', `/apis/${GROUP}/${v}/namespaces/demo/authorizationpolicies`)).body as { apiVersion: string; items: { metadata: { name: string }; apiVersion?: string }[] };
    assert.deepEqual(list.items.map((i) => i.metadata.name).sort(), ['from-beta', 'from-v1'], v);
    assert.equal(list.apiVersion, `${GROUP}/${v}`);
  }
  // stored once, whatever version wrote it
  const stored = mesh.store.list('AuthorizationPolicy').map((o) => [o.metadata.name, o.apiVersion]).sort();
  assert.equal(stored.length, 2);
  assert.equal(new Set(stored.map(([, v]) => v)).size, 1, `one storage version: ${JSON.stringify(stored)}`);

  // updated at the other version than it was created at: still one object
  const update = await call('PUT', `/apis/${GROUP}/v1beta1/namespaces/demo/authorizationpolicies/from-v1`, { ...atBeta, spec: { action: 'DENY', rules: [{}] } });
  assert.equal(update.status, 200, JSON.stringify(update.body));
  assert.equal((await call('GET', `/apis/${GROUP}/v1/namespaces/demo/authorizationpolicies/from-v1`)).body.spec.action, 'DENY');
  assert.equal(mesh.store.list('AuthorizationPolicy').length, 2);
});
