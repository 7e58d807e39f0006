/**
 * Pod creation through the injector webhook, failurePolicy Fail: while the injector is unreachable
 * no meshed pod is created (and the Deployment says why), other pods are; once a real injector
 * process answers, the meshed pod follows.
 */
import { freePort, stopChildren } from '../../lib/test-processes.js';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Deployment, Pod } from '../../api/types.js';
import { INJECTOR_ENV } from '../layout.js';
import { deployment, inProcessInjector, namespace, pods, put, tempStore, waitFor } from './controller-fixtures.js';
import { httpInjectorClient, startControllers, type LocalDeploymentStatus } from './index.js';

const MESH = 'tessera';
const BLOCK = 43;
const TOKEN = 'webhook-test-token';
const INJECTOR_MAIN = fileURLToPath(new URL('../../injector/main.js', import.meta.url));
const monitored = { 'flomesh.io/monitored-by': MESH };
const enabled = { 'flomesh.io/sidecar-injection': 'enabled' };

const children: ChildProcess[] = [];
after(() => stopChildren(children));


function replicaFailure(d: Deployment | undefined): string | undefined {
  const c = (d?.status as LocalDeploymentStatus | undefined)?.conditions?.find((x) => x.type === 'ReplicaFailure');
  return c?.status === 'True' ? `${c.reason}: ${c.message}` : undefined;
}

test('meshed pods wait for the injector; unmeshed and control-plane pods do not', async (t) => {
  const { store } = tempStore(t);
  const port = await freePort();
  const injector = httpInjectorClient({ baseUrl: `http://127.0.0.1:${port}`, token: TOKEN });
  const c = startControllers({ store, meshName: MESH, block: BLOCK, injector, log: () => {} });
  t.after(() => { c.stop(); injector.close(); });

  put(store, namespace('meshed', monitored, enabled), namespace('plain'), namespace(`${MESH}-system`, monitored, enabled));
  put(store, deployment('web', 'meshed', 1), deployment('app', 'plain', 1), deployment(`${MESH}-injector`, `${MESH}-system`, 1));
  const web = () => store.get({ kind: 'Deployment', namespace: 'meshed', name: 'web' }) as Deployment | undefined;

  await waitFor('the refusal is recorded', () => replicaFailure(web()) !== undefined);
  assert.match(replicaFailure(web())!, new RegExp(`^FailedCreate: Internal error occurred: failed calling webhook "${MESH}-injector.${MESH}-system": Post "http://127.0.0.1:${port}/mutate-pod-creation": .*ECONNREFUSED`));
  assert.equal(pods(store, 'meshed').length, 0, 'no meshed pod without the webhook');
  assert.equal(pods(store, 'plain').length, 1, 'unmonitored namespaces do not call the webhook');
  assert.equal(pods(store, `${MESH}-system`).length, 1, 'the control plane namespace does not call the webhook');
  // Retries back off: the store is not rewritten on every attempt.
  const revision = store.revision;
  await new Promise((r) => setTimeout(r, 1200));
  assert.equal(pods(store, 'meshed').length, 0);
  assert.ok(store.revision - revision <= 2, `store revisions during backoff: ${store.revision - revision}`);

  const child = spawn(process.execPath, [INJECTOR_MAIN], {
    env: { ...process.env, [INJECTOR_ENV.apiToken]: TOKEN, [INJECTOR_ENV.meshName]: MESH, [INJECTOR_ENV.listen]: `127.0.0.1:${port}` },
    stdio: 'ignore',
  });
  children.push(child);
  await waitFor('the meshed pod is created', () => pods(store, 'meshed').length === 1, 15_000);
  const [pod] = pods(store, 'meshed') as [Pod];
  assert.deepEqual(pod.spec!.containers.map((x) => x.name), ['web', 'sidecar']);
  assert.ok(pod.metadata.labels?.['fsm-proxy-uuid']);
  const [, , row, q] = pod.status!.podIP!.split('.').map(Number);
  assert.equal(pod.metadata.annotations?.['local.tessera.dev/app-address'], `127.${BLOCK}.${row! + 64}.${q}`);
  assert.equal(pod.metadata.ownerReferences?.[0]?.uid, web()!.metadata.uid);
  await waitFor('the condition clears', () => replicaFailure(web()) === undefined);

  const ips = (store.list('Pod') as Pod[]).map((p) => p.status!.podIP);
  assert.equal(new Set(ips).size, ips.length, 'addresses stay unique across delayed creations');
});

test('a pod the webhook denies is not created, and the Deployment says why', async (t) => {
  const { store } = tempStore(t);
  const injector = await inProcessInjector(t, MESH);
  const c = startControllers({ store, meshName: MESH, block: BLOCK, injector, log: () => {} });
  t.after(() => c.stop());
  put(store, namespace('meshed', monitored, enabled), deployment('odd', 'meshed', 1, { 'flomesh.io/sidecar-injection': 'maybe' }));
  const odd = () => store.get({ kind: 'Deployment', namespace: 'meshed', name: 'odd' }) as Deployment | undefined;
  await waitFor('the denial is recorded', () => replicaFailure(odd()) !== undefined);
  assert.match(replicaFailure(odd())!, /^FailedCreate: admission webhook "tessera-injector.tessera-system" denied the request: invalid annotation value .* maybe$/);
  assert.equal(pods(store, 'meshed').length, 0);
});
