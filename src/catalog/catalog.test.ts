/** Table tests for the catalog: protocol detection, targetPorts, MeshConfig merging, PluginConfig indexing, scale. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Resource, ServicePort } from '../api/types.js';
import { BUILTIN_CHAINS } from '../snapshot/defaults.js';
import { input, meshConfig, meshedNamespace, namespace, pod, pluginConfig, service } from '../snapshot/testdata/builders.js';
import { buildCatalog, detectProtocol, listProxies, resolveMeshConfig, targetPortForPod } from './index.js';
import { indexPluginConfigs, pluginTargetKey } from './plugin-index.js';

const protocolCases: [ServicePort, string][] = [
  [{ port: 80 }, 'http'],
  [{ port: 80, name: 'http' }, 'http'],
  [{ port: 80, name: 'http-web' }, 'http'],
  [{ port: 80, name: 'web' }, 'http'],
  [{ port: 80, name: 'tcp-db' }, 'tcp'],
  [{ port: 80, name: 'tcp' }, 'tcp'],
  [{ port: 80, name: 'tcp-server-first-mysql' }, 'tcp'],
  [{ port: 80, name: 'grpc-api' }, 'grpc'],
  [{ port: 80, name: 'tcp-db', appProtocol: 'http' }, 'http'],
  [{ port: 80, name: 'http-web', appProtocol: 'tcp' }, 'tcp'],
  [{ port: 80, appProtocol: 'grpc' }, 'grpc'],
  [{ port: 80, appProtocol: 'kubernetes.io/wss' }, 'tcp'],
  [{ port: 80, name: 'httpx' }, 'http'],
  // HTTP/2 in cleartext to the app: the sidecar speaks h2c to it, as for gRPC
  [{ port: 80, name: 'http2' }, 'grpc'],
  [{ port: 80, name: 'http2-api' }, 'grpc'],
  [{ port: 80, appProtocol: 'kubernetes.io/h2c' }, 'grpc'],
  [{ port: 80, appProtocol: 'h2c' }, 'grpc'],
  [{ port: 80, name: 'grpc-api', appProtocol: 'grpc-web' }, 'http'],
];
for (const [port, expected] of protocolCases) {
  test(`detectProtocol ${JSON.stringify(port)} → ${expected}`, () => {
    assert.equal(detectProtocol(port), expected);
  });
}

test('targetPortForPod: absent, numeric, numeric string, named', () => {
  const p = pod('a', 'p', { ports: [{ name: 'web', containerPort: 9000 }] });
  assert.equal(targetPortForPod({ port: 80 }, p), 80);
  assert.equal(targetPortForPod({ port: 80, targetPort: 8080 }, p), 8080);
  assert.equal(targetPortForPod({ port: 80, targetPort: '8081' }, p), 8081);
  assert.equal(targetPortForPod({ port: 80, targetPort: 'web' }, p), 9000);
  assert.equal(targetPortForPod({ port: 80, targetPort: 'admin' }, p), undefined);
});

test('MeshConfig: missing → chart defaults; fields merge over defaults; wrong types fall back', () => {
  const d = resolveMeshConfig(undefined);
  assert.equal(d.enablePluginPolicy, false);
  assert.equal(d.enablePermissiveTrafficPolicyMode, true);
  assert.equal(d.enableEgress, true);
  assert.equal(d.sidecarLogLevel, 'error');
  assert.equal(d.sidecarTimeout, 60);
  assert.equal(d.spec.certificate?.serviceCertValidityDuration, '24h');
  assert.deepEqual(d.builtinChains, BUILTIN_CHAINS);

  const m = resolveMeshConfig({ featureFlags: { enablePluginPolicy: true }, sidecar: { sidecarTimeout: 'soon' as unknown as number } });
  assert.equal(m.enablePluginPolicy, true);
  assert.equal(m.spec.featureFlags?.enableAccessControlPolicy, true);
  assert.equal(m.sidecarTimeout, 60);
});

test('the MeshConfig is found by mesh name', () => {
  const resources: Resource[] = [meshConfig({ sidecar: { logLevel: 'debug' } }, 'other'), meshConfig({ sidecar: { logLevel: 'info' } }, 'fsm')];
  assert.equal(buildCatalog(input(resources)).meshConfig.sidecarLogLevel, 'info');
  assert.equal(buildCatalog(input(resources, 'other')).meshConfig.sidecarLogLevel, 'debug');
  assert.equal(buildCatalog(input(resources, 'third')).meshConfig.sidecarLogLevel, 'error');
});

test('indexPluginConfigs: keyed by plugin and service, namespace defaults to the PluginConfig’s, first by name wins', () => {
  const index = indexPluginConfigs([
    pluginConfig('b', 'z', 'p', [{ name: 'svc' }], 'b/z'),
    pluginConfig('b', 'a', 'p', [{ name: 'svc' }, { name: 'svc', namespace: 'c' }], 'b/a'),
    pluginConfig('a', 'x', 'q', [{ name: 'svc', namespace: 'b' }], 'a/x'),
    pluginConfig('a', 'y', 'p', [{ name: 'svc', kind: 'Pod' }], 'ignored'),
  ]);
  assert.equal(index.get(pluginTargetKey('p', 'b', 'svc')), 'b/a');
  assert.equal(index.get(pluginTargetKey('p', 'c', 'svc')), 'b/a');
  assert.equal(index.get(pluginTargetKey('q', 'b', 'svc')), 'a/x');
  assert.equal(index.has(pluginTargetKey('p', 'a', 'svc')), false);
  assert.equal(index.size, 3);
});

test('listProxies: pods with fsm-proxy-uuid, sorted, ip when known', () => {
  const catalog = buildCatalog(
    input([pod('b', 'p2', { ip: '10.0.0.2' }), pod('a', 'p1'), pod('a', 'plain', { unmeshed: true, ip: '10.0.0.3' })]),
  );
  assert.deepEqual(listProxies(catalog), [
    { namespace: 'a', name: 'p1', uuid: 'uuid-a-p1' },
    { namespace: 'b', name: 'p2', uuid: 'uuid-b-p2', ip: '10.0.0.2' },
  ]);
});

test('listProxies: another mesh\'s namespaces are its own; unlabelled and own namespaces stay', () => {
  const catalog = buildCatalog(input([
    meshedNamespace('a'), namespace('other', { 'flomesh.io/monitored-by': 'tessera' }),
    pod('a', 'p1'), pod('other', 'p2'), pod('plain', 'p3'),
  ]));
  assert.deepEqual(listProxies(catalog).map((p) => `${p.namespace}/${p.name}`), ['a/p1', 'plain/p3']);
  assert.deepEqual(listProxies(buildCatalog(input([namespace('other', { 'flomesh.io/monitored-by': 'tessera' }), pod('other', 'p2')], 'tessera'))).map((p) => p.name), ['p2']);
});

test('scale: 1000 pods and 300 services build quickly (generous bound)', () => {
  const resources: Resource[] = [];
  for (let n = 0; n < 10; n++) resources.push(meshedNamespace(`ns${n}`));
  for (let i = 0; i < 1000; i++) {
    const ns = `ns${i % 10}`;
    resources.push(pod(ns, `pod-${i}`, { labels: { app: `app-${i % 300}`, version: 'v1' }, ip: `10.${i >> 8}.${i & 255}.1` }));
  }
  for (let s = 0; s < 300; s++) {
    resources.push(service(`ns${s % 10}`, `svc-${s}`, [{ name: 'http', port: 80, targetPort: 8080 }], { app: `app-${s}`, version: 'v1' }));
  }
  const start = process.hrtime.bigint();
  const catalog = buildCatalog(input(resources));
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  assert.equal(catalog.services.length, 300);
  assert.equal(catalog.services.reduce((n, s) => n + s.ports[0]!.endpoints.length, 0), 1000);
  // The target is well under 100 ms; the bound is 20× that so a loaded CI machine never flakes.
  assert.ok(ms < 2000, `buildCatalog took ${ms.toFixed(1)} ms`);
});
