/**
 * Sections shared by content between proxies, and per-section versions: what one Service change
 * touches and what it leaves alone.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Resource, Service } from '../api/types.js';
import { buildCatalog, compileProxySnapshot, contentHash, snapshotVersion, type ProxySnapshot } from './index.js';
import { input, meshConfig, meshedNamespace, pod, service } from './testdata/builders.js';

/** Two namespaces of three services each, one pod and one ServiceAccount per service, permissive mode. */
function world(edit?: (s: Service) => void, extra: Resource[] = []): Resource[] {
  const out: Resource[] = [meshConfig({ featureFlags: { enableRetryPolicy: true }, traffic: { enablePermissiveTrafficPolicyMode: true } }), ...extra];
  let ip = 1;
  for (const ns of ['a', 'b']) {
    out.push(meshedNamespace(ns));
    for (const i of [0, 1, 2]) {
      const name = `svc-${i}`;
      const s = service(ns, name, [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }], { app: name });
      edit?.(s);
      out.push(
        { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: ns } },
        s,
        pod(ns, `${name}-0`, { labels: { app: name }, ip: `127.8.0.${ip++}`, serviceAccount: name, ports: [{ name: 'http', containerPort: 8080 }] }),
      );
    }
  }
  return out;
}

const PROXIES = ['a/svc-0-0', 'a/svc-1-0', 'b/svc-0-0'] as const;

function compileAll(resources: Resource[]): Map<string, ProxySnapshot> {
  const catalog = buildCatalog(input(resources));
  const out = new Map<string, ProxySnapshot>();
  for (const key of PROXIES) {
    const [namespace, name] = key.split('/') as [string, string];
    const snap = compileProxySnapshot(catalog, { namespace, name });
    assert.ok(snap, `a snapshot for ${key}`);
    out.set(key, snap);
  }
  return out;
}

test('proxies of one catalog hold the same section objects where content is shared', () => {
  const snaps = compileAll(world());
  const [a0, a1, b0] = PROXIES.map((k) => snaps.get(k)!);
  for (const section of ['Dns', 'AllowedEndpoints', 'ServiceIPs'] as const) {
    assert.equal(a0![section], a1![section], `${section} is one object`);
    assert.equal(a0![section], b0![section], `${section} is one object across namespaces`);
    assert.ok(Object.isFrozen(a0![section]), `${section} is frozen`);
  }
  // one namespace, other identities: nothing in a permissive Outbound reads the identity
  assert.equal(a0!.Outbound, a1!.Outbound, 'clients of one namespace share Outbound');
  // another namespace offers other bare names, but the clusters behind them are the same objects
  assert.notEqual(a0!.Outbound, b0!.Outbound);
  const clusters = Object.keys(a0!.Outbound.ClustersConfigs);
  assert.equal(clusters.length, 6);
  for (const c of clusters) assert.equal(a0!.Outbound.ClustersConfigs[c], b0!.Outbound.ClustersConfigs[c], `${c} is one object`);
});

test('a client with a Retry of its own gets its own Outbound; the clusters it does not retry stay shared', () => {
  const retry: Resource = {
    apiVersion: 'policy.flomesh.io/v1alpha1',
    kind: 'Retry',
    metadata: { name: 'retry', namespace: 'a' },
    spec: {
      source: { kind: 'ServiceAccount', name: 'svc-0', namespace: 'a' },
      destinations: [{ kind: 'Service', name: 'svc-2', namespace: 'b' }],
      retryPolicy: { retryOn: '5xx', numRetries: 2 },
    },
  };
  const snaps = compileAll(world(undefined, [retry]));
  const [a0, a1] = [snaps.get('a/svc-0-0')!, snaps.get('a/svc-1-0')!];
  assert.notEqual(a0.Outbound, a1.Outbound);
  const retried = Object.keys(a0.Outbound.ClustersConfigs).filter((c) => a0.Outbound.ClustersConfigs[c]!.RetryPolicy);
  assert.deepEqual(retried, ['b/svc-2|80']);
  assert.equal(a1.Outbound.ClustersConfigs['b/svc-2|80']!.RetryPolicy, undefined, 'the Retry is the source\'s only');
  for (const c of Object.keys(a0.Outbound.ClustersConfigs)) {
    if (c !== 'b/svc-2|80') assert.equal(a0.Outbound.ClustersConfigs[c], a1.Outbound.ClustersConfigs[c], `${c} is one object`);
  }
});

test('a version is a function of content only: a thawed JSON copy has the same version', () => {
  for (const snap of compileAll(world()).values()) {
    const copy = JSON.parse(JSON.stringify(snap)) as ProxySnapshot;
    assert.equal(snapshotVersion(copy), snapshotVersion(snap));
    assert.match(snapshotVersion(snap), /^[0-9a-f]{64}$/);
    // a second call hits the memoized section hashes and agrees
    assert.equal(snapshotVersion(snap), snapshotVersion(copy));
  }
});

test('a version changes with any section, and only with content', () => {
  const snap = compileAll(world()).get('a/svc-0-0')!;
  const before = snapshotVersion(snap);
  const copy = JSON.parse(JSON.stringify(snap)) as ProxySnapshot;
  copy.Spec.SidecarLogLevel = copy.Spec.SidecarLogLevel === 'debug' ? 'info' : 'debug';
  assert.notEqual(snapshotVersion(copy), before);
  const moved = JSON.parse(JSON.stringify(snap)) as ProxySnapshot;
  // the same content under another section name is another snapshot
  const { Dns, ServiceIPs, ...rest } = moved;
  assert.notEqual(snapshotVersion({ ...rest, Dns: ServiceIPs as unknown as ProxySnapshot['Dns'], ServiceIPs: Dns as unknown as ProxySnapshot['ServiceIPs'] }), before);
});

test('one Service gaining a port changes its own proxy inbound, every outbound and DNS, nothing else', () => {
  const before = compileAll(world());
  const after = compileAll(
    world((s) => {
      if (s.metadata.namespace === 'a' && s.metadata.name === 'svc-1') s.spec!.ports!.push({ name: 'admin', port: 9090, targetPort: 9090, protocol: 'TCP' });
    }),
  );
  const hash = (key: string, snaps: Map<string, ProxySnapshot>, section: keyof ProxySnapshot): string => contentHash(snaps.get(key)![section]);
  for (const key of PROXIES) {
    assert.notEqual(snapshotVersion(after.get(key)!), snapshotVersion(before.get(key)!), `${key}: version changes`);
    assert.notEqual(hash(key, after, 'Outbound'), hash(key, before, 'Outbound'), `${key}: Outbound changes`);
    assert.notEqual(hash(key, after, 'Dns'), hash(key, before, 'Dns'), `${key}: Dns answers the new port`);
    for (const section of ['Metrics', 'Spec', 'Pod', 'Chains', 'PluginScripts', 'AllowedEndpoints', 'ServiceIPs'] as const) {
      assert.equal(hash(key, after, section), hash(key, before, section), `${key}: ${section} unchanged`);
    }
    const ownInbound = key === 'a/svc-1-0';
    assert.equal(hash(key, after, 'Inbound') !== hash(key, before, 'Inbound'), ownInbound, `${key}: Inbound changes only behind the Service`);
  }
  // the other services' clusters keep their content
  const clusters = (snaps: Map<string, ProxySnapshot>): Record<string, unknown> => snaps.get('b/svc-0-0')!.Outbound.ClustersConfigs;
  for (const [name, config] of Object.entries(clusters(before))) {
    if (!name.includes('svc-1')) assert.deepEqual(clusters(after)[name], config, `${name} unchanged`);
  }
});
