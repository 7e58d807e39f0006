/**
 * The reference Kubernetes control plane (issue #21): etcd, kube-apiserver, kube-controller-manager
 * and kube-scheduler built by scripts/kube-reference/build.sh, started on loopback by
 * test/support/kube-reference.ts. Skips, with the reason, when the binaries are not built.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { test } from 'node:test';
import { alive, waiter } from '../../src/lib/test-processes.js';
import { ReferenceClusterStartError, referenceBinaries, startReferenceCluster, type ReferenceCluster } from '../support/kube-reference.js';

const bins = referenceBinaries();
const skip = 'skip' in bins ? bins.skip : false;
const waitFor = waiter({ timeoutMs: 90_000, pollMs: 500 });

test('reference cluster: real control plane on loopback, kubectl against it, stop removes everything', { skip, timeout: 600_000 }, async (t) => {
  let cluster: ReferenceCluster | undefined;
  try {
    cluster = await startReferenceCluster({ withControllers: true });
    const c = cluster;
    const kubectl = async (args: string[]): Promise<string> => {
      const r = await c.kubectl(args);
      assert.equal(r.code, 0, `kubectl ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
      return r.stdout;
    };

    await t.test('the API server listens on loopback only, with a client-certificate admin', () => {
      assert.match(c.server, /^https:\/\/127\.0\.0\.1:\d+$/);
      assert.deepEqual(
        c.processes.map((p) => p.name),
        ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'],
      );
    });

    await t.test('kubectl version reports the release it was built from', async () => {
      const v = JSON.parse(await kubectl(['version', '-o', 'json'])) as { clientVersion: { gitVersion: string }; serverVersion: { gitVersion: string } };
      assert.equal(v.serverVersion.gitVersion, c.kubernetesVersion);
      assert.equal(v.clientVersion.gitVersion, c.kubernetesVersion);
    });

    await t.test('kubectl get ns lists default and kube-system', async () => {
      // the system namespaces are created by the API server's bootstrap controller just after /readyz
      const names = await waitFor('default and kube-system', async () => {
        const out = await kubectl(['get', 'ns', '-o', 'jsonpath={.items[*].metadata.name}']);
        const ns = out.split(/\s+/);
        return ns.includes('default') && ns.includes('kube-system') && ns;
      });
      assert.ok(names.includes('kube-public'));
      const table = await kubectl(['get', 'ns']);
      assert.match(table, /^NAME\s+STATUS\s+AGE/m);
      assert.match(table, /^default\s+Active/m);
    });

    await t.test('RBAC: an unauthenticated client is refused, the admin may do anything', async () => {
      assert.equal((await kubectl(['auth', 'can-i', '*', '*'])).trim(), 'yes');
      // a token nobody issued: authentication fails
      const badToken = join(c.dir, 'bad-token.kubeconfig');
      writeFileSync(
        badToken,
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Config',
          clusters: [{ name: 'reference', cluster: { server: c.server, 'certificate-authority': join(c.dir, 'ca.crt') } }],
          users: [{ name: 'stranger', user: { token: 'not-a-token-this-server-issued' } }],
          contexts: [{ name: 'reference', context: { cluster: 'reference', user: 'stranger' } }],
          'current-context': 'reference',
        }),
      );
      const stranger = await c.kubectl(['get', 'ns', '--kubeconfig', badToken]);
      assert.equal(stranger.code, 1);
      assert.match(stranger.stderr, /Unauthorized/);
      // no credentials at all: system:anonymous, whom RBAC does not let list namespaces
      const anon = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(`${c.server}/api/v1/namespaces`, { ca: readFileSync(join(c.dir, 'ca.crt')) }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });
      assert.equal(anon.status, 403);
      const status = JSON.parse(anon.body) as { kind: string; reason: string; message: string };
      assert.equal(status.reason, 'Forbidden');
      assert.match(status.message, /User "system:anonymous" cannot list resource "namespaces"/);
    });

    await t.test('kubectl create deployment: the real controller-manager makes the ReplicaSet and Pods (Pending: no node)', async () => {
      await kubectl(['create', 'deployment', 'web', '--image=registry.invalid/web:1', '--replicas=2']);
      const rs = await waitFor('the ReplicaSet', async () => {
        const out = JSON.parse(await kubectl(['get', 'replicasets', '-l', 'app=web', '-o', 'json'])) as {
          items: { metadata: { name: string; ownerReferences?: { kind: string; name: string }[] } }[];
        };
        return out.items[0];
      });
      assert.deepEqual(
        rs.metadata.ownerReferences?.map((o) => [o.kind, o.name]),
        [['Deployment', 'web']],
      );
      const pods = await waitFor('two Pods', async () => {
        const out = JSON.parse(await kubectl(['get', 'pods', '-l', 'app=web', '-o', 'json'])) as {
          items: { metadata: { name: string; ownerReferences?: { kind: string; name: string }[] }; spec: { nodeName?: string; serviceAccountName?: string }; status: { phase: string } }[];
        };
        return out.items.length === 2 && out.items;
      });
      for (const pod of pods) {
        assert.equal(pod.metadata.ownerReferences?.[0]?.kind, 'ReplicaSet');
        assert.equal(pod.metadata.ownerReferences?.[0]?.name, rs.metadata.name);
        assert.equal(pod.status.phase, 'Pending');
        assert.equal(pod.spec.nodeName, undefined);
        // the ServiceAccount admission plugin ran (default admission chain)
        assert.equal(pod.spec.serviceAccountName, 'default');
      }
      // the real scheduler saw them and found no node
      await waitFor('the scheduler to report the Pods unschedulable', async () => {
        const out = await kubectl(['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[*].status.conditions[?(@.type=="PodScheduled")].reason}']);
        return out.split(/\s+/).filter((r) => r === 'Unschedulable').length === 2;
      });
    });
  } finally {
    if (cluster) {
      const { processes, dir } = cluster;
      await cluster.stop();
      await cluster.stop(); // idempotent
      for (const p of processes) assert.equal(alive(p.pid), false, `${p.name} (pid ${p.pid}) still runs after stop()`);
      assert.equal(existsSync(dir), false, `${dir} remains after stop()`);
    }
  }
});

test('reference cluster: a failed start stops what it started and removes its directory', { skip, timeout: 120_000 }, async () => {
  const err = await startReferenceCluster({ apiserverFlags: ['--no-such-flag=1'] }).then(
    () => assert.fail('the API server started with an unknown flag'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ReferenceClusterStartError, String(err));
  assert.match(err.message, /kube-apiserver exited \(1\) before \/readyz; its log ends:\n[^]*unknown flag: --no-such-flag/);
  assert.deepEqual(
    err.processes.map((p) => p.name),
    ['etcd', 'kube-apiserver'],
  );
  for (const p of err.processes) assert.equal(alive(p.pid), false, `${p.name} (pid ${p.pid}) still runs`);
  assert.equal(existsSync(err.dir), false, `${err.dir} remains`);
});
