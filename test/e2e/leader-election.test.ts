/**
 * Leader election (issue #14 item 3): two controller processes on the reference cluster (the real
 * kube-apiserver v1.37.2), started as test/e2e/kube-mode.test.ts starts one — on the host, with the
 * `<mesh>-controller` ServiceAccount's token. Exactly one holds the Lease `<mesh>-controller` in
 * `<mesh>-system`, and only it writes: with the CA bundle Secret deleted, the leader creates it and
 * the other loads it. The leader killed by PID (SIGKILL: nothing released), the other takes over
 * within about 20 s (leaseTransitions + 1); SIGTERM releases the Lease. Then local mode: the
 * controller `tessera up` runs holds the Lease of the embedded API.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Secret } from '../../src/api/types.js';
import type { Lease } from '../../src/control-plane/leader.js';
import { freePort } from '../../src/lib/test-processes.js';
import {
  CLI, CONTROLLER_MAIN, controllerEnv, HostProcesses, kubectlJson, kubectlOn, ok, secretText, stopHostProcess as stop, tesseraOn, waitFor,
  type HostProcess,
} from '../support/kube-mode.js';
import { referenceBinaries, startReferenceCluster, type ReferenceCluster } from '../support/kube-reference.js';
import { kubeApiOf } from '../support/kubectl.js';
import { run, type RunResult } from '../support/mesh.js';

const bins = referenceBinaries();
const skip = 'skip' in bins ? bins.skip : false;
const MESH = 'tessera';
const NS = `${MESH}-system`;
const WAIT_MS = 60_000;

describe('leader election of two controllers on the reference cluster', { skip }, () => {
  let cluster: ReferenceCluster;
  const children = new HostProcesses();

  const kubectl = (args: string[], input?: string): Promise<RunResult> => kubectlOn(cluster, args, input);
  const json = <T>(args: string[]): Promise<T> => kubectlJson<T>(cluster, args);
  const lease = async (): Promise<Lease | undefined> => {
    const r = await kubectl(['get', 'lease', `${MESH}-controller`, '-n', NS, '-o', 'json']);
    return r.code === 0 ? (JSON.parse(r.stdout) as Lease) : undefined;
  };

  const spawnController = (name: string, env: NodeJS.ProcessEnv): HostProcess =>
    children.start(name, [CONTROLLER_MAIN], { env: { ...env, POD_NAME: name } });
  const logs = (): string => children.all.map((c) => `--- ${c.name}\n${c.output()}`).join('\n');

  before(async () => {
    cluster = await startReferenceCluster();
  });
  after(async () => {
    await children.stopAll();
    await cluster?.stop();
  });

  test('one leader writes, the other serves; the leader killed, the other takes over; SIGTERM releases', async () => {
    ok(await tesseraOn(cluster, ['install', '--timeout', '2m']), 'tessera install');
    // The controller's Role lets it use Leases in its namespace (and nowhere else).
    const can = async (args: string[]): Promise<string> => (await kubectl(['auth', 'can-i', ...args, `--as=system:serviceaccount:${NS}:${MESH}-controller`])).stdout.trim();
    for (const verb of ['get', 'create', 'update']) assert.equal(await can([verb, 'leases.coordination.k8s.io', '-n', NS]), 'yes', verb);
    assert.equal(await can(['update', 'leases.coordination.k8s.io', '-n', 'default']), 'no');

    const token = ok(await kubectl(['create', 'token', `${MESH}-controller`, '-n', NS, '--duration=1h']), 'create token').trim();
    const meshKey = await secretText(cluster, NS, `${MESH}-mesh-key`, 'mesh-key');
    // Without the CA bundle Secret, someone must create it: only the leader may.
    ok(await kubectl(['delete', 'secret', `${MESH}-ca-bundle`, '-n', NS]), 'delete the CA bundle Secret');
    const env = async (name: string): Promise<NodeJS.ProcessEnv> =>
      controllerEnv(cluster, { mesh: MESH, token, port: await freePort(), meshKey, stateDir: join(cluster.dir, `${name}-state`) });
    const a = spawnController('controller-a', await env('controller-a'));
    const b = spawnController('controller-b', await env('controller-b'));

    const held = await waitFor('the Lease to name a holder', async () => {
      const l = await lease();
      return l?.spec?.holderIdentity ? l : undefined;
    }, WAIT_MS, logs);
    assert.equal(held.spec!.leaseDurationSeconds, 15);
    assert.match(held.spec!.renewTime!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/, 'renewTime is a MicroTime');
    const [leader, follower] = held.spec!.holderIdentity!.startsWith('controller-a_') ? [a, b] : [b, a];
    assert.match(held.spec!.holderIdentity!, new RegExp(`^${leader.name}_[0-9a-f]+$`), 'holderIdentity = pod name + random suffix');

    // Both load the CA and sync; the leader created it, the follower waited for it and loaded it.
    for (const c of [leader, follower]) {
      await waitFor(`${c.name} to sync and hold the CA`, async () => /resources synced/.test(c.output()) && /the mesh root CA/.test(c.output()), WAIT_MS, logs);
    }
    assert.match(leader.output(), /created the mesh root CA/);
    assert.match(leader.output(), /became the leader/);
    assert.doesNotMatch(follower.output(), /created the mesh root CA/, 'the follower never creates the CA');
    assert.match(follower.output(), /loaded the mesh root CA/);
    assert.doesNotMatch(follower.output(), /became the leader/);
    const caSecret = await json<Secret>(['get', 'secret', '-n', NS, `${MESH}-ca-bundle`]);
    assert.ok(caSecret.data?.['ca.crt'], 'the CA bundle Secret exists again');
    ok(await kubectl(['get', 'configmap', `${MESH}-ca-trust-bundle`, '-n', NS]), 'the trust bundle ConfigMap written by the leader');

    // It renews: renewTime moves, the holder stays.
    const first = Date.parse(held.spec!.renewTime!);
    const renewed = await waitFor('a renewal', async () => {
      const l = await lease();
      return l && Date.parse(l.spec!.renewTime!) > first ? l : undefined;
    }, 20_000, logs);
    assert.equal(renewed.spec!.holderIdentity, held.spec!.holderIdentity);
    const transitions = renewed.spec!.leaseTransitions ?? 0;

    // The leader killed by PID: nothing released; the follower takes over once the Lease expires.
    process.kill(leader.proc.pid!, 'SIGKILL');
    await leader.exited;
    const killedAt = Date.now();
    const taken = await waitFor('the follower to take the Lease over', async () => {
      const l = await lease();
      return l?.spec?.holderIdentity?.startsWith(`${follower.name}_`) ? l : undefined;
    }, 40_000, logs);
    const elapsed = Date.now() - killedAt;
    assert.ok(elapsed <= 22_000, `taken over ${elapsed} ms after the kill`);
    assert.equal(taken.spec!.leaseTransitions, transitions + 1, 'leaseTransitions incremented');
    await waitFor('the follower to say it leads', async () => /became the leader/.test(follower.output()), 10_000, logs);
    assert.match(follower.output(), /took the leader election Lease over/);

    // SIGTERM: the new leader releases the Lease on its way out.
    await stop(follower);
    const released = await lease();
    assert.equal(released?.spec?.holderIdentity, undefined, `released: ${JSON.stringify(released?.spec)}\n${follower.output()}`);
    assert.match(follower.output(), /released the leader election Lease/);
  });
});

describe('leader election in local mode', () => {
  let stateDir = '';
  const tessera = (args: string[], timeoutMs = 90_000): Promise<RunResult> =>
    run(process.execPath, [CLI, ...args], { timeoutMs, env: { ...process.env, TESSERA_HOME: stateDir, KUBECONFIG: join(stateDir, 'kubeconfig'), HOME: join(stateDir, 'home') } });

  before(() => {
    stateDir = mkdtempSync(join(tmpdir(), 'tessera-e2e-lease-'));
  });
  after(async () => {
    await tessera(['down'], 60_000).catch(() => undefined);
    rmSync(stateDir, { recursive: true, force: true });
  });

  test('`tessera up`\'s controller holds and renews the Lease of the embedded API', async () => {
    ok(await tessera(['up', '--mesh-name', 'lead', '--detach']), 'tessera up');
    // `tessera get` knows the mesh's kinds only: the Lease is read over the API, with `up`'s kubeconfig.
    const kube = kubeApiOf(join(stateDir, 'kubeconfig'));
    const get = async (): Promise<Lease | undefined> => {
      const r = await kube.request('GET', '/apis/coordination.k8s.io/v1/namespaces/lead-system/leases/lead-controller');
      return r.status === 200 ? (r.json as Lease) : undefined;
    };
    const held = await waitFor('the controller to hold the Lease', async () => {
      const l = await get();
      return l?.spec?.holderIdentity ? l : undefined;
    }, WAIT_MS);
    assert.equal(held.apiVersion, 'coordination.k8s.io/v1');
    assert.equal(held.spec!.leaseDurationSeconds, 15);
    const renewed = await waitFor('a renewal', async () => {
      const l = await get();
      return l && l.spec!.renewTime !== held.spec!.renewTime ? l : undefined;
    }, 20_000);
    assert.equal(renewed.spec!.holderIdentity, held.spec!.holderIdentity);
    // and the writes it gates happened: the CA bundle Secret exists (the controller created it)
    assert.equal((await kube.request('GET', '/api/v1/namespaces/lead-system/secrets/lead-ca-bundle')).status, 200, 'the CA bundle Secret');
  });
});
