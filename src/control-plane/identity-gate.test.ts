/**
 * The CA's write gate (leader election): a replica that does not lead never creates the CA bundle
 * Secret (it waits for the leader's) nor writes the trust-bundle ConfigMap; once it leads,
 * `flushBundle` writes what it kept back.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Resource } from '../api/types.js';
import { MeshError } from '../lib/errors.js';
import type { MeshApi } from '../local/api-contract.js';
import { MeshIdentity } from './identity.js';

function fakeApi(): { api: MeshApi; objects: Map<string, Resource>; writes: string[] } {
  const objects = new Map<string, Resource>();
  const writes: string[] = [];
  const key = (kind: string, ns: string | undefined, name: string): string => `${kind}/${ns ?? ''}/${name}`;
  const api = {
    async get(kind: string, name: string, namespace?: string) {
      const o = objects.get(key(kind, namespace, name));
      if (!o) throw new MeshError('MESH_ERR_NOT_FOUND', `${kind} ${namespace}/${name} not found`);
      return structuredClone(o);
    },
    async apply(docs: { object: Record<string, unknown> }[]) {
      for (const d of docs) {
        const o = d.object as unknown as Resource;
        objects.set(key(o.kind, o.metadata.namespace, o.metadata.name), structuredClone(o));
        writes.push(`${o.kind} ${o.metadata.namespace}/${o.metadata.name}`);
      }
      return [];
    },
  } as unknown as MeshApi;
  return { api, objects, writes };
}

test('not leading: no CA is created (the caller retries until the leader made one); leading: created', async () => {
  const { api, writes } = fakeApi();
  await assert.rejects(MeshIdentity.start(api, 'fsm', { canWrite: () => false }), /fsm-system\/fsm-ca-bundle does not exist yet and this replica does not hold the leader election Lease/);
  assert.deepEqual(writes, []);
  const { created } = await MeshIdentity.start(api, 'fsm', { canWrite: () => true });
  assert.ok(created);
  assert.deepEqual(writes, ['Secret fsm-system/fsm-ca-bundle', 'ConfigMap fsm-system/fsm-ca-trust-bundle']);
});

test('not leading: the leader\'s CA is loaded, the trust bundle kept in memory; flushBundle writes it once leading', async () => {
  const { api, objects, writes } = fakeApi();
  await MeshIdentity.start(api, 'fsm', { canWrite: () => true });
  objects.delete('ConfigMap/fsm-system/fsm-ca-trust-bundle');
  writes.length = 0;
  let leading = false;
  const { identity, created } = await MeshIdentity.start(api, 'fsm', { canWrite: () => leading });
  assert.equal(created, false);
  assert.equal(identity.trust.bundle.length, 1);
  assert.deepEqual(writes, [], 'nothing written by a follower');
  await identity.flushBundle();
  assert.deepEqual(writes, []);
  leading = true;
  await identity.flushBundle();
  assert.deepEqual(writes, ['ConfigMap fsm-system/fsm-ca-trust-bundle']);
  await identity.flushBundle();
  assert.equal(writes.length, 1, 'written once');
});

test('the process-wide gate (MeshIdentity.canWrite) is what start uses by default', async () => {
  const { api, writes } = fakeApi();
  const before = MeshIdentity.canWrite;
  MeshIdentity.canWrite = () => false;
  try {
    await assert.rejects(MeshIdentity.start(api, 'fsm'), /does not hold the leader election Lease/);
    assert.deepEqual(writes, []);
  } finally {
    MeshIdentity.canWrite = before;
  }
});
