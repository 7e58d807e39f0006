/** Table tests for the Inbound, Outbound, Dns, ServiceIPs and allow-list sections. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MeshConfigSpec, Resource } from '../api/types.js';
import { buildCatalog, compileProxySnapshot } from './index.js';
import type { ProxySnapshot } from './index.js';
import {
  input,
  meshConfig,
  meshedNamespace,
  namespace,
  plugin,
  pluginChain,
  pluginConfig,
  pod,
  service,
} from './testdata/builders.js';

function snap(resources: Resource[], who = { namespace: 'app', name: 'client' }): ProxySnapshot {
  const s = compileProxySnapshot(buildCatalog(input(resources)), who);
  assert.ok(s, 'snapshot compiled');
  return s;
}

const base = (spec: MeshConfigSpec = { featureFlags: { enablePluginPolicy: true } }): Resource[] => [
  meshConfig(spec),
  meshedNamespace('app'),
  meshedNamespace('other'),
  pod('app', 'client', { labels: { app: 'client' }, ip: '10.0.0.1' }),
];

test('PluginConfigs for two services do not leak into each other', () => {
  const s = snap([
    ...base(),
    pod('other', 'a-1', { labels: { app: 'a' }, ip: '10.0.1.1' }),
    pod('other', 'b-1', { labels: { app: 'b' }, ip: '10.0.1.2' }),
    service('other', 'a', [{ name: 'http', port: 80 }], { app: 'a' }, '10.96.0.1'),
    service('other', 'b', [{ name: 'http', port: 80 }], { app: 'b' }, '10.96.0.2'),
    service('other', 'c', [{ name: 'http', port: 80 }], { app: 'c' }, '10.96.0.3'),
    plugin('injector', 115),
    pluginChain('app', 'chain', { 'outbound-http': ['injector'] }, {}),
    pluginConfig('app', 'for-a', 'injector', [{ name: 'a', namespace: 'other' }], { Token: 'A' }),
    pluginConfig('app', 'for-b', 'injector', [{ name: 'b', namespace: 'other' }], { Token: 'B' }),
  ]);
  const rules = s.Outbound.TrafficMatches['80']![0]!.HttpServiceRouteRules!;
  assert.deepEqual(rules['a.other']!.Plugins, { injector: { Token: 'A' } });
  assert.deepEqual(rules['b.other']!.Plugins, { injector: { Token: 'B' } });
  assert.equal(rules['c.other']!.Plugins, undefined);
});

test('two PluginConfigs for one (plugin, service): the first by namespace/name wins, whatever the input order', () => {
  const world = [
    ...base(),
    service('other', 'a', [{ name: 'http', port: 80 }], { app: 'a' }),
    plugin('injector', 115),
    pluginChain('app', 'chain', { 'outbound-http': ['injector'] }, {}),
    pluginConfig('other', 'zz', 'injector', [{ name: 'a' }], { Token: 'zz' }),
    pluginConfig('app', 'mm', 'injector', [{ name: 'a', namespace: 'other' }], { Token: 'app/mm' }),
    pluginConfig('other', 'aa', 'injector', [{ name: 'a' }], { Token: 'other/aa' }),
  ];
  for (const resources of [world, [...world].reverse()]) {
    const rules = snap(resources).Outbound.TrafficMatches['80']![0]!.HttpServiceRouteRules!;
    assert.deepEqual(rules['a.other']!.Plugins, { injector: { Token: 'app/mm' } });
  }
});

test('PluginConfig needs the plugin mounted at the matching mount point', () => {
  const s = snap([
    ...base(),
    service('other', 'a', [{ name: 'http', port: 80 }], { app: 'a' }),
    service('app', 'client', [{ name: 'http', port: 80 }], { app: 'client' }),
    plugin('verifier', 115),
    // mounted inbound only: the outbound rule of `a` must not get its config
    pluginChain('app', 'chain', { 'inbound-http': ['verifier'] }, {}),
    pluginConfig('app', 'c1', 'verifier', [{ name: 'a', namespace: 'other' }, { name: 'client' }], { On: true }),
    pluginConfig('app', 'c2', 'verifier', [{ name: 'client', kind: 'Deployment' }], { Ignored: true }),
  ]);
  assert.equal(s.Outbound.TrafficMatches['80']![0]!.HttpServiceRouteRules!['a.other']!.Plugins, undefined);
  assert.deepEqual(s.Inbound.TrafficMatches['80']!.HttpServiceRouteRules!['client.app']!.Plugins, { verifier: { On: true } });
});

test('port != targetPort: inbound keyed and listening on targetPort, hosts on the service port, outbound to endpoints on targetPort', () => {
  const world = [
    ...base(),
    pod('app', 'web-1', { labels: { app: 'web' }, ip: '10.0.0.2', annotations: { 'local.tessera.dev/app-address': '10.0.64.2' } }),
    service('app', 'web', [{ name: 'http', port: 80, targetPort: 8080 }], { app: 'web' }, '10.96.0.10'),
  ];
  const server = snap(world, { namespace: 'app', name: 'web-1' });
  assert.deepEqual(Object.keys(server.Inbound.TrafficMatches), ['8080']);
  const inbound = server.Inbound.TrafficMatches['8080']!;
  assert.equal(inbound.Port, 8080);
  assert.deepEqual(inbound.HttpHostPort2Service!['web:80'], { RuleName: 'web.app' });
  assert.equal(inbound.HttpHostPort2Service!['web:8080'], undefined);
  assert.deepEqual(inbound.HttpServiceRouteRules!['web.app']!.RouteRules, [
    { Path: '.*', Type: 'Regex', TargetClusters: { 'app/web|8080|local': 100 } },
  ]);
  assert.deepEqual(server.Inbound.ClustersConfigs, { 'app/web|8080|local': { '10.0.64.2:8080': 100 } });

  const client = snap(world);
  const out = client.Outbound.TrafficMatches['80']![0]!;
  assert.equal(out.Port, 80);
  assert.deepEqual(out.DestinationIPRanges, { '10.96.0.10/32': null });
  assert.deepEqual(out.HttpServiceRouteRules!['web.app']!.RouteRules[0]!.TargetClusters, { 'app/web|80': 100 });
  assert.deepEqual(client.Outbound.ClustersConfigs['app/web|80'], { Endpoints: { '10.0.0.2:8080': { Weight: 100 } }, ServiceIdentities: ['default.app'] });
  assert.deepEqual(client.Dns['web.app.svc.cluster.local'], { '80': ['10.0.0.2:8080'] });
  assert.deepEqual(client.ServiceIPs, { '10.96.0.10': 'web.app.svc.cluster.local' });
});

test('named targetPort resolves through each pod’s containerPorts', () => {
  const world = [
    ...base(),
    pod('app', 'web-1', { labels: { app: 'web' }, ip: '10.0.0.2', ports: [{ name: 'web', containerPort: 9000 }] }),
    pod('app', 'web-2', { labels: { app: 'web' }, ip: '10.0.0.3', ports: [{ name: 'web', containerPort: 9001 }] }),
    pod('app', 'web-3', { labels: { app: 'web' }, ip: '10.0.0.4' }), // does not declare the port: no endpoint
    service('app', 'web', [{ name: 'http', port: 80, targetPort: 'web' }], { app: 'web' }),
  ];
  const client = snap(world);
  assert.deepEqual(client.Outbound.ClustersConfigs['app/web|80']!.Endpoints, {
    '10.0.0.2:9000': { Weight: 100 },
    '10.0.0.3:9001': { Weight: 100 },
  });
  assert.deepEqual(Object.keys(snap(world, { namespace: 'app', name: 'web-2' }).Inbound.TrafficMatches), ['9001']);
  assert.deepEqual(snap(world, { namespace: 'app', name: 'web-3' }).Inbound.TrafficMatches, {});
});

test('tcp services get TcpServiceRouteRules and a match of their own; http services on one port share a match', () => {
  const world = [
    ...base(),
    pod('other', 'db-1', { labels: { app: 'db' }, ip: '10.0.1.1' }),
    pod('other', 'cache-1', { labels: { app: 'cache' }, ip: '10.0.1.2' }),
    pod('other', 'web-1', { labels: { app: 'web' }, ip: '10.0.1.3' }),
    pod('app', 'api-1', { labels: { app: 'api' }, ip: '10.0.1.4' }),
    service('other', 'db', [{ name: 'tcp-db', port: 5000 }], { app: 'db' }, '10.96.0.1'),
    service('other', 'cache', [{ port: 5000, appProtocol: 'tcp' }], { app: 'cache' }, '10.96.0.2'),
    service('other', 'web', [{ name: 'http-web', port: 5000 }], { app: 'web' }, '10.96.0.3'),
    service('app', 'api', [{ port: 5000 }], { app: 'api' }, '10.96.0.4'),
  ];
  const matches = snap(world).Outbound.TrafficMatches['5000']!;
  assert.deepEqual(
    matches.map((m) => [m.Protocol, Object.keys(m.DestinationIPRanges ?? {})]),
    [
      ['http', ['10.96.0.4/32', '10.96.0.3/32']],
      ['tcp', ['10.96.0.2/32']],
      ['tcp', ['10.96.0.1/32']],
    ],
  );
  assert.deepEqual(Object.keys(matches[0]!.HttpServiceRouteRules!).sort(), ['api.app', 'web.other']);
  assert.deepEqual(matches[1]!.TcpServiceRouteRules, { 'cache.other': { TargetClusters: { 'other/cache|5000': 100 } } });
  assert.equal(matches[1]!.HttpHostPort2Service, undefined);

  const db = snap(world, { namespace: 'other', name: 'db-1' }).Inbound.TrafficMatches['5000']!;
  assert.equal(db.Protocol, 'tcp');
  assert.deepEqual(db.TcpServiceRouteRules, { 'db.other': { TargetClusters: { 'other/db|5000|local': 100 } } });
  assert.equal(db.HttpServiceRouteRules, undefined);
});

test('not-ready pods and pods without an IP are not endpoints', () => {
  const world = [
    ...base(),
    pod('app', 'web-1', { labels: { app: 'web' }, ip: '10.0.0.2' }),
    pod('app', 'web-2', { labels: { app: 'web' }, ip: '10.0.0.3', ready: false }),
    pod('app', 'web-3', { labels: { app: 'web' } }),
    pod('other', 'web-4', { labels: { app: 'web' }, ip: '10.0.0.5' }), // other namespace
    service('app', 'web', [{ name: 'http', port: 80 }], { app: 'web' }, '10.96.0.12'),
    service('app', 'idle', [{ name: 'http', port: 81 }], { app: 'idle' }, '10.96.0.11'),
  ];
  const s = snap(world);
  assert.deepEqual(s.Outbound.ClustersConfigs['app/web|80'], { Endpoints: { '10.0.0.2:80': { Weight: 100 } }, ServiceIdentities: ['default.app'] });
  assert.deepEqual(s.Dns['web.app.svc.cluster.local'], { '80': ['10.0.0.2:80'] });
  // A service without ready endpoints keeps its match and gets an empty cluster, but no DNS entry.
  assert.equal(s.Outbound.TrafficMatches['81']!.length, 1);
  assert.deepEqual(s.Outbound.ClustersConfigs['app/idle|81'], { Endpoints: {}, ServiceIdentities: [] });
  assert.equal(s.Dns['idle.app.svc.cluster.local'], undefined);
  assert.deepEqual(s.ServiceIPs, { '10.96.0.12': 'web.app.svc.cluster.local' }, 'a Service nothing answers for has no address entry either');
  // The not-ready pod is still meshed, so it stays on the allow-list; the IP-less one cannot.
  assert.deepEqual(s.AllowedEndpoints, {
    '10.0.0.1': 'app.client',
    '10.0.0.2': 'app.web-1',
    '10.0.0.3': 'app.web-2',
    '10.0.0.5': 'other.web-4',
  });
});

test('the bare service name is offered only to clients in the same namespace', () => {
  const world = [
    ...base(),
    service('app', 'near', [{ name: 'http', port: 80 }], { app: 'near' }),
    service('other', 'far', [{ name: 'http', port: 80 }], { app: 'far' }),
  ];
  const hosts = Object.keys(snap(world).Outbound.TrafficMatches['80']![0]!.HttpHostPort2Service!);
  assert.ok(hosts.includes('near') && hosts.includes('near:80') && hosts.includes('near.app:80'));
  assert.ok(!hosts.includes('far') && !hosts.includes('far:80'));
  assert.ok(hosts.includes('far.other') && hosts.includes('far.other.svc.cluster.local:80'));
});

test('non-mesh services get no outbound match but do get DNS; UDP ports are skipped', () => {
  const world = [
    ...base(),
    namespace('outside'),
    pod('outside', 'ext-1', { labels: { app: 'ext' }, ip: '10.0.2.1', unmeshed: true }),
    service('outside', 'ext', [{ port: 8079 }], { app: 'ext' }),
    pod('app', 'dns-1', { labels: { app: 'dns' }, ip: '10.0.0.9' }),
    service('app', 'dns', [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'tcp-dns', port: 53, protocol: 'TCP' }], { app: 'dns' }),
  ];
  const s = snap(world);
  assert.equal(s.Outbound.TrafficMatches['8079'], undefined);
  assert.deepEqual(s.Dns['ext.outside.svc.cluster.local'], { '8079': ['10.0.2.1:8079'] });
  assert.equal(s.AllowedEndpoints['10.0.2.1'], undefined);
  const dns = s.Outbound.TrafficMatches['53']!;
  assert.deepEqual(dns.map((m) => m.Protocol), ['tcp']);
});

test('permissive mode off without TrafficTargets: nothing in outbound scope (refused as unknown), no inbound routes', () => {
  const world = [
    ...base({ traffic: { enablePermissiveTrafficPolicyMode: false } }),
    pod('app', 'web-1', { labels: { app: 'web' }, ip: '10.0.0.2' }),
    service('app', 'web', [{ name: 'http', port: 80 }], { app: 'web' }, '10.96.0.1'),
    service('app', 'db', [{ name: 'tcp', port: 5432 }], { app: 'web' }, '10.96.0.2'),
  ];
  for (const who of ['client', 'web-1']) {
    const s = snap(world, { namespace: 'app', name: who });
    assert.deepEqual(s.Outbound.TrafficMatches, {});
    assert.deepEqual(s.Outbound.ClustersConfigs, {});
    assert.deepEqual(Object.keys(s.Dns), []);
    // kept whole, so the sidecar tells a Service's address from an external one
    assert.deepEqual(s.ServiceIPs, { '10.96.0.1': 'web.app.svc.cluster.local', '10.96.0.2': 'db.app.svc.cluster.local' });
    assert.deepEqual(s.Inbound.ClustersConfigs, {});
  }
  const server = snap(world, { namespace: 'app', name: 'web-1' });
  assert.deepEqual(server.Inbound.TrafficMatches['80']!.HttpServiceRouteRules!['web.app']!.RouteRules, []);
  assert.deepEqual(server.Inbound.TrafficMatches['80']!.HttpHostPort2Service!['web'], { RuleName: 'web.app' });
});

test('compile returns undefined for an unknown pod, a pod without IP, or a pod without a sidecar', () => {
  const catalog = buildCatalog(
    input([...base(), pod('app', 'pending'), pod('app', 'plain', { ip: '10.0.0.7', unmeshed: true })]),
  );
  assert.equal(compileProxySnapshot(catalog, { namespace: 'app', name: 'nope' }), undefined);
  assert.equal(compileProxySnapshot(catalog, { namespace: 'app', name: 'pending' }), undefined);
  assert.equal(compileProxySnapshot(catalog, { namespace: 'app', name: 'plain' }), undefined);
  assert.ok(compileProxySnapshot(catalog, { namespace: 'app', name: 'client' }));
});

test('Spec, Metrics and Pod come from the MeshConfig, the namespace annotation and the pod', () => {
  const s = snap([
    meshConfig({ sidecar: { logLevel: 'debug', sidecarTimeout: 30 }, traffic: { enableEgress: false } }),
    meshedNamespace('app', { 'flomesh.io/metrics': 'enabled' }),
    pod('app', 'client', { ip: '10.0.0.1', labels: { app: 'client' } }),
    service('app', 'client', [{ name: 'http', port: 80 }], { app: 'client' }),
  ]);
  assert.equal(s.Metrics, true);
  assert.deepEqual(s.Spec, {
    ServiceIdentity: 'default.app',
    SidecarLogLevel: 'debug',
    SidecarTimeout: 30,
    Traffic: { EnableEgress: false, HTTP1PerRequestLoadBalancing: false, HTTP2PerRequestLoadBalancing: true },
    FeatureFlags: { EnableSidecarActiveHealthChecks: false, EnableAutoDefaultRoute: false, EnablePluginPolicy: false },
    SidecarDisabledMTLS: false,
  });
  assert.deepEqual(s.Pod, {
    Name: 'client',
    Namespace: 'app',
    ServiceAccount: 'default',
    IP: '10.0.0.1',
    UID: 'uid-app-client',
    Labels: { app: 'client', 'fsm-proxy-uuid': 'uuid-app-client' },
  });
  // Without the app-address annotation the app is on the sidecar's loopback.
  assert.deepEqual(s.Inbound.ClustersConfigs, { 'app/client|80|local': { '127.0.0.1:80': 100 } });
});

test('Spec.PathNormalization carries MeshConfig pathNormalization, and is absent when the MeshConfig leaves it unset', () => {
  const world = (pn?: MeshConfigSpec['pathNormalization']) => [
    meshConfig(pn ? { pathNormalization: pn } : {}),
    meshedNamespace('app'),
    pod('app', 'client', { ip: '10.0.0.1', labels: { app: 'client' } }),
    service('app', 'client', [{ name: 'http', port: 80 }], { app: 'client' }),
  ];
  assert.equal('PathNormalization' in snap(world()).Spec, false);
  assert.deepEqual(snap(world({ normalization: 'MERGE_SLASHES', caseInsensitive: true, stripPathParameters: true })).Spec.PathNormalization, {
    Normalization: 'MERGE_SLASHES', LowerCase: true, StripPathParameters: true,
  });
  // DEFAULT is Tessera's default, stricter than Istio's BASE
  assert.deepEqual(snap(world({ normalization: 'DEFAULT' })).Spec.PathNormalization, { Normalization: 'DECODE_AND_MERGE_SLASHES', LowerCase: false, StripPathParameters: false });
  assert.deepEqual(snap(world({ stripTrailingSlash: true })).Spec.PathNormalization, { Normalization: 'DECODE_AND_MERGE_SLASHES', LowerCase: false, StripPathParameters: false, StripTrailingSlash: true });
});

test('proxies with the same namespace, identity and plugins share one frozen Outbound section', () => {
  const world = [
    ...base(),
    pod('app', 'client-2', { labels: { app: 'client' }, ip: '10.0.0.2' }),
    pod('other', 'peer', { ip: '10.0.0.3' }),
    service('app', 'web', [{ name: 'http', port: 80 }], { app: 'web' }),
  ];
  const catalog = buildCatalog(input(world));
  const a = compileProxySnapshot(catalog, { namespace: 'app', name: 'client' })!;
  const b = compileProxySnapshot(catalog, { namespace: 'app', name: 'client-2' })!;
  const c = compileProxySnapshot(catalog, { namespace: 'other', name: 'peer' })!;
  assert.equal(a.Outbound, b.Outbound);
  assert.notEqual(a.Outbound, c.Outbound);
  assert.ok(Object.isFrozen(a.Outbound.TrafficMatches['80']![0]!.HttpHostPort2Service));
  assert.ok(!Object.isFrozen(a));
});
