/** Admission warnings for Istio security policies over real HTTPS: a `Warning: 299` header, and the object stored all the same. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestMesh } from './api-fixtures.js';
import { warningTexts } from '../client/kube-mesh-api.js';

test('an AuthorizationPolicy naming a service account that does not exist: created, with a warning', async (t) => {
  const mesh = await startTestMesh(t, { controllers: false });
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await mesh.transport.fetch(`${mesh.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${mesh.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    await res.text();
    return { status: res.status, warnings: warningTexts(res.headers.get('warning')) };
  };
  assert.equal((await call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' } })).status, 201);
  const policy = (name: string, sa: string) => ({
    apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name, namespace: 'demo' },
    spec: { action: 'ALLOW', rules: [{ from: [{ source: { principals: [`cluster.local/ns/demo/sa/${sa}`] } }] }] },
  });
  const ghost = await call('POST', '/apis/security.istio.io/v1/namespaces/demo/authorizationpolicies', policy('ghost', 'ghost'));
  assert.equal(ghost.status, 201);
  assert.deepEqual(ghost.warnings, ['AuthorizationPolicy demo/ghost: spec.rules[0].from[0].source.principals[0]: "cluster.local/ns/demo/sa/ghost" names service account "ghost", which does not exist in namespace "demo"']);
  assert.equal(mesh.store.list('AuthorizationPolicy').length, 1);
  const fine = await call('POST', '/apis/security.istio.io/v1/namespaces/demo/authorizationpolicies', policy('fine', 'default'));
  assert.deepEqual([fine.status, fine.warnings], [201, []]);
});
