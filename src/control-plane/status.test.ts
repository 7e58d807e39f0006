/**
 * AccessControl status from the controller: `KubeMeshApi.replaceStatus` against the embedded API
 * server (a PUT of the object drops `.status`; `/status` stores it; a stale resourceVersion is a 409
 * that is re-read and retried), and the writer's decisions (what it writes, when it does not).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AccessControl } from '../api/policy-types.js';
import type { Resource } from '../api/types.js';
import { testKubeApi } from '../kube/apiserver/test-server.js';
import { ApiTransport } from '../local/api-transport.js';
import { KubeMeshApi } from '../local/client/index.js';
import { AccessControlStatusWriter, desiredAccessControlStatuses, type StatusApi } from './status.js';

const PATH = '/apis/policy.flomesh.io/v1alpha1/namespaces/demo/accesscontrols';

function acl(name: string, spec: Record<string, unknown>, status?: Record<string, string>): AccessControl {
  return {
    apiVersion: 'policy.flomesh.io/v1alpha1', kind: 'AccessControl', metadata: { name, namespace: 'demo', resourceVersion: '1' },
    spec: spec as unknown as AccessControl['spec'], ...(status ? { status } : {}),
  };
}

const ipOnly = { sources: [{ kind: 'IPRange', name: '10.0.0.0/8' }] };
const missingBackend = { sources: [{ kind: 'IPRange', name: '10.0.0.0/8' }], backends: [{ name: 'nosuch', port: { number: 80, protocol: 'http' } }] };

test('replaceStatus writes through /status on the embedded API; a PUT of the object keeps the stored status; conflicts are retried', async (t) => {
  const send = await testKubeApi(t);
  const kube = new KubeMeshApi({ baseUrl: `http://127.0.0.1:${send.port}`, transport: new ApiTransport('') });
  const created = await send('POST', PATH, { apiVersion: 'policy.flomesh.io/v1alpha1', kind: 'AccessControl', metadata: { name: 'a' }, spec: ipOnly });
  assert.equal(created.status, 201, JSON.stringify(created.body));

  // the main resource ignores .status (the status subresource is declared)
  const put = await send('PUT', `${PATH}/a`, { ...created.body, status: { currentStatus: 'committed', reason: 'by PUT' } });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  assert.equal((await send('GET', `${PATH}/a`)).body.status, undefined, 'a PUT of the object stores no status');

  const first = await kube.replaceStatus('AccessControl', 'a', 'demo', { currentStatus: 'committed', reason: 'ok' });
  assert.equal(first.action, 'configured');
  const stored = (await send('GET', `${PATH}/a`)).body as Resource;
  assert.deepEqual(stored.status, { currentStatus: 'committed', reason: 'ok' });
  assert.deepEqual(stored.spec, ipOnly, 'the spec untouched');

  // the caller's copy is stale (the object changed since): 409, re-read, written
  const stale = created.body as Resource;
  const second = await kube.replaceStatus('AccessControl', 'a', 'demo', { currentStatus: 'error', reason: 'later' }, { current: stale });
  assert.equal(second.action, 'configured');
  assert.deepEqual((await send('GET', `${PATH}/a`)).body.status, { currentStatus: 'error', reason: 'later' });

  // the same status again: nothing written
  const rv = (await send('GET', `${PATH}/a`)).body.metadata.resourceVersion as string;
  assert.equal((await kube.replaceStatus('AccessControl', 'a', 'demo', { reason: 'later', currentStatus: 'error' })).action, 'unchanged');
  assert.equal((await send('GET', `${PATH}/a`)).body.metadata.resourceVersion, rv);

  await assert.rejects(kube.replaceStatus('AccessControl', 'gone', 'demo', { currentStatus: 'committed', reason: 'x' }), (e: Error & { code?: string }) => e.code === 'MESH_ERR_NOT_FOUND');
});

test('the writer writes what the catalog judges, skips what is already so, and writes nothing while not leading', async () => {
  const writes: { name: string; status: unknown; current?: Resource }[] = [];
  let fail = false;
  const api: StatusApi = {
    async replaceStatus(_kind, name, _ns, status, opts) {
      if (fail) throw new Error('HTTP 403 forbidden');
      writes.push({ name, status, ...(opts?.current ? { current: opts.current } : {}) });
      return { action: 'configured' };
    },
  };
  const warnings: string[] = [];
  let leading = false;
  const writer = new AccessControlStatusWriter({ api, meshName: 'fsm', log: { info: () => undefined, warn: (m) => void warnings.push(m) }, canWrite: () => leading });
  const resources: Resource[] = [acl('ip', ipOnly), acl('missing', missingBackend, { currentStatus: 'error', reason: 'backend service demo/nosuch not found' })];

  await writer.update(resources);
  assert.equal(writes.length, 0, 'a follower writes nothing');

  leading = true;
  await writer.retry();
  assert.deepEqual(writes.map((w) => [w.name, w.status]), [['ip', { currentStatus: 'committed', reason: 'successfully committed by the system' }]], 'only the status that differs');
  assert.equal(writes[0]!.current?.metadata.name, 'ip', 'the informer\'s copy is passed along (its resourceVersion)');

  // what the writer wants equals what desiredAccessControlStatuses says
  const desired = desiredAccessControlStatuses('fsm', resources);
  assert.deepEqual(desired.get('demo/missing'), { currentStatus: 'error', reason: 'backend service demo/nosuch not found' });

  // a refused write is logged (and retried later, not here)
  fail = true;
  writes.length = 0;
  await writer.update([acl('ip', ipOnly)]);
  assert.match(warnings.join('\n'), /cannot write AccessControl status/);
  writer.stop();
});
