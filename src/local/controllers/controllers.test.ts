/** Tests of the local controllers: pod naming, scaling, rollouts, injection, cascades, addresses. */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { Deployment, Pod, Service } from '../../api/types.js';
import { openStore, type ResourceStore } from '../store/index.js';
import { deploymentAvailable, isPodReady, startControllers, templateHash } from './index.js';
import { startLifecycleControllers } from '../../kube/controllers/index.js';
import { ResourceRegistry } from '../../kube/registry/index.js';
import { storeBackedStorage } from '../kube/storage.js';
import { deployment, fakeReadyWriter, inProcessInjector, namespace, pods, put, settle, tempStore, waitFor } from './controller-fixtures.js';

const MESH = 'tessera';
const BLOCK = 42;
const A = '[bcdfghjklmnpqrstvwxz2456789]';

/**
 * A temp store with the controllers running on it, stopped after the test. `readyPods`: a stand-in
 * supervisor marks every new pod Running and Ready (watching from before the controllers start).
 */
function runningControllers(t: TestContext, opts: { readyPods?: boolean; lifecycle?: boolean } = {}): ResourceStore {
  const { store } = tempStore(t);
  const unwatch = opts.readyPods ? fakeReadyWriter(store) : undefined;
  const c = startControllers({ store, meshName: MESH, block: BLOCK });
  // The garbage collector and namespace lifecycle run beside the API server in the daemon.
  const lifecycle = opts.lifecycle
    ? startLifecycleControllers({ storage: storeBackedStorage(store), registry: new ResourceRegistry(), log: () => undefined })
    : undefined;
  t.after(() => {
    lifecycle?.stop();
    c.stop();
    unwatch?.();
  });
  return store;
}

