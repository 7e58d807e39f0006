/**
 * Real kubectl against `tessera up` (issue #9 item 9): the oldest (Debian's 1.20) and the newest
 * kubectl on the machine each drive one mesh through the everyday verbs, asserting what kubectl
 * prints; then the protocol edge cases kubectl hides (410, 409, 422, 415, 404, 401), over raw
 * HTTPS with the kubeconfig's CA and client certificate. One mesh per describe, stopped in `after`.
 *
 * Debian's kubectl comes from scripts/install-kubectl-debian.sh (a cache folder, not installed);
 * a kubectl that is missing skips its describe with one line saying how to get it.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { openStore } from '../../src/local/store/index.js';
import { eventually, SAMPLES, type RunResult, type TestMesh } from '../support/mesh.js';
import {
  kubeApi,
  kubectl as runKubectl,
  kubectlBinaries,
  missingKubectls,
  spawnKubectl,
  startKubectlMesh,
  watchEvents,
} from '../support/kubectl.js';

const NS = 'httpbin';
const HTTPBIN = join(SAMPLES, 'httpbin.yaml');
/** a namespace joined to the mesh, as `tessera namespace add` labels it */
const MESH_NAMESPACE = `apiVersion: v1
kind: Namespace
metadata:
  name: ${NS}
  labels: { flomesh.io/monitored-by: fsm, openservicemesh.io/monitored-by: fsm }
  annotations: { flomesh.io/sidecar-injection: enabled }
`;
/** a pod outside the mesh printing a line with the time in ms every 200 ms, for `logs -f` */
const TICKER = `apiVersion: v1
kind: Namespace
metadata: { name: ticker }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: ticker, namespace: ticker }
spec:
  replicas: 1
  selector: { matchLabels: { app: ticker } }
  template:
    metadata:
      labels: { app: ticker }
      annotations:
        local.tessera.dev/command: 'while true; do echo "tick $(date +%s%3N)"; sleep 0.2; done'
    spec:
      containers:
      - { name: ticker, image: busybox }
`;

/** The httpbin sample with one label added to its Deployment: `apply` must say `configured` for it alone. */
function changedHttpbin(): string {
  const text = readFileSync(HTTPBIN, 'utf8');
  const changed = text.replace(/(kind: Deployment\nmetadata:\n  name: httpbin\n)/, '$1  labels:\n    changed: "yes"\n');
  assert.notEqual(changed, text, 'the sample still has a Deployment named httpbin');
  return changed;
}


const lines = (s: string): string[] => s.trim().split('\n').filter((l) => l !== '');
const cols = (line: string): string[] => line.trim().split(/\s{2,}|\t/);

interface PodList {
  items: { metadata: { name: string; namespace: string; labels?: Record<string, string> }; spec: { containers: { name: string }[] }; status: { phase: string; podIP?: string } }[];
}

for (const m of missingKubectls()) {
  describe(`kubectl (${m.role})`, { skip: m.skip }, () => {
    it('drives tessera up', () => undefined);
  });
}

