/** End-to-end tests of the local API server through the mesh's Kubernetes client over real HTTPS. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod } from '../../api/types.js';
import { isMeshError, type MeshErrorCode } from '../../lib/errors.js';
import { stateFiles } from '../layout.js';
import { writeMeshFile } from '../mesh-file.js';
import { ensureClusterPki, writeKubeconfig } from '../pki/index.js';
import { configMap, deploymentDoc, doc, ns, startTestMesh } from './api-fixtures.js';
import { connectMesh } from '../client/index.js';

async function rejectsWith(p: Promise<unknown>, code: MeshErrorCode, message?: string | RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isMeshError(e), `expected a MeshError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (typeof message === 'string') assert.equal(e.message, message);
    else if (message) assert.match(e.message, message);
    return true;
  });
}

/** Polls until fn returns a truthy value. */
async function eventually<T>(fn: () => T | undefined, ms = 3000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('every API path but health and version requires credentials (401 Status otherwise)', async (t) => {
  const mesh = await startTestMesh(t);
  assert.equal((await mesh.transport.fetch(`${mesh.url}/readyz`)).status, 200);
  for (const headers of [{}, { authorization: 'Bearer wrong' }] as Record<string, string>[]) {
    const res = await mesh.transport.fetch(`${mesh.url}/api/v1/pods`, { headers });
    assert.equal(res.status, 401);
    const body = (await res.json()) as { kind: string; reason: string };
    assert.deepEqual([body.kind, body.reason], ['Status', 'Unauthorized']);
  }
  const ok = await mesh.transport.fetch(`${mesh.url}/api/v1/pods`, { headers: { authorization: `Bearer ${mesh.token}` } });
  assert.equal(ok.status, 200);
  assert.equal(((await ok.json()) as { kind: string }).kind, 'PodList');
});

test('apply is all or none: one bad document stores nothing', async (t) => {
  const { api, store } = await startTestMesh(t, { controllers: false });
  const revisionBefore = store.revision;
  const bad = doc({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'bad', namespace: 'demo' }, spec: { invalid: 1 } });
  await rejectsWith(api.apply([ns('demo'), configMap('good', 'demo'), bad], {}), 'MESH_ERR_MANIFEST_INVALID', /spec\.invalid/);
  await rejectsWith(api.apply([ns('demo2'), deploymentDoc('web', 'demo2', 1, 'unknown/image')], {}), 'MESH_ERR_IMAGE_UNSUPPORTED', /^Deployment demo2\/web: /);
  // A batch refused after its namespace was created undoes it: the namespace is being deleted
  // (no namespace controller runs here to finish that) and nothing else was stored.
  assert.ok(store.revision >= revisionBefore);
  assert.ok(store.list('Namespace').every((n) => n.metadata.deletionTimestamp !== undefined));
  assert.equal(store.list('Deployment').length, 0);
  assert.equal(store.list('ConfigMap').length, 0);
});

test('apply reports created, unchanged and configured; refuses pods and missing namespaces', async (t) => {
  const { api } = await startTestMesh(t);
  const first = await api.apply([ns('demo'), configMap('cm', 'demo', { app: 'a' })], {});
  assert.deepEqual(first, [
    { kind: 'Namespace', name: 'demo', action: 'created' },
    { kind: 'ConfigMap', name: 'cm', namespace: 'demo', action: 'created' },
  ]);
  const again = await api.apply([configMap('cm', 'demo', { app: 'a' })], {});
  assert.equal(again[0]!.action, 'unchanged');
  const changed = await api.apply([configMap('cm', 'demo', { app: 'b' })], {});
  assert.equal(changed[0]!.action, 'configured');
  await rejectsWith(api.apply([configMap('x', 'nope')], {}), 'MESH_ERR_NOT_FOUND', 'namespaces "nope" not found');
});

