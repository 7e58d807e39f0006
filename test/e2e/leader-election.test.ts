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
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Secret } from '../../src/api/types.js';
import type { Lease } from '../../src/control-plane/leader.js';
import { freePort } from '../../src/lib/test-processes.js';
import { CONTROLLER_ENV } from '../../src/local/layout.js';
import { referenceBinaries, startReferenceCluster, type ReferenceCluster } from '../support/kube-reference.js';
import { kubeApiOf } from '../support/kubectl.js';
import { run, type RunResult } from '../support/mesh.js';

const bins = referenceBinaries();
const skip = 'skip' in bins ? bins.skip : false;
const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const CONTROLLER_MAIN = fileURLToPath(new URL('../../src/control-plane/main.js', import.meta.url));
const MESH = 'tessera';
const NS = `${MESH}-system`;
const WAIT_MS = 60_000;

function ok(r: RunResult, what: string): string {
  assert.equal(r.code, 0, `${what} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, ms = WAIT_MS, detail?: () => string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}${detail ? `\n${detail()}` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

interface Child {
  name: string;
  proc: ChildProcess;
  output: () => string;
  exited: Promise<void>;
}

describe('leader election of two controllers on the reference cluster', { skip }, () => {
  let cluster: ReferenceCluster;
  const children: Child[] = [];

  const kubectl = (args: string[], input?: string): Promise<RunResult> => cluster.kubectl(args, { timeoutMs: 60_000, ...(input !== undefined ? { input } : {}) });
  const json = async <T>(args: string[]): Promise<T> => JSON.parse(ok(await kubectl([...args, '-o', 'json']), `kubectl ${args.join(' ')}`)) as T;
  const lease = async (): Promise<Lease | undefined> => {
    const r = await kubectl(['get', 'lease', `${MESH}-controller`, '-n', NS, '-o', 'json']);
    return r.code === 0 ? (JSON.parse(r.stdout) as Lease) : undefined;
  };

  const spawnController = (name: string, env: NodeJS.ProcessEnv): Child => {
    const proc = spawn(process.execPath, [CONTROLLER_MAIN], { env: { ...process.env, ...env, POD_NAME: name }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    proc.stderr!.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<void>((r) => {
      if (proc.exitCode !== null || proc.signalCode !== null) r();
      proc.once('exit', () => r());
    });
    const child = { name, proc, output: () => out, exited };
    children.push(child);
    return child;
  };
  const running = (c: Child): boolean => c.proc.exitCode === null && c.proc.signalCode === null && c.proc.pid !== undefined;
  /** SIGTERM by PID (SIGKILL after 5 s); resolves once it exited. */
  const stop = async (c: Child): Promise<void> => {
    if (!running(c)) return;
    process.kill(c.proc.pid!, 'SIGTERM');
    const killer = setTimeout(() => running(c) && process.kill(c.proc.pid!, 'SIGKILL'), 5000);
    await c.exited;
    clearTimeout(killer);
  };
  const logs = (): string => children.map((c) => `--- ${c.name}\n${c.output()}`).join('\n');

  before(async () => {
    cluster = await startReferenceCluster();
  });
  after(async () => {
    for (const c of children) await stop(c).catch(() => undefined);
    await cluster?.stop();
  });

  test('one leader writes, the other serves; the leader killed, the other takes over; SIGTERM releases', async () => {
    ok(await run(process.execPath, [CLI, 'install', '--timeout', '2m', '--kubeconfig', cluster.kubeconfig], { timeoutMs: 180_000, env: { ...process.env, KUBECONFIG: cluster.kubeconfig } }), 'tessera install');
    // The controller's Role lets it use Leases in its namespace (and nowhere else).
    const can = async (args: string[]): Promise<string> => (await kubectl(['auth', 'can-i', ...args, `--as=system:serviceaccount:${NS}:${MESH}-controller`])).stdout.trim();
    for (const verb of ['get', 'create', 'update']) assert.equal(await can([verb, 'leases.coordination.k8s.io', '-n', NS]), 'yes', verb);
    assert.equal(await can(['update', 'leases.coordination.k8s.io', '-n', 'default']), 'no');

    const token = ok(await kubectl(['create', 'token', `${MESH}-controller`, '-n', NS, '--duration=1h']), 'create token').trim();
    const meshKey = Buffer.from((await json<Secret>(['get', 'secret', '-n', NS, `${MESH}-mesh-key`])).data!['mesh-key']!, 'base64').toString('utf8');
    // Without the CA bundle Secret, someone must create it: only the leader may.
    ok(await kubectl(['delete', 'secret', `${MESH}-ca-bundle`, '-n', NS]), 'delete the CA bundle Secret');
    const env = async (name: string): Promise<NodeJS.ProcessEnv> => ({
      [CONTROLLER_ENV.apiUrl]: cluster.server,
      [CONTROLLER_ENV.apiCa]: join(cluster.dir, 'ca.crt'),
      [CONTROLLER_ENV.apiToken]: token,
      [CONTROLLER_ENV.meshName]: MESH,
      [CONTROLLER_ENV.listen]: `127.0.0.1:${await freePort()}`,
      [CONTROLLER_ENV.meshKey]: meshKey,
      [CONTROLLER_ENV.stateDir]: join(cluster.dir, `${name}-state`),
    });
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
