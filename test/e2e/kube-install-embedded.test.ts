/**
 * Issue #14 part 5: `tessera install` into the embedded Kubernetes API of `tessera up`, as into a
 * cluster. The install's Deployments run their images (tessera/tessera-controller, -injector,
 * -bootstrap) as local pods: the same entrypoints the images run, with their pod spec's env (Secret
 * keys included), volumes and ServiceAccount token, the in-cluster API URL mapped to the embedded API.
 * The local mesh `tessera` and the installed mesh `fsm` share the API; each controller keeps to its
 * own namespaces.
 *
 * Checked with the real kubectl: the install waits for its Deployments (--wait) and the three pods
 * are Running and Ready; the legacy token Secrets are filled by the token controller and stop
 * authenticating once deleted; the embedded API calls the installed injector through its Service
 * (the webhook's clientConfig.service) and the injector patches the pod; an injected Deployment's pod
 * runs to Ready, its sidecar connected to fsm's controller (in namespace mode from a sandbox, through
 * the gateway's controller relay); an AccessControl of an fsm
 * namespace gets fsm's status, not the local mesh's; two controller replicas elect one leader through
 * the Lease and the other takes over when the leader's pod is deleted; `tessera uninstall` removes
 * the pods and their processes. Both pod networks where the machine allows namespace mode.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { decidePodNetwork } from '../../src/local/runtime/pod-network.js';
import { ok, waitFor } from '../support/kube-mode.js';
import { newestKubectl, type Kubectl } from '../support/kube-mode-embedded.js';
import { kubectlBinaries, startKubectlMesh } from '../support/kubectl.js';
import type { RunResult, TestMesh } from '../support/mesh.js';

const noKubectl = kubectlBinaries().length === 0 ? 'no kubectl on this machine (scripts/install-kubectl-debian.sh)' : false;
const namespaceMode = await decidePodNetwork('namespace').then(() => true, () => false);
const MESH = 'fsm';
const NS = `${MESH}-system`;
const COMPONENTS = ['bootstrap', 'controller', 'injector'] as const;

interface PodView {
  metadata: { name: string; labels?: Record<string, string>; deletionTimestamp?: string };
  status?: { phase?: string; podIP?: string; containerStatuses?: { ready: boolean; state?: { running?: unknown } }[] };
}

const runningAndReady = (p: PodView): boolean =>
  p.status?.phase === 'Running' && (p.status.containerStatuses ?? []).length > 0 && p.status.containerStatuses!.every((c) => c.ready && c.state?.running !== undefined);

/** `full`: every check; otherwise install, the webhook through the Service and uninstall (the pods run on the host in both networks). */
function suite(network: 'loopback' | 'namespace', full: boolean): void {
  const skip = noKubectl || (network === 'namespace' && !namespaceMode ? 'namespace mode is not possible here' : false);
  describe(`tessera install into the embedded API (--pod-network ${network})`, { skip }, () => {
    let mesh: TestMesh;
    let kubectl: Kubectl;
    const tessera = (args: string[], timeoutMs = 150_000): Promise<RunResult> => mesh.tessera([...args, '--kubeconfig', join(mesh.stateDir, 'kubeconfig')], { timeoutMs });
    const pods = async (): Promise<PodView[]> => (JSON.parse(ok(await kubectl(['-n', NS, 'get', 'pods', '-o', 'json']), 'get pods')) as { items: PodView[] }).items;
    const detail = async (): Promise<string> => {
      const out = await kubectl(['-n', NS, 'get', 'pods', '-o', 'wide']);
      const logs = await Promise.all(COMPONENTS.map(async (c) => `--- ${c} ---\n${(await kubectl(['-n', NS, 'logs', `deploy/${MESH}-${c}`, '--tail=20'])).stdout}`));
      return `${out.stdout}${out.stderr}\n${logs.join('\n')}`;
    };

    before(async () => {
      mesh = await startKubectlMesh('tessera', ['--pod-network', network]);
      kubectl = newestKubectl(mesh)!.run;
    });

    after(async () => {
      await mesh?.stop();
    });

    test('install waits for the component Deployments; the controller, injector and bootstrap pods are Running and Ready', async () => {
      const out = ok(await tessera(['install', '--mesh-name', MESH, '--timeout', '2m', '--wait']), 'tessera install --wait');
      assert.match(out, new RegExp(`Deployments ${MESH}-bootstrap, ${MESH}-controller, ${MESH}-injector available`));
      const list = await pods();
      assert.deepEqual(list.map((p) => p.metadata.labels?.app).sort(), COMPONENTS.map((c) => `${MESH}-${c}`), await detail());
      for (const p of list) assert.ok(runningAndReady(p), `${p.metadata.name}: ${JSON.stringify(p.status)}`);
      // the table kubectl users read
      const table = ok(await kubectl(['-n', NS, 'get', 'pods']), 'get pods');
      for (const c of COMPONENTS) assert.match(table, new RegExp(`^${MESH}-${c}-\\S+\\s+1/1\\s+Running\\s+0\\s`, 'm'), table);
      // each reached the embedded API as its ServiceAccount
      const controllerLog = ok(await kubectl(['-n', NS, 'logs', `deploy/${MESH}-controller`]), 'controller logs');
      assert.match(controllerLog, /"resources synced"/);
      assert.match(controllerLog, new RegExp(`"became the leader","lease":"${NS}/${MESH}-controller"`));
      assert.match(ok(await kubectl(['-n', NS, 'logs', `deploy/${MESH}-bootstrap`]), 'bootstrap logs'), /"resources synced"/);
      // the injector is its Service's endpoint, at its pod's address
      const injector = list.find((p) => p.metadata.labels?.app === `${MESH}-injector`)!;
      const endpoints = ok(await kubectl(['-n', NS, 'get', 'endpoints', `${MESH}-injector`, '-o', 'jsonpath={.subsets[0].addresses[0].ip}:{.subsets[0].ports[0].port}']), 'get endpoints');
      assert.equal(endpoints, `${injector.status!.podIP}:9090`);
      // the leader is named by its pod, as on a cluster
      const holder = ok(await kubectl(['-n', NS, 'get', 'lease', `${MESH}-controller`, '-o', 'jsonpath={.spec.holderIdentity}']), 'get lease');
      assert.ok(holder.startsWith(`${list.find((p) => p.metadata.labels?.app === `${MESH}-controller`)!.metadata.name}_`), holder);
    });

    if (full) test('the token controller fills kubernetes.io/service-account-token Secrets; a deleted Secret\'s token stops authenticating', async () => {
      ok(await kubectl(['apply', '-f', '-'], JSON.stringify({
        apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/service-account-token',
        metadata: { name: 'extra-token', namespace: NS, annotations: { 'kubernetes.io/service-account.name': `${MESH}-controller` } },
      })), 'create a token Secret');
      const token = await waitFor('the token controller to fill the Secret', async () => {
        const r = await kubectl(['-n', NS, 'get', 'secret', 'extra-token', '-o', 'jsonpath={.data.token}']);
        return r.code === 0 && r.stdout !== '' ? Buffer.from(r.stdout, 'base64').toString('utf8') : undefined;
      }, 30_000);
      const sa = JSON.parse(ok(await kubectl(['-n', NS, 'get', 'serviceaccount', `${MESH}-controller`, '-o', 'json']), 'get sa')) as { metadata: { uid: string } };
      const secret = JSON.parse(ok(await kubectl(['-n', NS, 'get', 'secret', 'extra-token', '-o', 'json']), 'get secret')) as { metadata: { annotations: Record<string, string> }; data: Record<string, string> };
      assert.equal(secret.metadata.annotations['kubernetes.io/service-account.uid'], sa.metadata.uid);
      assert.equal(Buffer.from(secret.data.namespace!, 'base64').toString('utf8'), NS);
      assert.match(Buffer.from(secret.data['ca.crt']!, 'base64').toString('utf8'), /BEGIN CERTIFICATE/);

      const admin = parseYaml(await import('node:fs/promises').then((fs) => fs.readFile(join(mesh.stateDir, 'kubeconfig'), 'utf8'))) as { clusters: { cluster: Record<string, string> }[] };
      const kubeconfig = join(mesh.stateDir, 'extra-token.kubeconfig');
      writeFileSync(kubeconfig, JSON.stringify({
        apiVersion: 'v1', kind: 'Config', 'current-context': 'sa',
        clusters: [{ name: 'embedded', cluster: { server: admin.clusters[0]!.cluster.server, 'certificate-authority-data': admin.clusters[0]!.cluster['certificate-authority-data'] } }],
        users: [{ name: 'sa', user: { token } }],
        contexts: [{ name: 'sa', context: { cluster: 'embedded', user: 'sa' } }],
      }), { mode: 0o600 });
      const whoami = (): Promise<RunResult> => kubectl(['--kubeconfig', kubeconfig, 'auth', 'can-i', 'list', 'pods', '-n', NS]);
      assert.equal(ok(await whoami(), 'can-i with the Secret\'s token').trim(), 'yes');
      ok(await kubectl(['-n', NS, 'delete', 'secret', 'extra-token']), 'delete the token Secret');
      const refused = await whoami();
      assert.notEqual(refused.code, 0, refused.stdout);
      assert.match(refused.stderr, /Unauthorized/);
    });

    test('the embedded API calls the installed injector through its Service; the injector patches the pod', async () => {
      ok(await kubectl(['create', 'namespace', 'app']), 'create namespace app');
      ok(await tessera(['namespace', 'add', 'app', '--mesh-name', MESH]), 'tessera namespace add app');
      const r = await kubectl(['create', '--dry-run=server', '-f', '-'], `apiVersion: v1
kind: Pod
metadata: { name: injected, namespace: app, labels: { app: injected } }
spec:
  containers:
  - { name: app, image: curlimages/curl, command: [sleep, infinity] }
`);
      // (whether local mode then stores a Pod written through the API is not this test's business)
      assert.doesNotMatch(r.stderr, /failed calling webhook/, r.stderr);
      await waitFor('the injector to log the injection', async () => /"injected sidecar","pod":"app\/injected"/.test((await kubectl(['-n', NS, 'logs', `deploy/${MESH}-injector`])).stdout), 20_000, () => r.stderr);
    });

    test('an injected Deployment\'s pod runs to Ready, its sidecar connected to the installed controller with its ServiceAccount token', async () => {
      // (a cluster's serviceaccount controller makes `default`; the sidecar's projected token is its)
      ok(await kubectl(['create', 'serviceaccount', 'default', '-n', 'app']), 'the default ServiceAccount');
      ok(await kubectl(['create', 'deployment', 'web', '-n', 'app', '--image=curlimages/curl', '--', 'sleep', 'infinity']), 'kubectl create deployment');
      let last: PodView | undefined;
      const p = await waitFor('the injected pod Ready', async () => {
        const r = await kubectl(['get', 'pods', '-n', 'app', '-l', 'app=web', '-o', 'json']);
        last = r.code === 0 ? (JSON.parse(r.stdout) as { items: PodView[] }).items[0] : undefined;
        return last && runningAndReady(last) ? last : undefined;
      }, 90_000, () => `${JSON.stringify(last?.status)}`);
      assert.equal(p.status!.containerStatuses!.length, 2, 'the app and the injected sidecar');
      if (network === 'namespace') assert.doesNotMatch(p.status!.podIP ?? '', /^127\./, 'a sandbox\'s address');
      const connected = await waitFor('the controller to log the proxy', async () => {
        const log = (await kubectl(['-n', NS, 'logs', `deploy/${MESH}-controller`])).stdout;
        return new RegExp(`"msg":"proxy connected","proxy":"app/${p.metadata.name}","auth":"serviceaccount"`).test(log) ? log : undefined;
      }, 30_000, () => '');
      assert.ok(connected);
      ok(await kubectl(['delete', 'deployment', 'web', '-n', 'app', '--wait=true']), 'delete the Deployment');
    });

    if (full) test('an AccessControl in an fsm namespace is judged by fsm\'s controller only', async () => {
      // judged by the local mesh, the backend would be "not in the mesh (namespace app is not monitored by tessera)"
      ok(await kubectl(['-n', 'app', 'create', 'service', 'clusterip', 'web', '--tcp=80:80']), 'create service web');
      ok(await kubectl(['apply', '-f', '-'], JSON.stringify({
        apiVersion: 'policy.flomesh.io/v1alpha1', kind: 'AccessControl', metadata: { name: 'ingress', namespace: 'app' },
        spec: { backends: [{ name: 'web', port: { number: 80, protocol: 'http' } }], sources: [{ kind: 'IPRange', name: '10.0.0.0/8' }] },
      })), 'apply an AccessControl');
      const reason = await waitFor('a status on the AccessControl', async () => {
        const r = await kubectl(['-n', 'app', 'get', 'accesscontrol', 'ingress', '-o', 'jsonpath={.status.reason}']);
        return r.code === 0 && r.stdout !== '' ? r.stdout : undefined;
      }, 30_000, () => '');
      assert.doesNotMatch(reason, /tessera/, `the local mesh judged fsm's AccessControl: ${reason}`);
      process.stdout.write(`# AccessControl app/ingress: ${reason}\n`);
    });

    if (full) test('two controller replicas: one leader; deleting its pod hands the Lease to a live replica', async () => {
      ok(await kubectl(['-n', NS, 'scale', 'deployment', `${MESH}-controller`, '--replicas', '2']), 'scale to 2');
      const controllers = async (): Promise<PodView[]> => (await pods()).filter((p) => p.metadata.labels?.app === `${MESH}-controller` && !p.metadata.deletionTimestamp);
      await waitFor('two Ready controllers', async () => (await controllers()).filter(runningAndReady).length === 2, 60_000, () => '');
      const holder = async (): Promise<string> => ok(await kubectl(['-n', NS, 'get', 'lease', `${MESH}-controller`, '-o', 'jsonpath={.spec.holderIdentity}']), 'get lease');
      const names = (await controllers()).map((p) => p.metadata.name);
      const first = await holder();
      const leaderPod = names.find((n) => first.startsWith(`${n}_`));
      assert.ok(leaderPod, `the Lease names one of ${names.join(', ')}: ${first}`);
      const standby = names.find((n) => n !== leaderPod)!;
      // the standby says it is waiting
      assert.doesNotMatch(ok(await kubectl(['-n', NS, 'logs', standby]), 'standby logs'), /"became the leader"/);
      ok(await kubectl(['-n', NS, 'delete', 'pod', leaderPod, '--wait=true']), 'delete the leader pod');
      // the Lease lasts 15 s; a leader that stops releases it at once
      const next = await waitFor('another controller to take the Lease', async () => {
        const h = await holder();
        return h !== first && h !== '' ? h : undefined;
      }, 45_000, () => '');
      // The standby, or the pod the Deployment started in the deleted one's place: whichever asks
      // first after the release. Never the deleted pod.
      const live = (await controllers()).map((p) => p.metadata.name);
      const newLeader = live.find((n) => next.startsWith(`${n}_`));
      assert.ok(newLeader && newLeader !== leaderPod, `a live controller other than ${leaderPod} holds the Lease (${live.join(', ')}): ${next}`);
      assert.match(ok(await kubectl(['-n', NS, 'logs', newLeader]), 'new leader logs'), /"became the leader"/);
      const transitions = ok(await kubectl(['-n', NS, 'get', 'lease', `${MESH}-controller`, '-o', 'jsonpath={.spec.leaseTransitions}']), 'transitions');
      assert.ok(Number(transitions) >= 1, transitions);
    });

    if (full) test('tessera down and up again: the local mesh restarts beside the installed one, whose pods come back Ready', async () => {
      ok(await mesh.tessera(['down'], { timeoutMs: 60_000 }), 'tessera down');
      ok(await mesh.tessera(['up', '--mesh-name', 'tessera', '--detach', '--pod-network', network], { timeoutMs: 90_000 }), 'tessera up again (the state holds the installed fsm too)');
      await waitFor('the installed pods to be Ready again', async () => {
        const list = await pods();
        return list.filter((p) => !p.metadata.deletionTimestamp).length >= 3 && list.every(runningAndReady);
      }, 60_000, () => '');
    });

    test('tessera uninstall removes the components, their pods and processes', async () => {
      const pids = (await pods()).map((p) => {
        const container = p.metadata.labels!.app!.slice(MESH.length + 1);
        return Number(readFileSync(join(mesh.stateDir, 'pods', NS, p.metadata.name, `${container}.pid`), 'utf8').trim());
      });
      assert.ok(pids.length >= 3 && pids.every((pid) => Number.isInteger(pid) && pid > 0 && alive(pid)), `the pods' processes: ${pids.join(', ')}`);
      ok(await tessera(['uninstall', '--mesh-name', MESH, '--timeout', '1m']), 'tessera uninstall');
      assert.notEqual((await kubectl(['get', 'namespace', NS])).code, 0, 'the namespace is gone');
      assert.notEqual((await kubectl(['get', 'mutatingwebhookconfiguration', `tessera-webhook-${MESH}`])).code, 0, 'the webhook is gone');
      await waitFor('the pods\' processes to stop', async () => pids.every((pid) => !alive(pid)), 30_000, () => pids.filter(alive).join(', '));
      // the local mesh's own control plane runs on
      assert.match(ok(await kubectl(['-n', 'tessera-system', 'get', 'pods']), 'local control plane'), /Running/);
    });
  });
}

/** Whether a process of this pid runs (a zombie counts as stopped). */
function alive(pid: number): boolean {
  try {
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

suite('loopback', true);
suite('namespace', false);