test('a pod written through the API: admitted, given an address from the block; what it may not claim is refused', async (t) => {
  const { api, store, block } = await startTestMesh(t);
  await api.apply([ns('demo')], {});
  const pod = (name: string, spec: Record<string, unknown>, annotations?: Record<string, string>) =>
    doc({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'demo', ...(annotations ? { annotations } : {}) }, spec });
  const [created] = await api.apply([pod('p', { containers: [{ name: 'app', image: 'kennethreitz/httpbin' }] })], {});
  assert.equal(created!.action, 'created');
  const stored = store.get({ kind: 'Pod', namespace: 'demo', name: 'p' }) as Pod;
  assert.match(stored.status!.podIP!, new RegExp(`^127\\.${block}\\.\\d+\\.\\d+$`), 'an address of the block');
  assert.equal(stored.spec?.serviceAccountName, 'default', 'defaulted as the ServiceAccount admission plugin does');
  assert.equal(stored.metadata.annotations?.['local.tessera.dev/app-address'], stored.status!.podIP, 'no sidecar: the app owns the pod IP');
  // fail closed: refused at the edge, never dropped and stored
  await rejectsWith(api.apply([pod('host', { hostNetwork: true, containers: [{ name: 'app', image: 'kennethreitz/httpbin' }] })], {}), 'MESH_ERR_FORBIDDEN', /spec\.hostNetwork: pods in local mode share no namespace with the host/);
  await rejectsWith(api.apply([pod('hostpath', { volumes: [{ name: 'etc', hostPath: { path: '/etc' } }], containers: [{ name: 'app', image: 'kennethreitz/httpbin' }] })], {}), 'MESH_ERR_FORBIDDEN', /spec\.volumes\[0\]\.hostPath: pods in local mode get no host paths/);
  await rejectsWith(api.apply([pod('addr', { containers: [{ name: 'app', image: 'kennethreitz/httpbin' }] }, { 'local.tessera.dev/app-address': stored.status!.podIP! })], {}), 'MESH_ERR_FORBIDDEN', /a pod may not name one/);
  await rejectsWith(api.apply([pod('sidecar', { containers: [{ name: 'sidecar', image: 'tessera/sidecar' }] })], {}), 'MESH_ERR_FORBIDDEN', /the sidecar is added by injection/);
  await rejectsWith(api.apply([pod('ctl', { containers: [{ name: 'c', image: 'tessera/controller' }] })], {}), 'MESH_ERR_FORBIDDEN', /control-plane images run only in namespace tessera-system/);
  // the install's images run on the host too: only in an install's <mesh>-system namespace
  await rejectsWith(api.apply([pod('installed', { containers: [{ name: 'c', image: 'tessera/tessera-controller:0.1.0' }] })], {}), 'MESH_ERR_FORBIDDEN', /spec\.containers\[0\]\.image: "tessera\/tessera-controller:0\.1\.0": a Tessera install's component images run only in its <mesh>-system namespace/);
  await rejectsWith(api.apply([pod('img', { containers: [{ name: 'c', image: 'unknown/image' }] })], {}), 'MESH_ERR_IMAGE_UNSUPPORTED', /no local runtime/);
  assert.deepEqual(store.list('Pod', 'demo').map((p) => p.metadata.name), ['p']);
  // a second pod: the next free address
  await api.apply([pod('q', { containers: [{ name: 'app', image: 'kennethreitz/httpbin' }] })], {});
  const q = store.get({ kind: 'Pod', namespace: 'demo', name: 'q' }) as Pod;
  assert.notEqual(q.status!.podIP, stored.status!.podIP);
  // what a pod runs does not change after creation
  const changed = pod('q', { containers: [{ name: 'app', image: 'kennethreitz/httpbin', args: ['x'] }] });
  await rejectsWith(api.apply([changed], {}), 'MESH_ERR_FORBIDDEN', /pod updates may not change fields other than its labels and annotations/);
});

