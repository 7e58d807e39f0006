/** The daemon writes AccessControl status from the store, follows what it depends on, and settles (no write loop). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AccessControl } from '../../api/policy-types.js';
import type { Resource, Service } from '../../api/types.js';
import { startControllers } from './index.js';
import { namespace, put, settle, tempStore, waitFor } from './controller-fixtures.js';

const MESH = 'fsm';

const httpbinService: Service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'httpbin', namespace: 'httpbin' },
  spec: { selector: { app: 'httpbin' }, ports: [{ name: 'http', port: 14001 }] },
};

const accessControl: AccessControl = {
  apiVersion: 'policy.flomesh.io/v1alpha1',
  kind: 'AccessControl',
  metadata: { name: 'httpbin', namespace: 'httpbin' },
  spec: { backends: [{ name: 'httpbin', port: { number: 14001, protocol: 'http' } }], sources: [{ kind: 'IPRange', name: '127.0.0.51/32' }] },
};

test('AccessControl status: committed when it resolves, an error naming the missing backend otherwise, and no write loop', async (t) => {
  const { store } = tempStore(t);
  const c = startControllers({ store, meshName: MESH, block: 43 });
  t.after(() => c.stop());
  const status = () => store.get({ kind: 'AccessControl', namespace: 'httpbin', name: 'httpbin' })?.status;

  put(store, namespace('httpbin', { 'flomesh.io/monitored-by': MESH }), accessControl as Resource);
  await waitFor('an error status', () => (status() as { currentStatus?: string } | undefined)?.currentStatus === 'error');
  assert.deepEqual(status(), { currentStatus: 'error', reason: 'backend service httpbin/httpbin not found' });

  put(store, httpbinService);
  await waitFor('the committed status', () => (status() as { currentStatus?: string } | undefined)?.currentStatus === 'committed');
  assert.deepEqual(status(), { currentStatus: 'committed', reason: 'successfully committed by the system' });

  // The status write runs one more pass, which finds nothing to change: the store goes quiet.
  await settle(store);
  const revision = store.revision;
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(store.revision, revision, 'nothing is written once the status is current');

  // A re-apply of the same manifest keeps the status (the store keeps status across puts).
  put(store, accessControl as Resource);
  await settle(store);
  assert.deepEqual(status(), { currentStatus: 'committed', reason: 'successfully committed by the system' });
});
