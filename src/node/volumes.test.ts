/**
 * What a node reads for a pod's env: the Secrets and ConfigMaps its `secretKeyRef`/`configMapKeyRef`
 * name, at every prepare; a missing non-optional one keeps the pod waiting.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Pod, Resource } from '../api/types.js';
import { NodeApiError, type NodeApi } from './api.js';
import { PodVolumes } from './volumes.js';

test('env references are read with the volumes; optional ones may be missing, others keep the pod waiting', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-node-volumes-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const objects = new Map<string, Resource>([['/api/v1/namespaces/fsm-system/secrets/token', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'token', namespace: 'fsm-system' } } as Resource]]);
  const reads: string[] = [];
  const api = {
    must: async (method: string, path: string) => {
      reads.push(`${method} ${path}`);
      const o = objects.get(path);
      if (!o) throw new NodeApiError(404, 'NotFound', `${path} not found`);
      return o;
    },
  } as unknown as NodeApi;
  const pod = {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'c-1', namespace: 'fsm-system', uid: 'u' },
    spec: {
      containers: [{
        name: 'controller', image: 'tessera/tessera-controller:0.1.0',
        env: [
          { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'token', key: 'token' } } },
          { name: 'AGAIN', valueFrom: { secretKeyRef: { name: 'token', key: 'other' } } },
          { name: 'MAYBE', valueFrom: { configMapKeyRef: { name: 'absent', key: 'k', optional: true } } },
        ],
      }],
    },
  } as Pod;
  const volumes = new PodVolumes(api, pod, join(dir, 'volumes'), () => undefined);
  await volumes.prepare();
  assert.equal(volumes.envObject('Secret', 'token')?.metadata.name, 'token');
  assert.equal(volumes.envObject('ConfigMap', 'absent'), undefined);
  assert.deepEqual(reads, ['GET /api/v1/namespaces/fsm-system/secrets/token', 'GET /api/v1/namespaces/fsm-system/configmaps/absent'], 'each object read once');

  objects.clear();
  await assert.rejects(volumes.prepare(), /secret "token" not found \(named by the env\)/);
  assert.equal(volumes.envObject('Secret', 'token'), undefined, 'not kept from an earlier read');
});