test('a re-applied Service keeps the cluster IP the controller gave it', async (t) => {
  const { api, store } = await startTestMesh(t);
  const svc = () => doc({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'default' }, spec: { ports: [{ port: 80 }] } });
  await eventually(() => store.get({ kind: 'Namespace', name: 'default' }));
  await api.apply([svc()], {});
  const ip = await eventually(() => (store.get({ kind: 'Service', namespace: 'default', name: 's' })!.spec as { clusterIP?: string }).clusterIP);
  const [r] = await api.apply([svc()], {});
  assert.equal(r!.action, 'unchanged');
  assert.equal((store.get({ kind: 'Service', namespace: 'default', name: 's' })!.spec as { clusterIP?: string }).clusterIP, ip);
});

test('plugin kinds need the mesh config flag; plugin scripts must compile', async (t) => {
  const { api } = await startTestMesh(t);
  const plugin = (script: string) => doc({ apiVersion: 'plugin.flomesh.io/v1alpha1', kind: 'Plugin', metadata: { name: 'token-injector' }, spec: { script, priority: 115 } });
  await rejectsWith(api.apply([plugin('export default {}')], {}), 'MESH_ERR_PLUGIN_POLICY_DISABLED',
    /^FSM is prohibited to apply plugin policy: .*enable spec\.featureFlags\.enablePluginPolicy in MeshConfig tessera-mesh-config/);
  const meshConfig = doc({
    apiVersion: 'config.flomesh.io/v1alpha3', kind: 'MeshConfig', metadata: { name: 'tessera-mesh-config', namespace: 'tessera-system' },
    spec: { featureFlags: { enablePluginPolicy: true } },
  });
  await rejectsWith(api.apply([ns('tessera-system'), meshConfig, plugin('syntax error')], {}), 'MESH_ERR_PLUGIN_COMPILE', /plugins\/token-injector\.ts:1:1/);
  const results = await api.apply([ns('tessera-system'), meshConfig, plugin('export default {}')], {});
  assert.deepEqual(results.map((r) => r.action), ['created', 'created', 'created']);
});

test('plugin kinds on an API two meshes share: judged by the MeshConfig of the mesh monitoring the namespace', async (t) => {
  const { api } = await startTestMesh(t);
  const labelled = (name: string, mesh: string) => doc({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'flomesh.io/monitored-by': mesh } } });
  const chain = (namespace: string) => doc({
    apiVersion: 'plugin.flomesh.io/v1alpha1', kind: 'PluginChain', metadata: { name: 'chain', namespace },
    spec: { chains: [{ name: 'inbound-http', plugins: ['p'] }], selectors: { podSelector: { matchLabels: { app: 'a' } } } },
  });
  const plugin = doc({ apiVersion: 'plugin.flomesh.io/v1alpha1', kind: 'Plugin', metadata: { name: 'p' }, spec: { script: 'export default {}', priority: 1 } });
  // fsm installed beside the local mesh tessera, plugin policy on in fsm's MeshConfig only
  await api.apply([ns('fsm-system'), doc({
    apiVersion: 'config.flomesh.io/v1alpha3', kind: 'MeshConfig', metadata: { name: 'fsm-mesh-config', namespace: 'fsm-system' },
    spec: { featureFlags: { enablePluginPolicy: true } },
  }), labelled('app', 'fsm'), labelled('mine', 'tessera'), ns('plain')], {});
  const results = await api.apply([plugin, chain('app')], {});
  assert.deepEqual(results.map((r) => r.action), ['created', 'created'], 'fsm\'s MeshConfig admits a Plugin and the PluginChain of its namespace');
  for (const where of ['mine', 'plain']) {
    await rejectsWith(api.apply([chain(where)], {}), 'MESH_ERR_PLUGIN_POLICY_DISABLED',
      new RegExp(`^FSM is prohibited to apply plugin policy: PluginChain ${where}/chain refused; enable spec\\.featureFlags\\.enablePluginPolicy in MeshConfig tessera-mesh-config \\(namespace tessera-system\\)$`));
  }
});