test('a Deployment gets Kubernetes-style pods owned by it, each with its own pod IP', async (t) => {
  const store = runningControllers(t);
  put(store, namespace('demo'), deployment('httpbin', 'demo', 3));
  await settle(store);
  const d = store.get({ kind: 'Deployment', namespace: 'demo', name: 'httpbin' }) as Deployment;
  const ps = pods(store, 'demo');
  assert.equal(ps.length, 3);
  const hash = templateHash(d.spec!.template);
  for (const p of ps) {
    assert.match(p.metadata.name, new RegExp(`^httpbin-${A}{10}-${A}{5}$`));
    assert.ok(p.metadata.name.startsWith(`httpbin-${hash}-`));
    assert.equal(p.metadata.labels?.['pod-template-hash'], hash);
    assert.equal(p.metadata.labels?.app, 'httpbin');
    assert.deepEqual(p.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'httpbin', uid: d.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    assert.equal(p.status?.phase, 'Pending');
    assert.equal(p.spec?.serviceAccountName, 'default');
    assert.equal(p.metadata.annotations?.['local.tessera.dev/app-address'], p.status?.podIP, 'no sidecar: the app binds the pod IP');
    assert.equal(p.spec?.containers.length, 1);
  }
  assert.deepEqual(ps.map((p) => p.status?.podIP).sort(), ['127.42.1.1', '127.42.1.2', '127.42.1.3']);
  assert.deepEqual({ ...d.status, conditions: undefined }, {
    observedGeneration: 1, replicas: 3, updatedReplicas: 3, readyReplicas: 0, availableReplicas: 0, conditions: undefined,
  });
  assert.equal(deploymentAvailable(d), false);
  assert.equal(store.get({ kind: 'Namespace', name: 'demo' })?.status && (store.get({ kind: 'Namespace', name: 'demo' })!.status as { phase: string }).phase, 'Active');
  assert.ok(store.get({ kind: 'Namespace', name: 'default' }), 'the default namespace exists');
});

test('the template hash is stable and ignores key order', () => {
  const a = deployment('x', 'n', 1).spec!.template;
  const b = { spec: a.spec, metadata: { annotations: undefined, labels: { app: 'x' } } };
  assert.equal(templateHash(a), templateHash(b));
  assert.match(templateHash(a), new RegExp(`^${A}{10}$`));
  assert.notEqual(templateHash(a), templateHash({ ...a, spec: { containers: [{ name: 'x', image: 'other' }] } }));
});

test('scaling up and down follows spec.replicas; status reports ready pods', async (t) => {
  const store = runningControllers(t, { readyPods: true });
  put(store, namespace('demo'), deployment('web', 'demo', 2));
  await settle(store);
  assert.equal(pods(store, 'demo').length, 2);
  let d = store.get({ kind: 'Deployment', namespace: 'demo', name: 'web' }) as Deployment;
  assert.equal(d.status?.readyReplicas, 2);
  assert.equal(deploymentAvailable(d), true);

  put(store, deployment('web', 'demo', 4));
  await settle(store);
  assert.equal(pods(store, 'demo').length, 4);
  put(store, deployment('web', 'demo', 1));
  await settle(store);
  assert.equal(pods(store, 'demo').length, 1);
  d = store.get({ kind: 'Deployment', namespace: 'demo', name: 'web' }) as Deployment;
  assert.equal(d.status?.replicas, 1);
  assert.equal(d.status?.observedGeneration, 3);
});

test('a rollout restart replaces pods one at a time without losing Ready capacity', async (t) => {
  const store = runningControllers(t, { readyPods: true });
  put(store, namespace('demo'), deployment('web', 'demo', 2));
  await settle(store);
  const before = pods(store, 'demo').map((p) => p.metadata.name);

  let minReady = Infinity;
  let maxPods = 0;
  const stopCounting = store.watch(() => {
    const ps = pods(store, 'demo');
    minReady = Math.min(minReady, ps.filter(isPodReady).length);
    maxPods = Math.max(maxPods, ps.length);
  });
  const d = store.get({ kind: 'Deployment', namespace: 'demo', name: 'web' }) as Deployment;
  d.spec!.template.metadata!.annotations = { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() };
  put(store, d);
  await settle(store);
  stopCounting();

  const after = pods(store, 'demo');
  assert.equal(after.length, 2);
  assert.ok(after.every((p) => !before.includes(p.metadata.name)), 'every pod was replaced');
  assert.ok(after.every((p) => p.metadata.labels?.['pod-template-hash'] === templateHash(d.spec!.template)));
  assert.equal(minReady, 2, 'never fewer Ready pods than replicas');
  assert.equal(maxPods, 3, 'at most one extra pod during the rollout');
  assert.equal(deploymentAvailable(store.get({ kind: 'Deployment', namespace: 'demo', name: 'web' }) as Deployment), true);
});

test('a rollout waits while the new pod is not Ready', async (t) => {
  const store = runningControllers(t);
  put(store, namespace('demo'), deployment('web', 'demo', 1));
  await settle(store);
  const [old] = pods(store, 'demo');
  store.updateStatus({ kind: 'Pod', namespace: 'demo', name: old!.metadata.name }, { ...old!.status, conditions: [{ type: 'Ready', status: 'True' }] });
  put(store, deployment('web', 'demo', 1, { 'kubectl.kubernetes.io/restartedAt': 'now' }));
  await settle(store);
  const ps = pods(store, 'demo');
  assert.equal(ps.length, 2);
  assert.ok(ps.some((p) => p.metadata.name === old!.metadata.name), 'the old Ready pod stays until its replacement is Ready');
});

test('sidecar injection follows FSM rules (through the injector webhook)', async (t) => {
  const { store } = tempStore(t);
  const injector = await inProcessInjector(t, MESH);
  const c = startControllers({ store, meshName: MESH, block: BLOCK, injector });
  t.after(() => c.stop());
  const monitored = { 'flomesh.io/monitored-by': MESH };
  const enabled = { 'flomesh.io/sidecar-injection': 'enabled' };
  put(store,
    namespace('meshed', monitored, enabled),
    namespace('yes', monitored, { 'flomesh.io/sidecar-injection': 'Yes' }),
    namespace('label-only', monitored),
    namespace('other-mesh', { 'flomesh.io/monitored-by': 'other' }, enabled),
    namespace('plain'),
    namespace(`${MESH}-system`, monitored, enabled),
    namespace('ignored', { ...monitored, 'flomesh.io/ignore': 'true' }, enabled));
  put(store,
    deployment('a', 'meshed', 1),
    deployment('optout', 'meshed', 1, { 'flomesh.io/sidecar-injection': 'disabled' }),
    deployment('b', 'yes', 1),
    deployment('c', 'label-only', 1),
    deployment('optin', 'label-only', 1, { 'flomesh.io/sidecar-injection': 'enabled' }),
    deployment('d', 'other-mesh', 1),
    deployment('e', 'plain', 1),
    deployment('f', `${MESH}-system`, 1),
    deployment('g', 'ignored', 1));
  await waitFor('every deployment has its pod', () => store.list('Pod').length === 9);
  await settle(store);
  const injected = (store.list('Pod') as Pod[])
    .filter((p) => p.spec!.containers.some((x) => x.name === 'sidecar'))
    .map((p) => p.metadata.labels!.app)
    .sort();
  assert.deepEqual(injected, ['a', 'b', 'optin']);
  for (const p of store.list('Pod') as Pod[]) {
    const sidecar = p.spec!.containers.find((x) => x.name === 'sidecar');
    const uuid = p.metadata.labels?.['fsm-proxy-uuid'];
    if (sidecar) {
      assert.equal(sidecar.image, 'tessera/sidecar');
      assert.equal(p.spec!.containers.at(-1)!.name, 'sidecar', 'appended after the app');
      assert.match(uuid!, /^[0-9a-f-]{36}$/);
      const [, b, row, q] = p.status!.podIP!.split('.').map(Number);
      assert.equal(p.metadata.annotations?.['local.tessera.dev/app-address'], `127.${b}.${row! + 64}.${q}`);
    } else {
      assert.equal(uuid, undefined);
    }
  }
});

test('deleting a Deployment deletes its pods; deleting a Namespace deletes everything in it', async (t) => {
  const store = runningControllers(t, { lifecycle: true });
  put(store, namespace('demo'), namespace('keep'), deployment('a', 'demo', 2), deployment('b', 'demo', 1), deployment('k', 'keep', 1));
  put(store, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'a', namespace: 'demo' }, spec: { selector: { app: 'a' }, ports: [{ port: 80 }] } });
  put(store, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'demo' }, data: {} });
  await settle(store);
  assert.equal(pods(store, 'demo').length, 3);

  store.transact([{ op: 'delete', key: { kind: 'Deployment', namespace: 'demo', name: 'a' } }]);
  await settle(store);
  assert.deepEqual(pods(store, 'demo').map((p) => p.metadata.labels!.app), ['b']);

  const deletedKinds: string[] = [];
  store.watch((e) => { if (e.type === 'DELETED') deletedKinds.push(e.object.kind); });
  // What a DELETE through the API does to a namespace: mark it; the namespace controller empties it.
  const ns = store.get({ kind: 'Namespace', name: 'demo' })!;
  store.transact([{ op: 'put', object: { ...ns, metadata: { ...ns.metadata, deletionTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z') } } }]);
  await waitFor('the namespace is emptied and gone', () => store.get({ kind: 'Namespace', name: 'demo' }) === undefined);
  for (const kind of ['Deployment', 'Service', 'ConfigMap', 'Pod']) assert.equal(store.list(kind, 'demo').length, 0, kind);
  assert.deepEqual(deletedKinds.slice(-2), ['Pod', 'Namespace'], 'pods go last, then the emptied namespace');
  assert.equal(pods(store, 'keep').length, 1, 'other namespaces are untouched');
});

test('services get stable cluster IPs and type ClusterIP; headless services stay headless', async (t) => {
  const store = runningControllers(t);
  const svc = (name: string, clusterIP?: string): Service => ({
    apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { ports: [{ port: 80 }], clusterIP },
  });
  put(store, svc('one'), svc('two'), svc('headless', 'None'));
  await settle(store);
  const ip = (n: string) => (store.get({ kind: 'Service', namespace: 'default', name: n }) as Service).spec;
  assert.deepEqual(ip('one'), { ports: [{ port: 80 }], clusterIP: '127.42.128.1', type: 'ClusterIP' });
  assert.equal(ip('two')!.clusterIP, '127.42.128.2');
  assert.equal(ip('headless')!.clusterIP, 'None');
  store.transact([{ op: 'delete', key: { kind: 'Service', namespace: 'default', name: 'one' } }]);
  put(store, svc('three'));
  await settle(store);
  assert.equal(ip('three')!.clusterIP, '127.42.128.1', 'lowest free');
  assert.equal(ip('two')!.clusterIP, '127.42.128.2', 'others keep theirs');
});

test('pod IPs survive a daemon restart and a status writer that drops podIP; freed IPs are reused lowest first', async (t) => {
  const { store, dir } = tempStore(t);
  let c = startControllers({ store, meshName: MESH, block: BLOCK });
  put(store, namespace('demo'), deployment('web', 'demo', 3));
  await settle(store);
  c.stop();
  const before = new Map(pods(store, 'demo').map((p) => [p.metadata.name, p.status!.podIP]));

  const reopened = openStore(dir);
  // A status writer that replaced the whole status and forgot podIP: the annotation still pins it.
  const victim = pods(reopened, 'demo').find((p) => p.status!.podIP === '127.42.1.3')!;
  reopened.updateStatus({ kind: 'Pod', namespace: 'demo', name: victim.metadata.name }, { phase: 'Running' });
  c = startControllers({ store: reopened, meshName: MESH, block: BLOCK });
  t.after(() => c.stop());
  await settle(reopened);
  assert.deepEqual(new Map(pods(reopened, 'demo').map((p) => [p.metadata.name, p.status!.podIP ?? before.get(p.metadata.name)])), before);

  const first = pods(reopened, 'demo').find((p) => p.status!.podIP === '127.42.1.1')!;
  reopened.transact([{ op: 'delete', key: { kind: 'Pod', namespace: 'demo', name: first.metadata.name } }]);
  put(reopened, deployment('web', 'demo', 4));
  await settle(reopened);
  const ips = pods(reopened, 'demo').map((p) => p.status!.podIP).filter(Boolean).sort();
  assert.deepEqual(ips, ['127.42.1.1', '127.42.1.2', '127.42.1.4'], 'the replacement took .1, the new one .4, .3 stays reserved');
  assert.equal(pods(reopened, 'demo').length, 4);
});

test('Endpoints and EndpointSlices follow the pods a Service selects, and go with the Service', async (t) => {
  const store = runningControllers(t, { readyPods: true });
  put(store, namespace('demo'), deployment('web', 'demo', 2));
  put(store, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'demo' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } });
  await waitFor('two ready addresses', () => {
    const ep = store.get({ kind: 'Endpoints', namespace: 'demo', name: 'web' }) as unknown as { subsets?: { addresses?: unknown[] }[] } | undefined;
    return (ep?.subsets?.[0]?.addresses?.length ?? 0) === 2;
  });
  const ep = store.get({ kind: 'Endpoints', namespace: 'demo', name: 'web' }) as unknown as { subsets: { addresses: { ip: string; targetRef: { kind: string } }[]; ports: unknown[] }[] };
  const podIPs = pods(store, 'demo').map((p) => p.status!.podIP).sort();
  assert.deepEqual(ep.subsets[0]!.addresses.map((a) => a.ip).sort(), podIPs);
  assert.equal(ep.subsets[0]!.addresses[0]!.targetRef.kind, 'Pod');
  assert.deepEqual(ep.subsets[0]!.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
  const slices = store.list('EndpointSlice', 'demo', 'discovery.k8s.io') as unknown as { metadata: { labels: Record<string, string>; ownerReferences: { kind: string }[] }; endpoints: { addresses: string[]; conditions: { ready: boolean } }[] }[];
  assert.equal(slices.length, 1);
  assert.equal(slices[0]!.metadata.labels['kubernetes.io/service-name'], 'web');
  assert.equal(slices[0]!.metadata.ownerReferences[0]!.kind, 'Service');
  assert.deepEqual(slices[0]!.endpoints.map((e) => e.addresses[0]).sort(), podIPs);
  assert.ok(slices[0]!.endpoints.every((e) => e.conditions.ready));

  store.transact([{ op: 'delete', key: { kind: 'Service', namespace: 'demo', name: 'web' } }]);
  await waitFor('endpoints gone with the service', () =>
    store.get({ kind: 'Endpoints', namespace: 'demo', name: 'web' }) === undefined && store.list('EndpointSlice', 'demo', 'discovery.k8s.io').length === 0);
});
