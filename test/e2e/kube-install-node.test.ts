/**
 * `tessera install --wait` on the reference cluster, its Deployments' pods run by `tessera node`
 * (the local runtime as the cluster's node, loopback pod network): the real scheduler binds them to
 * the node, which runs the images' entrypoints with the pod spec's env (the legacy token Secrets the
 * real token controller filled, read as the Node authorizer allows), volumes and ServiceAccount
 * token, the in-cluster API URL leading to the cluster's API server. The components become Ready and
 * the controller takes its Lease.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort } from '../../src/lib/test-processes.js';
import { kubectlOn, nodeCsrName, ok, startHostProcess, stopHostProcess, tesseraNodeArgs, tesseraOn, waitFor, type HostProcess } from '../support/kube-mode.js';
import { referenceBinaries, startReferenceCluster, type ReferenceCluster } from '../support/kube-reference.js';
import type { RunResult } from '../support/mesh.js';

const bins = referenceBinaries();
const skip = 'skip' in bins ? bins.skip : false;
const NODE = 'tessera-node-install';
const MESH = 'fsm';
const NS = `${MESH}-system`;

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
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.name.endsWith('.pid')) {
        const pid = Number(readFileSync(join(d, e.name), 'utf8').trim());
        if (Number.isInteger(pid) && pid > 0) out.push(pid);
      }
    }
  };
  walk(dir);
  return out;
}

describe('tessera install on the reference cluster, its pods run by tessera node', { skip }, () => {
  let cluster: ReferenceCluster;
  let node: HostProcess | undefined;
  let rootDir = '';
  const kubectl = (args: string[], input?: string): Promise<RunResult> => kubectlOn(cluster, args, input);
  const detail = (): string => `--- tessera node ---\n${(node?.output() ?? '').split('\n').slice(-40).join('\n')}`;

  before(async () => {
    cluster = await startReferenceCluster({ withControllers: true, kubeletClient: true });
    const kubeconfig = await cluster.nodeKubeconfig(NODE);
    rootDir = join(cluster.dir, 'node');
    node = startHostProcess('node', tesseraNodeArgs({ kubeconfig, name: NODE, port: await freePort(), rootDir, extraArgs: ['--pod-network', 'loopback'] }), { cwd: cluster.dir, env: { KUBECONFIG: kubeconfig } });
    ok(await kubectl(['certificate', 'approve', await nodeCsrName(node, 90_000, detail)]), 'approve the node\'s CSR');
    await waitFor('the node to be Ready', async () => /registered and Ready/.test(node!.output()), 90_000, detail);
  });

  after(async () => {
    if (node) await stopHostProcess(node, 15_000);
    for (const pid of pidsUnder(join(rootDir, 'pods'))) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    await cluster?.stop();
  });

  test('install --wait: the controller, injector and bootstrap pods run on the node and are Ready; the controller leads', async () => {
    const install = await tesseraOn(cluster, ['install', '--mesh-name', MESH, '--timeout', '150s', '--wait']);
    assert.equal(install.code, 0, `${install.stdout}\n${install.stderr}\n${(await kubectl(['-n', NS, 'get', 'pods', '-o', 'wide'])).stdout}\n${detail()}`);
    const pods = JSON.parse(ok(await kubectl(['-n', NS, 'get', 'pods', '-o', 'json']), 'get pods')) as { items: { metadata: { name: string }; spec: { nodeName?: string }; status: { containerStatuses?: { ready: boolean }[] } }[] };
    assert.equal(pods.items.length, 3);
    for (const p of pods.items) {
      assert.equal(p.spec.nodeName, NODE, p.metadata.name);
      assert.ok(p.status.containerStatuses?.every((c) => c.ready), p.metadata.name);
    }
    const holder = ok(await kubectl(['-n', NS, 'get', 'lease', `${MESH}-controller`, '-o', 'jsonpath={.spec.holderIdentity}']), 'get lease');
    assert.ok(pods.items.some((p) => holder.startsWith(`${p.metadata.name}_`)), holder);
  });
});