test('get and list: label selectors, namespaces, kind names, kubectl wording for missing objects', async (t) => {
  const { api } = await startTestMesh(t);
  await api.apply([ns('a'), ns('b'), configMap('one', 'a', { app: 'x', tier: 'web' }), configMap('two', 'a', { app: 'y' }), configMap('three', 'b', { app: 'x' })], {});
  const names = (rs: { metadata: { name: string } }[]) => rs.map((r) => r.metadata.name).sort();
  assert.deepEqual(names(await api.list({ kind: 'cm', namespace: 'a' })), ['one', 'two']);
  assert.deepEqual(names(await api.list({ kind: 'configmaps', allNamespaces: true, labelSelector: 'app=x' })), ['one', 'three']);
  assert.deepEqual(names(await api.list({ kind: 'ConfigMap', namespace: 'a', labelSelector: 'app in (x,y),tier!=web' })), ['two']);
  assert.deepEqual(names(await api.list({ kind: 'configmap', namespace: 'a', name: 'two' })), ['two']);
  assert.deepEqual(await api.list({ kind: 'configmap' }), [], 'namespace defaults to default');
  assert.equal((await api.get('configmap', 'one', 'a')).metadata.labels?.tier, 'web');
  assert.ok((await api.list({ kind: 'ns' })).length >= 2);
  await rejectsWith(api.get('configmap', 'zzz', 'a'), 'MESH_ERR_NOT_FOUND', 'configmaps "zzz" not found');
  await rejectsWith(api.list({ kind: 'widgets' }), 'MESH_ERR_KIND_UNKNOWN', 'the server doesn\'t have a resource type "widgets"');
  await rejectsWith(api.list({ kind: 'pods', labelSelector: 'a=(' }), 'MESH_ERR_USAGE');
});

test('patch applies a JSON merge patch and re-validates', async (t) => {
  const { api } = await startTestMesh(t);
  await api.apply([ns('demo'), configMap('cm', 'demo', { app: 'x', drop: 'me' }, { k: 'v' })], {});
  const r = await api.patch('configmap', 'cm', 'demo', { metadata: { labels: { drop: null, added: 'yes' } }, data: { k2: 'v2' } });
  assert.deepEqual(r, { kind: 'ConfigMap', name: 'cm', namespace: 'demo', action: 'patched' });
  const cm = await api.get('configmap', 'cm', 'demo');
  assert.deepEqual(cm.metadata.labels, { app: 'x', added: 'yes' });
  assert.deepEqual(cm.data, { k: 'v', k2: 'v2' });
  assert.equal((await api.patch('configmap', 'cm', 'demo', { data: { k: 'v' } })).action, 'unchanged');
  await rejectsWith(api.patch('configmap', 'cm', 'demo', { spec: { invalid: true } }), 'MESH_ERR_MANIFEST_INVALID');
  // Kubernetes answers a patch that renames the object with 400 BadRequest.
  await rejectsWith(api.patch('configmap', 'cm', 'demo', { metadata: { name: 'other' } }), 'MESH_ERR_USAGE', /does not match the name on the URL/);
  await rejectsWith(api.patch('configmap', 'nope', 'demo', {}), 'MESH_ERR_NOT_FOUND', 'configmaps "nope" not found');
});

test('delete: kubectl wording, ignoreNotFound, delete by documents all or none', async (t) => {
  const { api } = await startTestMesh(t);
  await api.apply([ns('demo'), configMap('a', 'demo'), configMap('b', 'demo')], {});
  await rejectsWith(api.delete('pod', 'x', 'demo'), 'MESH_ERR_NOT_FOUND', 'pods "x" not found');
  assert.equal((await api.delete('pod', 'x', 'demo', { ignoreNotFound: true })).action, 'unchanged');
  await rejectsWith(api.deleteDocuments([configMap('a', 'demo'), configMap('c', 'demo')], {}), 'MESH_ERR_NOT_FOUND', 'configmaps "c" not found');
  assert.equal((await api.list({ kind: 'cm', namespace: 'demo' })).length, 2, 'nothing deleted');
  const deleted = await api.deleteDocuments([configMap('a', 'demo'), configMap('c', 'demo')], { ignoreNotFound: true });
  assert.deepEqual(deleted, [{ kind: 'ConfigMap', name: 'a', namespace: 'demo', action: 'deleted' }]);
  assert.deepEqual(await api.delete('cm', 'b', 'demo'), { kind: 'ConfigMap', name: 'b', namespace: 'demo', action: 'deleted' });
  await rejectsWith(api.delete('ns', 'default', undefined), 'MESH_ERR_FORBIDDEN');
});

