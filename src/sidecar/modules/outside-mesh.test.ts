/**
 * Destinations no mesh service's rule names, as the outbound HTTP and TCP routing modules resolve
 * them: a Service outside the mesh by name or by its cluster IP (what an intercepted app dialed),
 * an external address only with egress on, and an unknown cluster name never.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Resource } from '../../api/types.js';
import { buildCatalog, compileProxySnapshot } from '../../snapshot/index.js';
import { input, meshConfig, meshedNamespace, namespace, pod, service } from '../../snapshot/testdata/builders.js';
import { buildTables } from '../routing/tables.js';
import type { ModuleEnv } from './env.js';
import { outsideMeshCluster } from './outside-mesh.js';

function envFor(enableEgress: boolean): ModuleEnv {
  const world: Resource[] = [
    meshConfig({ traffic: { enableEgress } }),
    meshedNamespace('app'),
    namespace('legacy'),
    pod('app', 'client', { labels: { app: 'client' }, ip: '10.0.0.1' }),
    pod('legacy', 'db-1', { labels: { app: 'db' }, ip: '10.0.9.1' }),
    service('legacy', 'db', [{ name: 'tcp', port: 5432, targetPort: 15432 }], { app: 'db' }, '10.96.7.7'),
  ];
  const snapshot = compileProxySnapshot(buildCatalog(input(world)), { namespace: 'app', name: 'client' });
  assert.ok(snapshot);
  return { snapshot, tables: buildTables(snapshot), namespaces: new Set(['app', 'legacy']), mtls: true } as unknown as ModuleEnv;
}

test("a Service outside the mesh by its cluster IP reaches the Service's endpoints, egress on or off", () => {
  for (const egress of [true, false]) {
    assert.deepEqual(outsideMeshCluster(envFor(egress), '10.96.7.7', 5432), {
      name: 'db.legacy.svc.cluster.local|5432', endpoints: ['10.0.9.1:15432'], egress: true,
    });
    // the same Service by name, as before
    assert.deepEqual(outsideMeshCluster(envFor(egress), 'db.legacy', 5432), outsideMeshCluster(envFor(egress), '10.96.7.7', 5432));
  }
});

test('another address passes through to itself only with egress on', () => {
  assert.deepEqual(outsideMeshCluster(envFor(true), '203.0.113.9', 5432), { name: 'egress|203.0.113.9:5432', endpoints: ['203.0.113.9:5432'], egress: true });
  assert.deepEqual(outsideMeshCluster(envFor(true), '2001:db8::9', 443), { name: 'egress|2001:db8::9:443', endpoints: ['[2001:db8::9]:443'], egress: true });
  assert.equal(outsideMeshCluster(envFor(false), '203.0.113.9', 5432), 'denied');
  // the cluster IP on a port the Service does not have is just an address
  assert.equal(outsideMeshCluster(envFor(false), '10.96.7.7', 80), 'denied');
});

test('a name cluster DNS would own but does not know is a miss, egress or not', () => {
  for (const egress of [true, false]) {
    assert.equal(outsideMeshCluster(envFor(egress), 'dbx.legacy', 5432), 'unknown-host');
    assert.equal(outsideMeshCluster(envFor(egress), 'db.legacy.svc.cluster.local', 80), 'unknown-host');
  }
  // an external name goes out as it is, with egress on
  assert.deepEqual(outsideMeshCluster(envFor(true), 'example.com', 443), { name: 'egress|example.com:443', endpoints: ['example.com:443'], egress: true });
});
