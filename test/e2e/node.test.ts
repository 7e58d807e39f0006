/**
 * Tessera's local runtime as the reference cluster's node (issue #21 part 5): `tessera node`
 * registers a Node with the real kube-apiserver (as `system:node:<name>`, so the Node authorizer
 * judges it), gets its serving certificate from the controller-manager's kubelet-serving signer once
 * the CSR is approved, keeps its Lease fresh; the real scheduler binds a Deployment's pod to it, the
 * node runs it with the local runtimes and reports it Running and Ready; `kubectl logs` and
 * `kubectl exec` go through the API server (which authenticates to the node with its kubelet client
 * certificate and verifies the node's serving certificate); deleting the pod stops its processes.
 *
 * Pod networking is pinned to local mode's loopback one here: pod IPs in the node's leased 127.B.0.0/16.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort } from '../../src/lib/test-processes.js';
import {
  kubectlJson, kubectlOn, nodeCsrName, ok, startHostProcess, stopHostProcess, tesseraNodeArgs, waitFor as waitForEvery, type HostProcess,
} from '../support/kube-mode.js';
import { referenceBinaries, startReferenceCluster, type ReferenceCluster } from '../support/kube-reference.js';
import { SAMPLES, type RunResult } from '../support/mesh.js';

const bins = referenceBinaries();
const skip = 'skip' in bins ? bins.skip : false;
const NODE = 'tessera-node-1';
const WAIT_MS = 90_000;

const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false>, ms = WAIT_MS, detail?: () => string): Promise<T> =>
  waitForEvery(what, fn, ms, detail, 300);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface PodJson {
  metadata: { name: string; uid: string; deletionTimestamp?: string };
  spec: { nodeName?: string };
  status: {
    phase?: string; podIP?: string; hostIP?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: { name: string; ready: boolean; restartCount: number; state?: { running?: unknown; waiting?: { reason: string; message?: string } } }[];
  };
}

describe('tessera node on the reference cluster', { skip }, () => {
  let cluster: ReferenceCluster;
  let node: HostProcess | undefined;
  const nodeOut = (): string => node?.output() ?? '';
  let rootDir = '';
  let kubeletPort = 0;

  const kubectl = (args: string[], input?: string): Promise<RunResult> => kubectlOn(cluster, args, input);
  const json = <T>(args: string[]): Promise<T> => kubectlJson<T>(cluster, args);
  const detail = (): string => `--- tessera node ---\n${nodeOut().split('\n').slice(-40).join('\n')}\n--- scheduler ---\n${cluster.log('kube-scheduler', 10)}`;

  before(async () => {
    cluster = await startReferenceCluster({ withControllers: true, kubeletClient: true });
    const kubeconfig = await cluster.nodeKubeconfig(NODE);
    kubeletPort = await freePort();
    rootDir = join(cluster.dir, 'node');
    // loopback pod networking, pinned: this suite reaches pod IPs from the host; namespace mode (the
    // default) is what the seed on the reference cluster runs (seed-on-kubernetes.test.ts)
    node = startHostProcess('node', tesseraNodeArgs({ kubeconfig, name: NODE, port: kubeletPort, rootDir, extraArgs: ['--pod-network', 'loopback'] }), { cwd: cluster.dir, env: { KUBECONFIG: kubeconfig } });
  });

  after(async () => {
    if (node) await stopHostProcess(node, 15_000);
    if (process.env.TESSERA_NODE_DEBUG) process.stderr.write(nodeOut());
    // whatever a pod left behind (there should be nothing): by the PIDs the node recorded
    for (const pid of pidsUnder(join(rootDir, 'pods'))) if (alive(pid)) process.kill(-pid, 'SIGKILL');
    await cluster?.stop();
  });

  test('registers a Ready Node with a serving certificate from the kubelet-serving signer and renews its Lease', async () => {
    const csr = await nodeCsrName(node!, WAIT_MS, detail);
    const csrObj = await json<{ spec: { signerName: string; username: string; usages: string[] } }>(['get', 'csr', csr]);
    assert.equal(csrObj.spec.signerName, 'kubernetes.io/kubelet-serving');
    assert.equal(csrObj.spec.username, `system:node:${NODE}`, 'requested by the node\'s own identity');
    ok(await kubectl(['certificate', 'approve', csr]), 'approve the CSR');
    await waitFor('the node to be Ready', async () => /registered and Ready/.test(nodeOut()), WAIT_MS, detail);

    type NodeJson = {
      metadata: { labels: Record<string, string> };
      status: { conditions: { type: string; status: string }[]; addresses: { type: string; address: string }[]; daemonEndpoints: { kubeletEndpoint: { Port: number } }; allocatable: Record<string, string> };
    };
    const n = await json<NodeJson>(['get', 'node', NODE]);
    assert.equal(n.status.conditions.find((c) => c.type === 'Ready')?.status, 'True');
    assert.deepEqual(n.status.addresses, [{ type: 'InternalIP', address: '127.0.0.1' }]);
    assert.equal(n.status.daemonEndpoints.kubeletEndpoint.Port, kubeletPort);
    assert.equal(n.status.allocatable.pods, '110');
    assert.equal(n.metadata.labels['kubernetes.io/hostname'], NODE);
    assert.match(ok(await kubectl(['get', 'nodes']), 'get nodes'), new RegExp(`${NODE}\\s+Ready`));

    type Lease = { spec: { holderIdentity: string; renewTime: string; leaseDurationSeconds: number } };
    const first = await json<Lease>(['get', 'lease', NODE, '-n', 'kube-node-lease']);
    assert.equal(first.spec.holderIdentity, NODE);
    await waitFor('the Lease to be renewed', async () => (await json<Lease>(['get', 'lease', NODE, '-n', 'kube-node-lease'])).spec.renewTime !== first.spec.renewTime, 30_000, detail);
  });

  test('the kubelet API: TLS verified with the cluster CA, callers authenticated and authorized by the API server', async () => {
    const ca = readFileSync(join(cluster.dir, 'ca.crt'), 'utf8');
    const get = (path: string, o: { cert?: string; key?: string; token?: string } = {}): Promise<{ code: number; body: string }> => new Promise((resolve, reject) => {
      const req = httpsRequest({
        host: '127.0.0.1', port: kubeletPort, path, ca, servername: '', timeout: 10_000,
        ...(o.cert ? { cert: o.cert, key: o.key } : {}), ...(o.token ? { headers: { authorization: `Bearer ${o.token}` } } : {}),
      }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end();
    });
    // the serving certificate chains to the cluster CA and names 127.0.0.1 (the request above verifies both)
    assert.equal((await get('/healthz')).code, 401, 'no credentials');
    const admin = { cert: readFileSync(join(cluster.dir, 'admin.crt'), 'utf8'), key: readFileSync(join(cluster.dir, 'admin.key'), 'utf8') };
    const healthz = await get('/healthz', admin);
    assert.equal(healthz.code, 200, healthz.body);
    // a ServiceAccount's token: authenticated by a TokenReview, refused by the SubjectAccessReview
    const token = ok(await kubectl(['create', 'token', 'default', '-n', 'default', '--duration=10m']), 'create token').trim();
    const refused = await get('/containerLogs/default/x/y', { token });
    assert.equal(refused.code, 403, refused.body);
    assert.match(refused.body, /system:serviceaccount:default:default.*nodes.*proxy/);
  });

  test('a Deployment\'s pod is scheduled to the node, runs with the local runtime, and is Running and Ready', async () => {
    ok(await kubectl(['apply', '-f', join(SAMPLES, 'httpbin.yaml')]), 'apply httpbin');
    const pod = await waitFor('the httpbin pod Running and Ready', async () => {
      const list = await json<{ items: PodJson[] }>(['get', 'pods', '-l', 'app=httpbin']);
      const p = list.items[0];
      return p?.status.phase === 'Running' && p.status.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? p : undefined;
    }, WAIT_MS, detail);
    assert.equal(pod.spec.nodeName, NODE, 'bound by the real scheduler');
    assert.equal(pod.status.hostIP, '127.0.0.1');
    assert.match(pod.status.podIP ?? '', /^127\.\d+\.\d+\.\d+$/, 'a loopback pod IP');
    assert.deepEqual(pod.status.containerStatuses?.map((c) => [c.name, c.ready, c.restartCount]), [['httpbin', true, 0]]);
    for (const type of ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready']) {
      assert.equal(pod.status.conditions?.find((c) => c.type === type)?.status, 'True', type);
    }
    assert.match(ok(await kubectl(['get', 'pods', '-l', 'app=httpbin']), 'get pods'), /1\/1\s+Running\s+0/);
    // the app answers on the pod IP at the manifest's port
    const res = await fetch(`http://${pod.status.podIP}:14001/get`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /"url"/);
    // the ReplicaSet and Deployment see it available
    await waitFor('the Deployment available', async () => (await json<{ status: { availableReplicas?: number } }>(['get', 'deployment', 'httpbin'])).status.availableReplicas === 1, 30_000);
  });

  test('kubectl logs and kubectl exec go through the API server to the node', async () => {
    const name = ok(await kubectl(['get', 'pods', '-l', 'app=httpbin', '-o', 'jsonpath={.items[0].metadata.name}']), 'pod name').trim();
    const logs = ok(await kubectl(['logs', name]), 'kubectl logs');
    assert.match(logs, /Listening at/);
    const tail = ok(await kubectl(['logs', name, '--tail=1']), 'kubectl logs --tail=1');
    assert.equal(tail.trim().split('\n').length, 1);

    assert.equal(ok(await kubectl(['exec', name, '--', 'echo', 'hi']), 'kubectl exec echo').trim(), 'hi');
    assert.equal(ok(await kubectl(['exec', '-i', name, '-c', 'httpbin', '--', 'cat'], 'piped in\n'), 'kubectl exec -i cat'), 'piped in\n');
    const env = ok(await kubectl(['exec', name, '--', 'sh', '-c', 'echo $POD_NAME $POD_IP']), 'kubectl exec env').trim();
    assert.match(env, new RegExp(`^${name} 127\\.`));
    const failed = await kubectl(['exec', name, '--', 'sh', '-c', 'exit 3']);
    assert.equal(failed.code, 3, 'the command\'s exit code comes back');
    const noSuch = await kubectl(['exec', name, '-c', 'nope', '--', 'true']);
    assert.notEqual(noSuch.code, 0);
    assert.match(noSuch.stderr, /container nope is not valid|not found/);
  });

  test('a pod whose image has no local runtime waits with a reason and an event', async () => {
    ok(await kubectl(['run', 'nolocal', '--image=registry.invalid/none:1']), 'kubectl run');
    const pod = await waitFor('the waiting reason', async () => {
      const p = await json<PodJson>(['get', 'pod', 'nolocal']);
      return p.status.containerStatuses?.[0]?.state?.waiting?.reason === 'ImageUnsupported' ? p : undefined;
    }, WAIT_MS, detail);
    assert.equal(pod.status.phase, 'Pending');
    const events = await waitFor('the Failed event', async () => {
      const list = await json<{ items: { reason: string; message: string; type: string; source?: { component?: string } }[] }>(['get', 'events', '--field-selector', 'involvedObject.name=nolocal']);
      return list.items.find((e) => e.reason === 'Failed');
    }, 30_000);
    assert.equal(events.type, 'Warning');
    assert.match(events.message, /no local runtime/);
    ok(await kubectl(['delete', 'pod', 'nolocal', '--wait=true', '--timeout=60s']), 'delete nolocal');
  });

  test('deleting the Deployment stops the pod\'s processes; the node deletes the pod with a UID precondition', async () => {
    const pod = (await json<{ items: PodJson[] }>(['get', 'pods', '-l', 'app=httpbin'])).items[0]!;
    const pidPath = join(rootDir, 'pods', 'default', pod.metadata.name, 'httpbin.pid');
    const pid = Number(readFileSync(pidPath, 'utf8').trim());
    assert.ok(alive(pid), 'the app process runs');
    ok(await kubectl(['delete', 'deployment', 'httpbin']), 'delete deployment');
    await waitFor('the pod object to be gone', async () => (await json<{ items: PodJson[] }>(['get', 'pods', '-l', 'app=httpbin'])).items.length === 0, WAIT_MS, detail);
    await waitFor('the app process to be gone', async () => !alive(pid), 15_000);
    assert.ok(!existsSync(join(rootDir, 'pods', 'default', pod.metadata.name)), 'the pod\'s files removed');
    assert.match(nodeOut(), new RegExp(`pod default/${pod.metadata.name}: stopped and removed`));
  });
});

function pidsUnder(dir: string): number[] {
  const out: number[] = [];
  const walk = (d: string): void => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.pid')) {
        const pid = Number(readFileSync(p, 'utf8').trim());
        if (pid > 0) out.push(pid);
      }
    }
  };
  walk(dir);
  return out;
}
