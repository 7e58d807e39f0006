/**
 * Incremental recompute: a change compiles exactly the proxies it names (affected.ts), every other
 * proxy takes the new shared sections, and every proxy ends up with the version a full compile of
 * the same objects gives.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod, Resource, Service } from '../api/types.js';
import { buildCatalog, compileProxySnapshot, snapshotVersion } from '../snapshot/index.js';
import { input, meshConfig, meshedNamespace, pod, service } from '../snapshot/testdata/builders.js';
import { seedResources } from '../snapshot/testdata/seed-world.js';
import { Controller } from './controller.js';
import { ProxyRegistry } from './registry.js';

/** The seed world (curl, httpbin) and two namespaces of three services with one meshed pod each, permissive mode. */
function world(): { resources: Resource[]; services: Map<string, Service>; pods: Map<string, Pod> } {
  const resources = seedResources({ withoutPlugins: true }).filter((r) => r.kind !== 'MeshConfig');
  resources.push(meshConfig({ traffic: { enablePermissiveTrafficPolicyMode: true } }));
  const services = new Map<string, Service>();
  const pods = new Map<string, Pod>();
  let ip = 1;
  for (const ns of ['a', 'b']) {
    resources.push(meshedNamespace(ns));
    for (const i of [0, 1, 2]) {
      const name = `svc-${i}`;
      const s = service(ns, name, [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }], { app: name });
      const p = pod(ns, `${name}-0`, { labels: { app: name }, ip: `127.8.0.${ip++}`, serviceAccount: name, ports: [{ name: 'http', containerPort: 8080 }] });
      services.set(`${ns}/${name}`, s);
      pods.set(`${ns}/${name}-0`, p);
      resources.push(s, p);
    }
  }
  return { resources, services, pods };
}

async function started(resources: Resource[]): Promise<Controller> {
  const controller = new Controller('fsm', new ProxyRegistry(), { info: () => undefined, warn: () => undefined });
  controller.sync(resources);
  await controller.recompute();
  assert.equal(controller.lastCompiled, 'all');
  return controller;
}

/** Every proxy's version is what a full compile of the controller's objects gives. */
function assertAsFullCompile(controller: Controller): void {
  const catalog = buildCatalog(input(controller.resourcesNow()));
  for (const uuid of controller.proxyUuids()) {
    const p = controller.proxyPod(uuid)!;
    const full = compileProxySnapshot(catalog, p);
    assert.equal(controller.snapshotFor(uuid)?.version, full && snapshotVersion(full), `${p.namespace}/${p.name} is as a full compile gives`);
  }
}

const compiled = (c: Controller): string[] | 'all' => (c.lastCompiled === 'all' ? 'all' : [...c.lastCompiled].sort());

const authz = (ns: string): Resource => ({
  apiVersion: 'security.istio.io/v1',
  kind: 'AuthorizationPolicy',
  metadata: { name: 'deny-all', namespace: ns },
  spec: {},
});