/** Plays the pod runtime: marks pods Ready shortly after they appear. */
function markPodsReady(store: import('../store/index.js').ResourceStore): () => void {
  return store.watch((e) => {
    if (e.type !== 'ADDED' || e.object.kind !== 'Pod') return;
    const p = e.object as Pod;
    setTimeout(() => store.updateStatus({ kind: 'Pod', namespace: p.metadata.namespace, name: p.metadata.name },
      { ...p.status, phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] }), 20);
  });
}

test('wait: ready pods, available deployments, deletion, and a clear timeout', async (t) => {
  const { api, store } = await startTestMesh(t);
  t.after(markPodsReady(store));
  await api.apply([ns('demo'), deploymentDoc('web', 'demo', 2)], {});
  const ready = await api.wait({ kind: 'pod', namespace: 'demo', labelSelector: 'app=web' }, 'condition=ready', 5000);
  assert.equal(ready.length, 2);
  const [d] = await api.wait({ kind: 'deploy', namespace: 'demo', name: 'web' }, 'condition=available', 5000);
  assert.equal(d!.metadata.name, 'web');
  await rejectsWith(api.wait({ kind: 'pod', namespace: 'demo', labelSelector: 'app=none' }, 'ready', 100), 'MESH_ERR_TIMEOUT', /no pods matching "app=none"/);
  await rejectsWith(api.wait({ kind: 'pod', namespace: 'demo' }, 'condition=Initialized', 100), 'MESH_ERR_TIMEOUT', /on pods\/web-/);
  await rejectsWith(api.wait({ kind: 'pod', namespace: 'demo' }, 'for what?', 100), 'MESH_ERR_USAGE');
  const gone = api.wait({ kind: 'pod', namespace: 'demo', labelSelector: 'app=web' }, 'delete', 5000);
  await api.delete('deployment', 'web', 'demo');
  assert.deepEqual(await gone, []);
});

test('rollout restart replaces the pods', async (t) => {
  const { api, store } = await startTestMesh(t);
  t.after(markPodsReady(store));
  await api.apply([ns('demo'), deploymentDoc('web', 'demo', 1)], {});
  const [before] = await api.wait({ kind: 'pod', namespace: 'demo' }, 'ready', 5000);
  assert.equal((await api.rolloutRestart('deploy', 'web', 'demo')).action, 'patched');
  await eventually(() => {
    const ps = store.list('Pod', 'demo');
    return ps.length === 1 && ps[0]!.metadata.name !== before!.metadata.name;
  });
  await rejectsWith(api.rolloutRestart('configmap', 'x', 'demo'), 'MESH_ERR_USAGE');
});

test('a watch from a resourceVersion streams one event per change after it', async (t) => {
  const { api, url, token, transport } = await startTestMesh(t, { controllers: false });
  await api.apply([ns('demo'), configMap('a', 'demo')], {});
  const list = (await (await transport.fetch(`${url}/api/v1/namespaces/demo/configmaps`, { headers: { authorization: `Bearer ${token}` } })).json()) as { metadata: { resourceVersion: string } };
  const abort = new AbortController();
  t.after(() => abort.abort());
  const res = await transport.fetch(`${url}/api/v1/namespaces/demo/configmaps?watch=true&resourceVersion=${list.metadata.resourceVersion}`, { headers: { authorization: `Bearer ${token}` }, signal: abort.signal });
  assert.equal(res.headers.get('content-type'), 'application/json');
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const nextEvent = async (): Promise<{ type: string; object: any }> => {
    for (;;) {
      const nl = buffer.indexOf('\n');
      if (nl >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        return JSON.parse(line);
      }
      const { value, done } = await reader.read();
      if (done) throw new Error('stream ended');
      buffer += decoder.decode(value, { stream: true });
    }
  };
  await api.apply([configMap('b', 'demo')], {});
  const change = await nextEvent();
  assert.equal(change.type, 'ADDED');
  assert.equal(change.object.metadata.name, 'b');
  assert.equal(Number(change.object.metadata.resourceVersion), Number(list.metadata.resourceVersion) + 1);
});

