/**
 * The elector against the embedded API server (the generic server as `tessera up` serves it): the
 * coordination.k8s.io/v1 Lease is a built-in type there, a stale resourceVersion is a 409 Conflict,
 * and two electors (short durations, the real clock) agree on one leader, hand over when the leader
 * dies, and release on stop.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testKubeApi } from '../kube/apiserver/test-server.js';
import { KubeMeshApi } from '../local/client/index.js';
import { ApiTransport } from '../local/api-transport.js';
import { isMeshError } from '../lib/errors.js';
import { startLeaderElection, type Lease, type LeaseApi } from './leader.js';

const PATH = '/apis/coordination.k8s.io/v1/namespaces/demo/leases';
const FAST = { leaseDurationMs: 1500, renewDeadlineMs: 1000, renewPeriodMs: 300, retryPeriodMs: 200 };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, fn: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

test('the embedded API serves coordination.k8s.io/v1 Lease: discovery, create, and 409 on a stale resourceVersion', async (t) => {
  const send = await testKubeApi(t);
  const discovery = await send('GET', '/apis/coordination.k8s.io/v1');
  assert.equal(discovery.status, 200);
  assert.ok(discovery.body.resources.some((r: { name: string; kind: string; namespaced: boolean }) => r.name === 'leases' && r.kind === 'Lease' && r.namespaced));
  const created = await send('POST', PATH, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l' }, spec: { holderIdentity: 'a', leaseDurationSeconds: 15, renewTime: '2030-01-01T00:00:00.000000Z' } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const rv = created.body.metadata.resourceVersion as string;
  const renewed = await send('PUT', `${PATH}/l`, { ...created.body, spec: { ...created.body.spec, renewTime: '2030-01-01T00:00:05.000000Z' } });
  assert.equal(renewed.status, 200, JSON.stringify(renewed.body));
  const stale = await send('PUT', `${PATH}/l`, { ...created.body, metadata: { ...created.body.metadata, resourceVersion: rv }, spec: { holderIdentity: 'b' } });
  assert.equal(stale.status, 409);
  assert.equal(stale.body.reason, 'Conflict');
  assert.equal((await send('POST', PATH, created.body)).status, 409, 'a second create: AlreadyExists');
});

test('two electors through KubeMeshApi: one leader; the other takes over when it dies; release on stop', async (t) => {
  const send = await testKubeApi(t);
  const kube = new KubeMeshApi({ baseUrl: `http://127.0.0.1:${send.port}`, transport: new ApiTransport('') });
  let aDead = false;
  // a "killed" replica: its requests never arrive
  const aApi: LeaseApi = { request: (m, p, o) => (aDead ? new Promise(() => undefined) : kube.request(m, p, o)) };
  const elector = (api: LeaseApi, identity: string) => startLeaderElection({ api, namespace: 'demo', name: 'mesh-controller', identity, ...FAST });
  const a = elector(aApi, 'a');
  await until('a to lead', () => a.isLeader());
  const b = elector(kube, 'b');
  await sleep(1000);
  assert.ok(a.isLeader());
  assert.ok(!b.isLeader());
  assert.equal(b.observedLeader(), 'a');

  aDead = true;
  const killed = Date.now();
  await until('b to take over', () => b.isLeader());
  assert.ok(!a.canWrite(), 'a stepped down at its renew deadline');
  const elapsed = Date.now() - killed;
  assert.ok(elapsed < FAST.leaseDurationMs + FAST.renewPeriodMs + 2 * FAST.retryPeriodMs + 500, `took over in ${elapsed} ms`);
  const lease = await kube.request<Lease>('GET', `${PATH}/mesh-controller`);
  assert.equal(lease.spec?.holderIdentity, 'b');
  assert.equal(lease.spec?.leaseTransitions, 1);
  assert.match(lease.spec!.renewTime!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);

  await b.stop();
  const released = await kube.request<Lease>('GET', `${PATH}/mesh-controller`);
  assert.equal(released.spec?.holderIdentity, undefined);
  assert.equal(released.spec?.leaseTransitions, 1);
  void a.stop();
  await kube.request('DELETE', `${PATH}/mesh-controller`).catch((e) => assert.ok(isMeshError(e)));
});