for (const bin of kubectlBinaries()) {
  describe(`kubectl ${bin.version} (${bin.gitVersion}, ${bin.path}) against tessera up`, { timeout: 600_000 }, () => {
    let mesh: TestMesh;
    let pod = '';

    const k = async (args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> => runKubectl(mesh, args, { bin, ...opts });
    /** kubectl that must succeed: its stdout */
    const ok = async (args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<string> => {
      const r = await k(args, opts);
      assert.equal(r.code, 0, `kubectl ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
      return r.stdout;
    };
    const pods = async (): Promise<PodList['items']> => (JSON.parse(await ok(['get', 'pods', '-n', NS, '-l', 'app=httpbin', '-o', 'json'])) as PodList).items;
    /** waits until exactly `n` httpbin pods exist, all ready, and returns their names */
    const settled = async (n: number, what: string): Promise<string[]> =>
      eventually(async () => {
        const items = await pods();
        if (items.length !== n || items.some((p) => p.status.phase !== 'Running')) return false;
        const w = await k(['wait', '--for=condition=ready', 'pod', '-l', 'app=httpbin', '-n', NS, '--timeout=60s'], { timeoutMs: 90_000 });
        return w.code === 0 && items.map((p) => p.metadata.name);
      }, 120_000, what);

    before(async () => {
      mesh = await startKubectlMesh();
      await ok(['apply', '-f', '-'], { input: TICKER });
    });
    after(async () => {
      await mesh?.stop();
    });

    it('apply -f of the httpbin sample prints created for each object', async () => {
      assert.equal((await ok(['apply', '-f', '-'], { input: MESH_NAMESPACE })).trim(), `namespace/${NS} created`);
      const out = await ok(['apply', '-n', NS, '-f', HTTPBIN]);
      assert.deepEqual(lines(out), ['serviceaccount/httpbin created', 'service/httpbin created', 'deployment.apps/httpbin created']);
    });

    it('wait --for=condition=ready pod -l app=httpbin', async () => {
      await eventually(async () => (await pods()).length > 0, 30_000, 'an httpbin pod');
      const out = await ok(['wait', '--for=condition=ready', 'pod', '-l', 'app=httpbin', '-n', NS, '--timeout=90s'], { timeoutMs: 120_000 });
      assert.match(out.trim(), /^pod\/httpbin-[a-z0-9]+-[a-z0-9]+ condition met$/);
      [pod] = await settled(1, 'one ready httpbin pod');
    });

    it('apply again prints unchanged for every object', async () => {
      const again = await ok(['apply', '-n', NS, '-f', HTTPBIN]);
      assert.deepEqual(lines(again), ['serviceaccount/httpbin unchanged', 'service/httpbin unchanged', 'deployment.apps/httpbin unchanged']);
    });

    it('apply of a changed manifest prints configured for the changed object only', async () => {
      const changed = lines(await ok(['apply', '-n', NS, '-f', '-'], { input: changedHttpbin() }));
      assert.equal(changed.length, 3, changed.join('\n'));
      assert.equal(changed[0], 'serviceaccount/httpbin unchanged');
      assert.equal(changed[1], 'service/httpbin unchanged');
      assert.equal(changed[2], 'deployment.apps/httpbin configured');
      assert.equal(await ok(['get', 'deploy', 'httpbin', '-n', NS, '-o', 'jsonpath={.metadata.labels.changed}']), 'yes');
    });

    it('apply of the same changed manifest again: deployment unchanged', async () => {
      const again = lines(await ok(['apply', '-n', NS, '-f', '-'], { input: changedHttpbin() }));
      assert.equal(again[2], 'deployment.apps/httpbin unchanged');
    });

    it('create namespace|configmap|secret (protobuf bodies from kubectl\'s typed client), read back', async () => {
      assert.equal((await ok(['create', 'namespace', 'scratch'])).trim(), 'namespace/scratch created');
      assert.equal((await ok(['create', 'configmap', 'cm', '-n', 'scratch', '--from-literal=greeting=hello'])).trim(), 'configmap/cm created');
      assert.equal((await ok(['create', 'secret', 'generic', 'sec', '-n', 'scratch', '--from-literal=password=s3cret'])).trim(), 'secret/sec created');
      assert.equal(await ok(['get', 'configmap', 'cm', '-n', 'scratch', '-o', 'jsonpath={.data.greeting}']), 'hello');
      assert.equal(Buffer.from(await ok(['get', 'secret', 'sec', '-n', 'scratch', '-o', 'jsonpath={.data.password}']), 'base64').toString(), 's3cret');
      const dup = await k(['create', 'namespace', 'scratch']);
      assert.equal(dup.code, 1);
      assert.match(dup.stderr, /Error from server \(AlreadyExists\): namespaces "scratch" already exists/);
    });

    it('get pods: a table with NAME READY STATUS RESTARTS AGE', async () => {
      const [head, ...rows] = lines(await ok(['get', 'pods', '-n', NS]));
      assert.deepEqual(cols(head!), ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
      assert.equal(rows.length, 1, rows.join('\n'));
      const [name, ready, status, restarts, age] = cols(rows[0]!);
      assert.deepEqual([name, ready, status, restarts], [pod, '2/2', 'Running', '0']);
      assert.match(age!, /^\d+(s|m\d*s?)$/);
    });

    it('get -o wide adds IP and NODE', async () => {
      const [head, row] = lines(await ok(['get', 'pods', '-n', NS, '-o', 'wide']));
      const h = cols(head!);
      assert.deepEqual(h.slice(0, 7), ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE']);
      const r = cols(row!);
      const ip = (await pods())[0]!.status.podIP!;
      assert.equal(r[0], pod);
      assert.equal(r[h.indexOf('IP')], ip);
    });

    it('get -o yaml, -o json and -o jsonpath agree on the pod', async () => {
      const asJson = JSON.parse(await ok(['get', 'pods', '-n', NS, '-o', 'json'])) as PodList & { kind: string };
      assert.equal(asJson.kind, 'List');
      assert.deepEqual(asJson.items.map((p) => [p.metadata.name, p.metadata.namespace, p.metadata.labels?.['app']]), [[pod, NS, 'httpbin']]);
      assert.deepEqual(asJson.items[0]!.spec.containers.map((c) => c.name), ['httpbin', 'sidecar']);
      const asYaml = parseYaml(await ok(['get', 'pods', '-n', NS, '-o', 'yaml'])) as PodList & { kind: string };
      assert.equal(asYaml.kind, 'List');
      assert.deepEqual(asYaml.items[0]!.metadata.name, pod);
      assert.deepEqual(asYaml.items[0]!.status.podIP, asJson.items[0]!.status.podIP);
      const ip = await ok(['get', 'pods', '-n', NS, '-o', 'jsonpath={.items[0].status.podIP}']);
      assert.match(ip, /^\d+\.\d+\.\d+\.\d+$/);
      assert.equal(ip, asJson.items[0]!.status.podIP);
    });

    it('get deploy,svc -n NS lists both kinds', async () => {
      const out = await ok(['get', 'deploy,svc', '-n', NS]);
      const [deployTable, svcTable] = out.trim().split(/\n\s*\n/);
      assert.deepEqual(cols(lines(deployTable!)[0]!), ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE']);
      assert.deepEqual(cols(lines(deployTable!)[1]!).slice(0, 4), ['deployment.apps/httpbin', '1/1', '1', '1']);
      assert.deepEqual(cols(lines(svcTable!)[0]!), ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE']);
      const svc = cols(lines(svcTable!)[1]!);
      assert.deepEqual([svc[0], svc[1], svc[3], svc[4]], ['service/httpbin', 'ClusterIP', '<none>', '14001/TCP']);
      assert.match(svc[2]!, /^\d+\.\d+\.\d+\.\d+$/);
    });

    it('logs -c httpbin prints the app container\'s output', async () => {
      const out = await eventually(async () => {
        const o = await ok(['logs', pod, '-n', NS, '-c', 'httpbin']);
        return /Listening at: http:\/\/[^ ]+:14001/.test(o) && o;
      }, 30_000, 'gunicorn listening');
      assert.match(out, /Booting worker with pid: \d+/);
    });

    it('logs -c sidecar --tail 1 prints the sidecar\'s last line only', async () => {
      const out = await ok(['logs', pod, '-n', NS, '-c', 'sidecar', '--tail', '1']);
      assert.equal(lines(out).length, 1, out);
      const entry = JSON.parse(out) as { time: string; level: string; msg: string };
      assert.ok(entry.time && entry.level && entry.msg, out);
      const all = lines(await ok(['logs', pod, '-n', NS, '-c', 'sidecar']));
      assert.ok(all.length >= 1 && all.includes(out.trim()), 'the line is one of the sidecar\'s');
    });

    it('logs -f prints a line written after it started, until killed', async () => {
      const ticker = await eventually(async () => {
        const name = await ok(['get', 'pods', '-n', 'ticker', '-l', 'app=ticker', '-o', 'jsonpath={.items[0].metadata.name}']);
        return name !== '' && (await k(['logs', name, '-n', 'ticker'])).stdout.includes('tick ') && name;
      }, 30_000, 'the ticker pod running');
      const follow = spawnKubectl(mesh, ['logs', '-f', ticker, '-n', 'ticker'], { bin });
      try {
        const started = Date.now();
        const later = await eventually(async () => {
          const ticks = [...follow.stdout().matchAll(/^tick (\d+)$/gm)].map((m) => Number(m[1]));
          return ticks.find((t) => t > started + 300);
        }, 20_000, `a tick written after logs -f started (stdout: ${follow.stdout().slice(-200)}, stderr: ${follow.stderr()})`);
        assert.ok(later > started);
        assert.equal(follow.child.exitCode, null, 'logs -f is still following');
      } finally {
        await follow.stop();
      }
    });

    it('exec -- sh -c \'exit 3\': the exit code reaches kubectl', async () => {
      const r = await k(['exec', pod, '-n', NS, '-c', 'httpbin', '--', 'sh', '-c', 'echo out; exit 3'], { timeoutMs: 60_000 });
      // kubectl (1.20 and 1.33 alike) exits with the remote command's code and says so on stderr.
      assert.equal(r.code, 3, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
      assert.equal(r.stdout, 'out\n');
      assert.match(r.stderr, /command terminated with exit code 3/);
    });

    it('exec -i passes stdin: echo hi | kubectl exec -i POD -- cat', async () => {
      const r = await k(['exec', '-i', pod, '-n', NS, '-c', 'httpbin', '--', 'cat'], { input: 'hi\n', timeoutMs: 60_000 });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'hi\n');
    });

    it('get --raw …/pods/POD:15000/proxy/config_dump returns the sidecar\'s config', async () => {
      const out = await ok(['get', '--raw', `/api/v1/namespaces/${NS}/pods/${pod}:15000/proxy/config_dump`]);
      const dump = JSON.parse(out) as { Spec?: { ServiceIdentity?: string } };
      assert.equal(dump.Spec?.ServiceIdentity, `httpbin.${NS}`);
    });

    it('get crd lists the mesh CRDs', async () => {
      const [head, ...rows] = lines(await ok(['get', 'crd']));
      assert.deepEqual(cols(head!), ['NAME', 'CREATED AT']);
      const names = rows.map((r) => cols(r)[0]);
      for (const crd of ['plugins.plugin.flomesh.io', 'pluginchains.plugin.flomesh.io', 'pluginconfigs.plugin.flomesh.io', 'traffictargets.access.smi-spec.io', 'authorizationpolicies.security.istio.io']) {
        assert.ok(names.includes(crd), `${crd} in ${names.join(', ')}`);
      }
    });

    it('api-resources lists pluginchains in group plugin.flomesh.io', async () => {
      const out = await ok(['api-resources']);
      assert.deepEqual(cols(lines(out)[0]!), ['NAME', 'SHORTNAMES', 'APIVERSION', 'NAMESPACED', 'KIND']);
      assert.match(out, /^pluginchains\s+\S+\s+plugin\.flomesh\.io\/v1alpha1\s+true\s+PluginChain$/m);
      assert.match(out, /^pods\s+po\s+v1\s+true\s+Pod$/m);
      assert.match(out, /^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);
      const group = await ok(['api-resources', '--api-group=plugin.flomesh.io', '-o', 'name']);
      assert.deepEqual(lines(group).sort(), ['pluginchains.plugin.flomesh.io', 'pluginconfigs.plugin.flomesh.io', 'plugins.plugin.flomesh.io']);
    });

    it('explain pods (from /openapi/v2 for 1.20, /openapi/v3 for newer kubectl)', async () => {
      const out = await ok(['explain', 'pods']);
      assert.match(out, /KIND:\s+Pod/);
      assert.match(out, /VERSION:\s+v1/);
      assert.match(out, /spec\s/);
    });

    it('patch: strategic merge, JSON merge and JSON patch, each read back', async () => {
      // strategic merge: containers merge by name, so httpbin keeps its command and gains an env var
      assert.equal((await ok(['patch', 'deploy', 'httpbin', '-n', NS, '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"httpbin","env":[{"name":"PATCHED","value":"strategic"}]}]}}}}'])).trim(), 'deployment.apps/httpbin patched');
      const containers = JSON.parse(await ok(['get', 'deploy', 'httpbin', '-n', NS, '-o', 'jsonpath={.spec.template.spec.containers}'])) as { name: string; command?: string[]; env?: { name: string; value: string }[] }[];
      assert.equal(containers.length, 1);
      assert.equal(containers[0]!.name, 'httpbin');
      assert.equal(containers[0]!.command?.[0], 'gunicorn');
      assert.deepEqual(containers[0]!.env, [{ name: 'PATCHED', value: 'strategic' }]);
      // JSON merge patch (RFC 7386): maps merge, null removes
      assert.equal((await ok(['patch', 'deploy', 'httpbin', '-n', NS, '--type', 'merge', '-p', '{"metadata":{"labels":{"patched":"merge","changed":null}}}'])).trim(), 'deployment.apps/httpbin patched');
      const labels = JSON.parse(await ok(['get', 'deploy', 'httpbin', '-n', NS, '-o', 'jsonpath={.metadata.labels}'])) as Record<string, string>;
      assert.equal(labels['patched'], 'merge');
      assert.equal(labels['changed'], undefined);
      // JSON patch (RFC 6902)
      assert.equal((await ok(['patch', 'deploy', 'httpbin', '-n', NS, '--type', 'json', '-p', '[{"op":"add","path":"/metadata/labels/json","value":"patch"},{"op":"test","path":"/spec/replicas","value":1}]'])).trim(), 'deployment.apps/httpbin patched');
      assert.equal(await ok(['get', 'deploy', 'httpbin', '-n', NS, '-o', 'jsonpath={.metadata.labels.json}']), 'patch');
      const failed = await k(['patch', 'deploy', 'httpbin', '-n', NS, '--type', 'json', '-p', '[{"op":"test","path":"/spec/replicas","value":7}]']);
      assert.notEqual(failed.code, 0, 'a failing JSON patch test op is refused');
      // the strategic patch changed the pod template: a new pod replaces the old one
      [pod] = await settled(1, 'the patched deployment\'s pod');
      assert.equal(await ok(['get', 'pod', pod, '-n', NS, '-o', 'jsonpath={.spec.containers[0].env[0].value}']), 'strategic');
    });

    it('rollout restart deploy: new pods replace the old ones', async () => {
      const before = (await pods()).map((p) => p.metadata.name);
      assert.equal((await ok(['rollout', 'restart', 'deploy', 'httpbin', '-n', NS])).trim(), 'deployment.apps/httpbin restarted');
      assert.match(await ok(['get', 'deploy', 'httpbin', '-n', NS, '-o', 'jsonpath={.spec.template.metadata.annotations}']), /kubectl\.kubernetes\.io\/restartedAt/);
      const after = await eventually(async () => {
        const names = await settled(1, 'one pod');
        return names.every((n) => !before.includes(n)) && names;
      }, 120_000, 'new pods');
      assert.equal(after.length, 1);
      assert.match(await ok(['rollout', 'status', 'deploy', 'httpbin', '-n', NS, '--timeout=60s'], { timeoutMs: 90_000 }), /successfully rolled out/);
      pod = after[0]!;
    });

    it('scale --replicas=2: two pods', async () => {
      assert.equal((await ok(['scale', 'deploy', 'httpbin', '-n', NS, '--replicas=2'])).trim(), 'deployment.apps/httpbin scaled');
      const names = await settled(2, 'two ready httpbin pods');
      assert.equal(new Set(names).size, 2);
      assert.equal(await ok(['get', 'deploy', 'httpbin', '-n', NS, '-o', 'jsonpath={.spec.replicas} {.status.readyReplicas}']), '2 2');
    });

    it('delete -f of the sample deletes what it created', async () => {
      const out = await ok(['delete', '-n', NS, '-f', HTTPBIN], { timeoutMs: 120_000 });
      const deleted = lines(out);
      assert.equal(deleted.length, 3, out);
      assert.match(deleted[0]!, /^serviceaccount "httpbin" deleted/);
      assert.match(deleted[1]!, /^service "httpbin" deleted/);
      assert.match(deleted[2]!, /^deployment\.apps "httpbin" deleted/);
      const gone = await k(['get', 'deploy', 'httpbin', '-n', NS]);
      assert.notEqual(gone.code, 0);
      assert.match(gone.stderr, /Error from server \(NotFound\): deployments\.apps "httpbin" not found/);
    });

    it('delete -f: the deployment\'s pods are garbage-collected', async () => {
      await eventually(async () => (await pods()).length === 0, 60_000, 'no httpbin pods left');
    });
  });
}

describe('Kubernetes API protocol edge cases (raw HTTPS, kubeconfig credentials)', { timeout: 300_000 }, () => {
  let mesh: TestMesh;
  const api = () => kubeApi(mesh);
  const CM = '/api/v1/namespaces/default/configmaps';
  const CHAINS = '/apis/plugin.flomesh.io/v1alpha1/namespaces/default/pluginchains';
  const chain = (name: string, chainName: string) => ({
    apiVersion: 'plugin.flomesh.io/v1alpha1',
    kind: 'PluginChain',
    metadata: { name, namespace: 'default' },
    spec: { chains: [{ name: chainName, plugins: ['token-injector'] }], selectors: { podSelector: { matchLabels: { app: 'curl' } } } },
  });

  before(async () => {
    mesh = await startKubectlMesh();
  });
  after(async () => {
    await mesh?.stop();
  });

  it('401 Unauthorized Status without credentials', async () => {
    const r = await api().request('GET', '/api/v1/namespaces', { credentials: false });
    assert.equal(r.status, 401, r.text);
    assert.equal(r.json?.kind, 'Status');
    assert.equal(r.json?.reason, 'Unauthorized');
    assert.equal(r.json?.code, 401);
  });

  it('404 NotFound Status for a missing pod', async () => {
    const r = await api().request('GET', '/api/v1/namespaces/default/pods/no-such-pod');
    assert.equal(r.status, 404, r.text);
    assert.equal(r.json?.kind, 'Status');
    assert.equal(r.json?.status, 'Failure');
    assert.equal(r.json?.reason, 'NotFound');
    assert.equal(r.json?.message, 'pods "no-such-pod" not found');
    assert.equal(r.json?.details?.name, 'no-such-pod');
    assert.equal(r.json?.details?.kind, 'pods');
  });

  it('404 details are exactly kube-apiserver\'s: {name, kind}, no empty group', async () => {
    const r = await api().request('GET', '/api/v1/namespaces/default/pods/no-such-pod');
    assert.deepEqual(r.json?.details, { name: 'no-such-pod', kind: 'pods' });
  });

  it('409 Conflict on an update with a stale resourceVersion', async () => {
    const created = await api().request('POST', CM, { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'stale' }, data: { a: '1' } } });
    assert.equal(created.status, 201, created.text);
    const stale = created.json as { metadata: { resourceVersion: string }; data: Record<string, string> };
    const fresh = await api().request('PUT', `${CM}/stale`, { body: { ...stale, data: { a: '2' } } });
    assert.equal(fresh.status, 200, fresh.text);
    assert.notEqual(fresh.json.metadata.resourceVersion, stale.metadata.resourceVersion);
    const r = await api().request('PUT', `${CM}/stale`, { body: { ...stale, data: { a: '3' } } });
    assert.equal(r.status, 409, r.text);
    assert.equal(r.json?.kind, 'Status');
    assert.equal(r.json?.reason, 'Conflict');
    assert.match(r.json?.message, /Operation cannot be fulfilled on configmaps "stale": the object has been modified; please apply your changes to the latest version and try again/);
    assert.equal((await api().request('GET', `${CM}/stale`)).json?.data?.a, '2', 'the stale update changed nothing');
  });

  it('422 Invalid with details.causes[].field for a bad PluginChain, and nothing stored', async () => {
    const r = await api().request('POST', CHAINS, { body: chain('bad-chain', 'outbound-htp') });
    assert.equal(r.status, 422, r.text);
    assert.equal(r.json?.kind, 'Status');
    assert.equal(r.json?.reason, 'Invalid');
    assert.equal(r.json?.details?.name, 'bad-chain');
    assert.equal(r.json?.details?.kind, 'PluginChain');
    const causes = (r.json?.details?.causes ?? []) as { field: string; message: string; reason?: string }[];
    const cause = causes.find((c) => c.field === 'spec.chains[0].name');
    assert.ok(cause, `a cause for spec.chains[0].name in ${JSON.stringify(causes)}`);
    assert.match(cause.message, /outbound-htp/);
    assert.match(r.json?.message, /PluginChain\.plugin\.flomesh\.io "bad-chain" is invalid: spec\.chains\[0\]\.name/);
    assert.equal((await api().request('GET', `${CHAINS}/bad-chain`)).status, 404);
  });

  it('415 UnsupportedMediaType for a strategic merge patch on a custom resource', async () => {
    const group = await api().request('GET', '/apis/config.flomesh.io');
    assert.equal(group.status, 200, group.text);
    const meshConfig = `/apis/${group.json.preferredVersion.groupVersion}/namespaces/fsm-system/meshconfigs/fsm-mesh-config`;
    const enable = { spec: { featureFlags: { enablePluginPolicy: true } } };
    const r = await api().request('PATCH', meshConfig, { body: enable, contentType: 'application/strategic-merge-patch+json' });
    assert.equal(r.status, 415, r.text);
    assert.equal(r.json?.kind, 'Status');
    assert.equal(r.json?.reason, 'UnsupportedMediaType');
    assert.equal(r.json?.code, 415);
    // kube-apiserver's words: the media types a custom resource accepts (apply-patch only with server-side apply)
    assert.match(r.json?.message, /^the body of the request was in an unknown format - accepted media types include: application\/json-patch\+json, application\/merge-patch\+json/);
    // the same change as a JSON merge patch is accepted
    const merge = await api().request('PATCH', meshConfig, { body: enable, contentType: 'application/merge-patch+json' });
    assert.equal(merge.status, 200, merge.text);
    assert.equal(merge.json.spec.featureFlags.enablePluginPolicy, true);
    // and a PluginChain (now allowed) refuses it too, and takes a merge patch that replaces its list
    const created = await eventually(async () => {
      const c = await api().request('POST', CHAINS, { body: chain('good-chain', 'outbound-http') });
      return c.status === 201 && c;
    }, 15_000, 'a PluginChain created once plugin policy is enabled');
    assert.equal(created.json.spec.chains[0].name, 'outbound-http');
    const body = { spec: { chains: [{ name: 'inbound-http', plugins: ['token-injector'] }] } };
    const smp = await api().request('PATCH', `${CHAINS}/good-chain`, { body, contentType: 'application/strategic-merge-patch+json' });
    assert.equal(smp.status, 415, smp.text);
    assert.equal(smp.json?.reason, 'UnsupportedMediaType');
    const chainMerge = await api().request('PATCH', `${CHAINS}/good-chain`, { body, contentType: 'application/merge-patch+json' });
    assert.equal(chainMerge.status, 200, chainMerge.text);
    assert.deepEqual(chainMerge.json.spec.chains, body.spec.chains);
  });

  it('410: a watch from a compacted resourceVersion ends with an ERROR event, code 410', async () => {
    // Compaction runs every minute and keeps the last 1000 revisions, too slow to reach through the
    // API in a test. The store is a SQLite file a second process may open (WAL, busy timeout), so
    // the test compacts the daemon's own store.db, then watches through the daemon's API.
    for (let i = 0; i < 5; i++) {
      const c = await api().request('POST', CM, { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `churn-${i}` } } });
      assert.equal(c.status, 201, c.text);
      assert.equal((await api().request('DELETE', `${CM}/churn-${i}`)).status, 200);
    }
    const list = await api().request('GET', CM);
    const rv = Number(list.json.metadata.resourceVersion);
    assert.ok(rv > 10, `resourceVersion ${rv}`);
    const store = openStore(mesh.stateDir, { compactEvery: 0 });
    try {
      store.compact(2);
      assert.ok(store.compactedRevision >= rv - 2, `compacted up to ${store.compactedRevision}`);
    } finally {
      store.close();
    }
    const r = await api().request('GET', `${CM}?watch=true&resourceVersion=1&timeoutSeconds=5`);
    assert.equal(r.status, 200, r.text);
    const events = watchEvents(r.text);
    assert.equal(events.length, 1, r.text);
    assert.equal(events[0]!.type, 'ERROR');
    assert.equal(events[0]!.object.kind, 'Status');
    assert.equal(events[0]!.object.code, 410);
    assert.equal(events[0]!.object.reason, 'Expired');
    assert.match(events[0]!.object.message, /too old resource version: 1 \(\d+\)/);
    // a watch from the list's revision still works
    const ok = await api().request('GET', `${CM}?watch=true&resourceVersion=${rv}&timeoutSeconds=1`);
    assert.equal(ok.status, 200);
    assert.deepEqual(watchEvents(ok.text).filter((e) => e.type === 'ERROR'), []);
  });
});