test('pod info, logs and the sidecar admin relay', async (t) => {
  const { api, store, stateDir, block } = await startTestMesh(t);
  await api.apply([
    ns('plain'),
    ns('meshed', { 'flomesh.io/monitored-by': 'tessera' }, { 'flomesh.io/sidecar-injection': 'enabled' }),
    deploymentDoc('app', 'plain'), deploymentDoc('app', 'meshed'),
  ], {});
  const plainPod = await eventually(() => store.list('Pod', 'plain')[0]);
  const meshedPod = await eventually(() => store.list('Pod', 'meshed')[0]);

  const plain = await api.podInfo('plain', plainPod.metadata.name);
  assert.equal(plain.proxyUrl, undefined);
  assert.equal(plain.env.http_proxy, undefined);
  assert.deepEqual(plain.containers, ['app']);
  const info = await api.podInfo('meshed', meshedPod.metadata.name);
  const podIP = (meshedPod as Pod).status!.podIP!;
  assert.match(podIP, new RegExp(`^127\\.${block}\\.1\\.\\d+$`));
  assert.equal(info.localIP, podIP.replace(/^(127\.\d+)\.1\./, '$1.65.'));
  assert.equal(info.proxyUrl, `http://${info.localIP}:15001`);
  assert.equal(info.adminUrl, `http://${podIP}:15000`);
  assert.deepEqual(info.env, {
    POD_NAME: meshedPod.metadata.name, POD_NAMESPACE: 'meshed', POD_IP: podIP, NO_PROXY: '', no_proxy: '',
    http_proxy: info.proxyUrl, HTTP_PROXY: info.proxyUrl,
    TESSERA_UPSTREAMS_FILE: join(stateFiles.podDir(stateDir, 'meshed', meshedPod.metadata.name), 'upstreams.json'),
  });
  assert.deepEqual(info.containers, ['app', 'sidecar']);

  const logDir = stateFiles.podDir(stateDir, 'meshed', meshedPod.metadata.name);
  mkdirSync(logDir, { recursive: true });
  writeFileSync(stateFiles.containerLog(stateDir, 'meshed', meshedPod.metadata.name, 'app'), 'app says hi\n');
  writeFileSync(stateFiles.containerLog(stateDir, 'meshed', meshedPod.metadata.name, 'sidecar'), 'sidecar log\n');
  assert.equal(await api.logs('meshed', meshedPod.metadata.name), 'app says hi\n');
  assert.equal(await api.logs('meshed', meshedPod.metadata.name, 'sidecar'), 'sidecar log\n');
  assert.equal(await api.logs('plain', plainPod.metadata.name), '', 'not started yet');
  await rejectsWith(api.logs('meshed', meshedPod.metadata.name, 'nope'), 'MESH_ERR_USAGE', /choose one of: \[app sidecar\]/);

  await rejectsWith(api.proxyGet('plain', plainPod.metadata.name, 'config_dump'), 'MESH_ERR_USAGE', /has no sidecar/);
  await rejectsWith(api.proxyGet('meshed', meshedPod.metadata.name, 'config_dump'), 'MESH_ERR_UPSTREAM', /error trying to reach pod/);
  // A stand-in sidecar admin server on the pod IP.
  const admin = createServer((req, res) => {
    res.writeHead(req.url === '/missing' ? 404 : 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ url: req.url }));
  });
  await new Promise<void>((r) => admin.listen(15000, podIP, r));
  t.after(() => new Promise<void>((r) => admin.close(() => r())));
  const relayed = await api.proxyGet('meshed', meshedPod.metadata.name, 'stats?format=json');
  assert.deepEqual(relayed, { status: 200, contentType: 'application/json', body: JSON.stringify({ url: '/stats?format=json' }) });
  const missing = await api.proxyGet('meshed', meshedPod.metadata.name, '/missing');
  assert.equal(missing.status, 404, 'sidecar statuses are relayed, not turned into errors');
});

