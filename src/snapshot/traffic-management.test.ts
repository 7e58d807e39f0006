/** Outbound compilation of Retry, TrafficSplit, request timeouts and outlier detection. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Resource } from '../api/types.js';
import { buildCatalog, compileProxySnapshot } from './index.js';
import type { ProxySnapshot } from './index.js';
import { input, meshConfig, meshedNamespace, pod, service } from './testdata/builders.js';

function snap(resources: Resource[], who = { namespace: 'curl', name: 'curl' }): ProxySnapshot {
  const s = compileProxySnapshot(buildCatalog(input(resources)), who);
  assert.ok(s, 'snapshot compiled');
  return s;
}

const world = (retryFlag: boolean | undefined, permissive = true): Resource[] => [
  meshConfig({ featureFlags: retryFlag === undefined ? {} : { enableRetryPolicy: retryFlag }, traffic: { enablePermissiveTrafficPolicyMode: permissive } }),
  meshedNamespace('curl'),
  meshedNamespace('httpbin'),
  pod('curl', 'curl', { labels: { app: 'curl' }, ip: '10.0.0.1', serviceAccount: 'curl' }),
  pod('httpbin', 'v1', { labels: { app: 'httpbin', version: 'v1' }, ip: '10.0.1.1', serviceAccount: 'httpbin' }),
  pod('httpbin', 'v2', { labels: { app: 'httpbin', version: 'v2' }, ip: '10.0.1.2', serviceAccount: 'httpbin' }),
  service('httpbin', 'httpbin', [{ name: 'http', port: 14001 }], { app: 'httpbin' }, '10.96.0.1'),
  service('httpbin', 'httpbin-v1', [{ name: 'http', port: 14001 }], { app: 'httpbin', version: 'v1' }, '10.96.0.2'),
  service('httpbin', 'httpbin-v2', [{ name: 'http', port: 14001 }], { app: 'httpbin', version: 'v2' }, '10.96.0.3'),
];

const retry = (source = 'curl', destination = 'httpbin'): Resource => ({
  apiVersion: 'policy.flomesh.io/v1alpha1',
  kind: 'Retry',
  metadata: { name: 'retry', namespace: 'curl' },
  spec: {
    source: { kind: 'ServiceAccount', name: source, namespace: 'curl' },
    destinations: [{ kind: 'Service', name: destination, namespace: 'httpbin' }],
    retryPolicy: { retryOn: '5xx', perTryTimeout: '1s', numRetries: 5, retryBackoffBaseInterval: '1s' },
  },
});

const split = (backends: { service: string; weight: number }[], service = 'httpbin.httpbin'): Resource => ({
  apiVersion: 'split.smi-spec.io/v1alpha2',
  kind: 'TrafficSplit',
  metadata: { name: 'http-split', namespace: 'httpbin' },
  spec: { service, backends },
});

test('a Retry gives the client\'s cluster of each destination its RetryPolicy, in seconds, only with enableRetryPolicy', () => {
  const on = snap([...world(true), retry()]);
  assert.deepEqual(on.Outbound.ClustersConfigs['httpbin/httpbin|14001']!.RetryPolicy, { RetryOn: '5xx', PerTryTimeout: 1, NumRetries: 5, RetryBackoffBaseInterval: 1 });
  assert.equal(on.Outbound.ClustersConfigs['httpbin/httpbin-v1|14001']!.RetryPolicy, undefined, 'only the destinations listed');
  for (const flag of [false, undefined]) {
    assert.equal(snap([...world(flag), retry()]).Outbound.ClustersConfigs['httpbin/httpbin|14001']!.RetryPolicy, undefined, `flag ${flag}`);
  }
  assert.equal(snap([...world(true), retry('someone-else')]).Outbound.ClustersConfigs['httpbin/httpbin|14001']!.RetryPolicy, undefined, 'other sources only');
});

test('a Retry without optional fields gets FSM\'s defaults: one retry, 25ms backoff, no per-try timeout', () => {
  const r = retry();
  (r.spec as { retryPolicy: unknown }).retryPolicy = { retryOn: 'gateway-error' };
  assert.deepEqual(snap([...world(true), r]).Outbound.ClustersConfigs['httpbin/httpbin|14001']!.RetryPolicy, { RetryOn: 'gateway-error', NumRetries: 1, RetryBackoffBaseInterval: 0.025 });
});

test('a TrafficSplit sends the root service\'s routes to its backends\' clusters by weight, each with its own endpoints', () => {
  for (const root of ['httpbin', 'httpbin.httpbin', 'httpbin.httpbin.svc.cluster.local']) {
    const s = snap([...world(undefined), split([{ service: 'httpbin-v1', weight: 90 }, { service: 'httpbin-v2', weight: 10 }], root)]);
    const rules = s.Outbound.TrafficMatches['14001']![0]!.HttpServiceRouteRules!;
    assert.deepEqual(rules['httpbin.httpbin']!.RouteRules[0]!.TargetClusters, { 'httpbin/httpbin-v1|14001': 90, 'httpbin/httpbin-v2|14001': 10 }, root);
    assert.deepEqual(rules['httpbin-v1.httpbin']!.RouteRules[0]!.TargetClusters, { 'httpbin/httpbin-v1|14001': 100 }, 'backends keep their own routes');
    assert.deepEqual(Object.keys(s.Outbound.ClustersConfigs['httpbin/httpbin-v1|14001']!.Endpoints), ['10.0.1.1:14001']);
    assert.deepEqual(Object.keys(s.Outbound.ClustersConfigs['httpbin/httpbin-v2|14001']!.Endpoints), ['10.0.1.2:14001']);
    assert.equal(s.Outbound.ClustersConfigs['httpbin/httpbin|14001'], undefined, 'the root\'s own cluster is no longer referenced');
  }
});

test('split backends that are missing or weigh 0 are left out; with none left the root keeps its own cluster', () => {
  const some = snap([...world(undefined), split([{ service: 'httpbin-v1', weight: 1 }, { service: 'ghost', weight: 50 }, { service: 'httpbin-v2', weight: 0 }])]);
  assert.deepEqual(some.Outbound.TrafficMatches['14001']![0]!.HttpServiceRouteRules!['httpbin.httpbin']!.RouteRules[0]!.TargetClusters, { 'httpbin/httpbin-v1|14001': 1 });
  const none = snap([...world(undefined), split([{ service: 'ghost', weight: 50 }])]);
  assert.deepEqual(none.Outbound.TrafficMatches['14001']![0]!.HttpServiceRouteRules!['httpbin.httpbin']!.RouteRules[0]!.TargetClusters, { 'httpbin/httpbin|14001': 100 });
});

test('with SMI (permissive mode off) a split gives no route nor cluster where no TrafficTarget lets the client go', () => {
  const s = snap([...world(undefined, false), split([{ service: 'httpbin-v1', weight: 50 }, { service: 'httpbin-v2', weight: 50 }])]);
  // no TrafficTarget lets curl reach httpbin: outside its scope, no match nor cluster
  assert.equal(s.Outbound.TrafficMatches['14001'], undefined);
  assert.deepEqual(s.Outbound.ClustersConfigs, {});
});

test('request timeouts and outlier detection come from the destination Service\'s annotations', () => {
  const resources = world(undefined);
  const svc = resources.find((r) => r.kind === 'Service' && r.metadata.name === 'httpbin')!;
  svc.metadata.annotations = { 'tessera.flomesh.io/request-timeouts': '/=10s,/delay/=500ms', 'tessera.flomesh.io/outlier-detection': 'consecutive5xx=3' };
  const s = snap(resources);
  assert.deepEqual(s.Outbound.TrafficMatches['14001']![0]!.HttpServiceRouteRules!['httpbin.httpbin']!.RequestTimeouts, [
    { Prefix: '/delay/', Timeout: 0.5 },
    { Prefix: '/', Timeout: 10 },
  ]);
  assert.deepEqual(s.Outbound.ClustersConfigs['httpbin/httpbin|14001']!.OutlierDetection, {
    Consecutive5xx: 3,
    ConsecutiveGatewayFailure: 5,
    BaseEjectionTime: 30,
    MaxEjectionTime: 300,
    MaxEjectionPercent: 50,
  });
  assert.equal(s.Outbound.ClustersConfigs['httpbin/httpbin-v1|14001']!.OutlierDetection, undefined);
});

test('without these kinds and annotations the outbound section has none of the new fields', () => {
  const s = snap(world(true));
  const json = JSON.stringify(s.Outbound);
  for (const field of ['RetryPolicy', 'RequestTimeouts', 'OutlierDetection']) assert.ok(!json.includes(field), field);
});