for (const [what, edit, expected] of [
  [
    'a Service gains a port: the proxies of its pods',
    (w: ReturnType<typeof world>) => {
      const s = w.services.get('a/svc-1')!;
      return { type: 'MODIFIED', object: { ...s, spec: { ...s.spec, ports: [...s.spec!.ports!, { name: 'admin', port: 9090, targetPort: 9090, protocol: 'TCP' }] } } };
    },
    ['a/svc-1-0'],
  ],
  ['a Service goes: the proxies of the pods it selected', (w: ReturnType<typeof world>) => ({ type: 'DELETED', object: w.services.get('b/svc-2')! }), ['b/svc-2-0']],
  [
    'a Pod is relabelled out of its Service: its own proxy',
    (w: ReturnType<typeof world>) => {
      const p = w.pods.get('a/svc-2-0')!;
      return { type: 'MODIFIED', object: { ...p, metadata: { ...p.metadata, labels: { ...p.metadata.labels, app: 'other' } } } };
    },
    ['a/svc-2-0'],
  ],
  ['an endpoint pod appears: its own key (it is not a proxy), nobody else', () => ({ type: 'ADDED', object: pod('b', 'svc-0-1', { labels: { app: 'svc-0' }, ip: '127.8.0.99', unmeshed: true }) }), ['b/svc-0-1']],
  ['an AuthorizationPolicy in a namespace: the proxies of that namespace', () => ({ type: 'ADDED', object: authz('a') }), ['a/svc-0-0', 'a/svc-1-0', 'a/svc-2-0']],
  ['an AuthorizationPolicy in the root namespace: every proxy', () => ({ type: 'ADDED', object: authz('fsm-system') }), 'all'],
  ['the MeshConfig: every proxy', () => ({ type: 'MODIFIED', object: meshConfig({ traffic: { enablePermissiveTrafficPolicyMode: true }, sidecar: { logLevel: 'debug' } }) }), 'all'],
  ['a ServiceAccount: nobody', () => ({ type: 'ADDED', object: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'new', namespace: 'a' } } }), []],
] as const) {
  test(`${what}, and every proxy ends as a full compile gives`, async () => {
    const w = world();
    const controller = await started(w.resources);
    assertAsFullCompile(controller);
    const before = new Map(controller.proxyUuids().map((u) => [u, controller.snapshotFor(u)!]));
    const c = edit(w) as { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: Resource };
    controller.change(c.type, c.object);
    await controller.recompute();
    assert.deepEqual(compiled(controller), expected);
    assertAsFullCompile(controller);
    if (expected === 'all') return;
    // a proxy not compiled again keeps its own sections (the same objects) and, when no shared
    // section changed, its snapshot object and version
    for (const [uuid, was] of before) {
      const p = controller.proxyPod(uuid)!;
      if ((expected as readonly string[]).includes(`${p.namespace}/${p.name}`)) continue;
      const now = controller.snapshotFor(uuid)!;
      assert.equal(now.snapshot.Inbound, was.snapshot.Inbound, `${p.namespace}/${p.name} keeps its Inbound object`);
      assert.equal(now.snapshot.Spec, was.snapshot.Spec);
      if (c.object.kind === 'ServiceAccount' || c.object.kind === 'AuthorizationPolicy') assert.equal(now, was, `${p.namespace}/${p.name} keeps its snapshot`);
    }
  });
}

test('changes in one debounce window are coalesced into one recompute naming all of them', async () => {
  const w = world();
  const controller = await started(w.resources);
  let runs = 0;
  controller.onRecompute = () => void runs++;
  const s = w.services.get('a/svc-0')!;
  controller.change('MODIFIED', { ...s, spec: { ...s.spec, ports: [{ name: 'http', port: 81, targetPort: 8080, protocol: 'TCP' }] } } as Service);
  controller.change('DELETED', w.services.get('b/svc-1')!);
  controller.change('MODIFIED', s);
  const deadline = Date.now() + 5_000;
  while (runs === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(runs, 1);
  assert.deepEqual(compiled(controller), ['a/svc-0-0', 'b/svc-1-0']);
  assertAsFullCompile(controller);
});

test('an AccessControl with a Service source: a change to that Service\'s pods reaches the proxies of the AccessControl\'s namespace', async () => {
  const w = world();
  const acl: Resource = {
    apiVersion: 'policy.flomesh.io/v1alpha1',
    kind: 'AccessControl',
    metadata: { name: 'from-b', namespace: 'a' },
    spec: { backends: [{ name: 'svc-0', port: { number: 8080, protocol: 'http' } }], sources: [{ kind: 'Service', namespace: 'b', name: 'svc-1' }] },
  };
  const controller = await started([...w.resources, acl]);
  const backend = controller.proxyUuids().find((u) => controller.proxyPod(u)?.name === 'svc-0-0' && controller.proxyPod(u)?.namespace === 'a')!;
  const inboundBefore = controller.snapshotFor(backend)!.snapshot.Inbound;
  controller.change('ADDED', pod('b', 'svc-1-1', { labels: { app: 'svc-1' }, ip: '127.8.0.77', unmeshed: true }));
  await controller.recompute();
  assert.deepEqual(compiled(controller), ['a/svc-0-0', 'a/svc-1-0', 'a/svc-2-0', 'b/svc-1-1']);
  assert.notDeepEqual(controller.snapshotFor(backend)!.snapshot.Inbound, inboundBefore, 'the backend admits the new endpoint');
  assertAsFullCompile(controller);
});