test('status tolerates a control plane that is down', async (t) => {
  const down = await startTestMesh(t);
  await down.api.apply([ns('demo'), deploymentDoc('web', 'demo')], {});
  await eventually(() => down.store.list('Pod', 'demo')[0]);
  const s = await down.api.status();
  assert.equal(s.controlPlane.ready, false);
  assert.equal(s.meshName, 'tessera');
  assert.equal(s.apiUrl, down.url);
  assert.deepEqual(s.proxies, []);
  assert.equal(s.workloads.length, 1);
  assert.deepEqual({ ...s.workloads[0], name: undefined, podIP: undefined }, { namespace: 'demo', name: undefined, ready: '0/1', status: 'Pending', restarts: 0, podIP: undefined });

});

test('connectMesh finds the running mesh of a state dir, or says none is running', async (t) => {
  const mesh = await startTestMesh(t);
  const empty = mkdtempSync(join(tmpdir(), 'tessera-apiserver-test-'));
  t.after(() => rmSync(empty, { recursive: true, force: true }));
  await rejectsWith(connectMesh(empty), 'MESH_ERR_MESH_NOT_RUNNING', `no mesh is running in ${empty}: run \`tessera up\` first`);

  const meshFile = { meshName: 'tessera', block: mesh.block, apiUrl: mesh.url, apiToken: mesh.token, pid: process.pid, workdir: '.', startedAt: '' };
  writeMeshFile(mesh.stateDir, meshFile);
  const api = await connectMesh(mesh.stateDir);
  assert.deepEqual(await api.list({ kind: 'pods' }), []);
  // Someone else's server answering at the address written in this state dir does not count: its
  // certificate does not chain to this state dir's cluster CA, so nothing is sent to it.
  writeMeshFile(empty, meshFile);
  writeKubeconfig(empty, 'tessera', mesh.url, await ensureClusterPki(empty, 'tessera', ['127.0.0.1']));
  await rejectsWith(connectMesh(empty), 'MESH_ERR_MESH_NOT_RUNNING', /does not answer as this mesh/);
  // the CLI reads the API address from mesh.json (the kubeconfig only when pki/ lacks the admin
  // credentials): an address nothing answers at is a mesh that is not running
  writeMeshFile(mesh.stateDir, { ...meshFile, apiUrl: 'https://127.0.0.1:9' });
  await rejectsWith(connectMesh(mesh.stateDir), 'MESH_ERR_MESH_NOT_RUNNING', /does not answer/);
});

test('the mesh\'s own images: control-plane images only in <mesh>-system, the sidecar image only by injection', async (t) => {
  const { api } = await startTestMesh(t);
  await api.apply([ns('demo'), ns('tessera-system')], {});
  await rejectsWith(api.apply([deploymentDoc('fake-controller', 'demo', 1, 'tessera/controller:latest')], {}), 'MESH_ERR_FORBIDDEN',
    /spec\.template\.spec\.containers\[0\]\.image: "tessera\/controller:latest": the mesh's control-plane images run only in namespace tessera-system/);
  await rejectsWith(api.apply([deploymentDoc('fake-proxy', 'demo', 1, 'tessera/sidecar')], {}), 'MESH_ERR_FORBIDDEN', /the sidecar is added by injection/);
  await rejectsWith(api.apply([deploymentDoc('fake-proxy', 'tessera-system', 1, 'tessera/sidecar')], {}), 'MESH_ERR_FORBIDDEN', /the sidecar is added by injection/);
  const ok = await api.apply([deploymentDoc('controller', 'tessera-system', 1, 'tessera/controller:latest')], {});
  assert.equal(ok[0]!.action, 'created');
});
