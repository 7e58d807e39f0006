/** Table tests for SMI access in the compiler: merging, methods, headers, namespaces, ports, endpoint filtering, ServiceIdentities, caching. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HttpMatch, TrafficTargetRule } from '../api/smi-types.js';
import type { Resource } from '../api/types.js';
import { buildCatalog, compileProxySnapshot } from './index.js';
import type { ProxySnapshot, RouteRule } from './index.js';
import { httpAllowed } from './testdata/access.js';
import { input, meshConfig, meshedNamespace, pod, service } from './testdata/builders.js';
import { PERMISSIVE_OFF } from './testdata/smi-seed.js';

// --- builders ------------------------------------------------------------------------------------

const sa = (name: string, namespace = 'app') => ({ kind: 'ServiceAccount' as const, name, namespace });

function trafficTarget(name: string, destination: string, sources: { name: string; namespace: string }[], rules: TrafficTargetRule[], ns = 'app'): Resource {
  return {
    apiVersion: 'access.smi-spec.io/v1alpha3',
    kind: 'TrafficTarget',
    metadata: { name, namespace: ns },
    spec: { destination: sa(destination, ns), sources: sources.map((s) => sa(s.name, s.namespace)), rules },
  };
}

function routeGroup(name: string, matches: HttpMatch[], ns = 'app'): Resource {
  return { apiVersion: 'specs.smi-spec.io/v1alpha4', kind: 'HTTPRouteGroup', metadata: { name, namespace: ns }, spec: { matches } };
}

function portRoute(kind: 'TCPRoute' | 'UDPRoute', name: string, ports?: number[], ns = 'app'): Resource {
  return { apiVersion: 'specs.smi-spec.io/v1alpha4', kind, metadata: { name, namespace: ns }, spec: ports ? { matches: { ports } } : {} };
}

/** A server pod `web-1` (sa `web`) behind http Service `web:80`, clients `a-1` (sa a) and `b-1` (sa b). */
function world(...policies: Resource[]): Resource[] {
  return [
    PERMISSIVE_OFF,
    meshedNamespace('app'),
    meshedNamespace('other'),
    pod('app', 'web-1', { labels: { app: 'web' }, serviceAccount: 'web', ip: '10.0.0.10' }),
    pod('app', 'a-1', { labels: { app: 'a' }, serviceAccount: 'a', ip: '10.0.0.1' }),
    pod('app', 'b-1', { labels: { app: 'b' }, serviceAccount: 'b', ip: '10.0.0.2' }),
    pod('other', 'c-1', { labels: { app: 'c' }, serviceAccount: 'c', ip: '10.0.1.1' }),
    service('app', 'web', [{ name: 'http', port: 80 }], { app: 'web' }, '10.96.0.10'),
    ...policies,
  ];
}

function compile(resources: Resource[], name = 'web-1', namespace = 'app'): ProxySnapshot {
  const s = compileProxySnapshot(buildCatalog(input(resources)), { namespace, name });
  assert.ok(s);
  return s;
}

function webRoutes(resources: Resource[]): RouteRule[] {
  return compile(resources).Inbound.TrafficMatches['80']!.HttpServiceRouteRules!['web.app']!.RouteRules;
}

const CLUSTER = { 'app/web|80|local': 100 };
const httpRule = (name: string, matches?: string[]): TrafficTargetRule => ({ kind: 'HTTPRouteGroup', name, ...(matches ? { matches } : {}) });

// --- inbound routes ------------------------------------------------------------------------------

test('equal routes from two TrafficTargets merge into one with the union of identities', () => {
  const routes = webRoutes(
    world(
      routeGroup('g', [{ name: 'api', pathRegex: '/api', methods: ['GET'] }]),
      trafficTarget('t1', 'web', [{ name: 'b', namespace: 'app' }], [httpRule('g')]),
      trafficTarget('t2', 'web', [{ name: 'a', namespace: 'app' }, { name: 'b', namespace: 'app' }], [httpRule('g', ['api'])]),
    ),
  );
  assert.deepEqual(routes, [{ Path: '/api', Type: 'Regex', Methods: ['GET'], TargetClusters: CLUSTER, AllowedServices: ['a.app', 'b.app'] }]);
});

test('methods: `*` or none means any method (no Methods); a list is kept, sorted and deduplicated', () => {
  const routes = webRoutes(
    world(
      routeGroup('g', [
        { name: 'star', pathRegex: '/star', methods: ['*'] },
        { name: 'mixed', pathRegex: '/mixed', methods: ['GET', '*'] },
        { name: 'none', pathRegex: '/none' },
        { name: 'list', pathRegex: '/list', methods: ['POST', 'GET', 'POST'] },
      ]),
      trafficTarget('t', 'web', [{ name: 'a', namespace: 'app' }], [httpRule('g')]),
    ),
  );
  assert.deepEqual(
    routes.map((r) => [r.Path, r.Methods]),
    [['/list', ['GET', 'POST']], ['/mixed', undefined], ['/none', undefined], ['/star', undefined]],
  );
});

test('headers become lower-case Headers (ANDed); a missing pathRegex is the catch-all, which sorts last', () => {
  const routes = webRoutes(
    world(
      routeGroup('g', [
        { name: 'any', headers: { 'X-Canary': 'true' } },
        { name: 'api', pathRegex: '/api', headers: { 'X-Canary': 'true', 'User-Agent': '.*Firefox.*' } },
        { name: 'api-plain', pathRegex: '/api' },
      ]),
      trafficTarget('t', 'web', [{ name: 'a', namespace: 'app' }], [httpRule('g')]),
    ),
  );
  assert.deepEqual(
    routes.map((r) => [r.Path, r.Headers]),
    [
      ['/api', { 'user-agent': '.*Firefox.*', 'x-canary': 'true' }],
      ['/api', undefined],
      ['.*', { 'x-canary': 'true' }],
    ],
  );
  const inbound = compile(world(...worldPolicies())).Inbound;
  const req = { port: 80, host: 'web', method: 'GET', path: '/api', from: 'a.app' };
  assert.equal(httpAllowed(inbound, { ...req, headers: { 'x-canary': 'true' } }), true);
  assert.equal(httpAllowed(inbound, req), false);

  function worldPolicies(): Resource[] {
    return [
      routeGroup('g', [{ name: 'canary', pathRegex: '/api', headers: { 'X-Canary': 'true' } }]),
      trafficTarget('t', 'web', [{ name: 'a', namespace: 'app' }], [httpRule('g')]),
    ];
  }
});

test('a source in another namespace is allowed by its identity, and reaches the service outbound', () => {
  const policies = [
    routeGroup('g', [{ name: 'all', pathRegex: '.*' }]),
    trafficTarget('t', 'web', [{ name: 'c', namespace: 'other' }], [httpRule('g')]),
  ];
  assert.deepEqual(webRoutes(world(...policies)), [{ Path: '.*', Type: 'Regex', TargetClusters: CLUSTER, AllowedServices: ['c.other'] }]);
  const c = compile(world(...policies), 'c-1', 'other');
  assert.deepEqual(c.Outbound.ClustersConfigs['app/web|80'], { Endpoints: { '10.0.0.10:80': { Weight: 100 } }, ServiceIdentities: ['web.app'] });
  // a.app has the same SA name in no TrafficTarget: nothing
  assert.deepEqual(compile(world(...policies), 'a-1').Outbound.ClustersConfigs, {});
});

test('a TrafficTarget outside its destination’s namespace grants nothing even if it got stored', () => {
  const tt = trafficTarget('t', 'web', [{ name: 'a', namespace: 'app' }], [httpRule('g')], 'other');
  (tt.spec as { destination: { namespace: string } }).destination.namespace = 'app';
  assert.deepEqual(webRoutes(world(routeGroup('g', [{ name: 'all' }], 'other'), tt)), []);
});

test('route specs resolve in the TrafficTarget’s namespace; missing groups, routes and match names grant nothing', () => {
  const routes = webRoutes(
    world(
      routeGroup('elsewhere', [{ name: 'all' }], 'other'),
      routeGroup('g', [{ name: 'api', pathRegex: '/api' }]),
      trafficTarget('t1', 'web', [{ name: 'a', namespace: 'app' }], [httpRule('elsewhere')]),
      trafficTarget('t2', 'web', [{ name: 'a', namespace: 'app' }], [httpRule('g', ['nope'])]),
      // a TCPRoute that does not exist: no ports, and the target has HTTP rules, so no wildcard either
      trafficTarget('t3', 'web', [{ name: 'b', namespace: 'app' }], [httpRule('missing'), { kind: 'TCPRoute', name: 'missing' }]),
    ),
  );
  assert.deepEqual(routes, []);
});

test('a TCPRoute-only target allows any HTTP request on its ports (smi-conformance traffic access)', () => {
  const on = (ports: number[] | undefined) =>
    webRoutes(world(portRoute('TCPRoute', 'p', ports), trafficTarget('t', 'web', [{ name: 'a', namespace: 'app' }], [{ kind: 'TCPRoute', name: 'p' }])));
  const wildcard = [{ Path: '.*', Type: 'Regex', TargetClusters: CLUSTER, AllowedServices: ['a.app'] }];
  assert.deepEqual(on([]), wildcard, 'ports: [] is every port');
  assert.deepEqual(on(undefined), wildcard, 'no matches is every port');
  assert.deepEqual(on([80]), wildcard);
  assert.deepEqual(on([8080]), [], 'another port');
});

test('HTTPRouteGroup rules apply on the ports of the same target’s TCPRoute rules, or on every port without one', () => {
  const group = routeGroup('g', [{ name: 'api', pathRegex: '/api' }]);
  const routesWith = (ports: number[]) =>
    webRoutes(world(group, portRoute('TCPRoute', 'p', ports), trafficTarget('t', 'web', [{ name: 'a', namespace: 'app' }], [httpRule('g'), { kind: 'TCPRoute', name: 'p' }])));
  assert.deepEqual(routesWith([80]).map((r) => r.Path), ['/api']);
  assert.deepEqual(routesWith([9999]), []);
  const noTcp = webRoutes(world(group, trafficTarget('t', 'web', [{ name: 'a', namespace: 'app' }], [httpRule('g')])));
  assert.deepEqual(noTcp.map((r) => r.Path), ['/api']);
  // a UDPRoute-only target grants no HTTP
  const udpOnly = webRoutes(world(portRoute('UDPRoute', 'u', []), trafficTarget('t', 'web', [{ name: 'a', namespace: 'app' }], [{ kind: 'UDPRoute', name: 'u' }])));
  assert.deepEqual(udpOnly, []);
});

test('TCP services: a TCPRoute port given as Service port or targetPort allows; nothing else does', () => {
  const tcpWorld = (...policies: Resource[]) => [
    ...world(...policies),
    service('app', 'db', [{ name: 'tcp-db', port: 5432, targetPort: 15432 }], { app: 'web' }, '10.96.0.11'),
  ];
  const rule = (resources: Resource[]) => compile(resources).Inbound.TrafficMatches['15432']!.TcpServiceRouteRules!['db.app'];
  const target = trafficTarget('t', 'web', [{ name: 'a', namespace: 'app' }], [{ kind: 'TCPRoute', name: 'p' }]);
  const allowed = { TargetClusters: { 'app/db|15432|local': 100 }, AllowedServices: ['a.app'] };
  assert.deepEqual(rule(tcpWorld(portRoute('TCPRoute', 'p', [5432]), target)), allowed);
  assert.deepEqual(rule(tcpWorld(portRoute('TCPRoute', 'p', [15432]), target)), allowed);
  assert.deepEqual(rule(tcpWorld(portRoute('TCPRoute', 'p', [80]), target)), { TargetClusters: {}, AllowedServices: [] });
  // HTTPRouteGroup rules never open a TCP port
  const httpOnly = trafficTarget('t', 'web', [{ name: 'a', namespace: 'app' }], [httpRule('g')]);
  assert.deepEqual(rule(tcpWorld(routeGroup('g', [{ name: 'all' }]), httpOnly)), { TargetClusters: {}, AllowedServices: [] });
  assert.deepEqual(compile(tcpWorld()).Inbound.ClustersConfigs, {});
});

// --- UDP -----------------------------------------------------------------------------------------

test('UDPRoute: empty ports mean every UDP Service port (as the pod receives it); IdentityByIP lists only allowed sources', () => {
  const resources = [
    ...world(portRoute('UDPRoute', 'u'), trafficTarget('t', 'web', [{ name: 'a', namespace: 'app' }], [{ kind: 'UDPRoute', name: 'u' }])),
    service('app', 'dns', [{ name: 'dns', port: 53, targetPort: 5353, protocol: 'UDP' }, { name: 'syslog', port: 514, protocol: 'UDP' }], { app: 'web' }),
  ];
  const inbound = compile(resources).Inbound;
  assert.deepEqual(inbound.UdpAllowed, { '514': ['a.app'], '5353': ['a.app'] });
  assert.deepEqual(inbound.IdentityByIP, { '10.0.0.1': 'a.app' });
});

test('UDPRoute: a listed Service port maps to its targetPort; a port no Service names is the pod’s own', () => {
  const resources = [
    ...world(portRoute('UDPRoute', 'u', [53, 9000]), trafficTarget('t', 'web', [{ name: 'a', namespace: 'app' }, { name: 'c', namespace: 'other' }], [{ kind: 'UDPRoute', name: 'u' }])),
    service('app', 'dns', [{ name: 'dns', port: 53, targetPort: 5353, protocol: 'UDP' }], { app: 'web' }),
  ];
  const inbound = compile(resources).Inbound;
  assert.deepEqual(inbound.UdpAllowed, { '5353': ['a.app', 'c.other'], '9000': ['a.app', 'c.other'] });
  assert.deepEqual(inbound.IdentityByIP, { '10.0.0.1': 'a.app', '10.0.1.1': 'c.other' });
});

test('IdentityByIP leaves out an address two live pods claim', () => {
  const resources = [
    ...world(portRoute('UDPRoute', 'u', [9000]), trafficTarget('t', 'web', [{ name: 'a', namespace: 'app' }], [{ kind: 'UDPRoute', name: 'u' }])),
    pod('app', 'a-2', { labels: { app: 'a' }, serviceAccount: 'a', ip: '10.0.0.2' }), // same IP as b-1
  ];
  assert.deepEqual(compile(resources).Inbound.IdentityByIP, { '10.0.0.1': 'a.app' });
});

// --- outbound ------------------------------------------------------------------------------------

test('outbound endpoints are filtered to pods of reachable identities; ServiceIdentities lists theirs', () => {
  const resources = [
    ...world(routeGroup('g', [{ name: 'all' }]), trafficTarget('t', 'web', [{ name: 'a', namespace: 'app' }], [httpRule('g')])),
    // a second pod behind `web` that runs as `b`, which no TrafficTarget names as destination
    pod('app', 'web-b', { labels: { app: 'web' }, serviceAccount: 'b', ip: '10.0.0.20' }),
  ];
  const a = compile(resources, 'a-1');
  assert.deepEqual(a.Outbound.ClustersConfigs['app/web|80'], { Endpoints: { '10.0.0.10:80': { Weight: 100 } }, ServiceIdentities: ['web.app'] });
  // a client the target does not list: web is outside its scope, so no match, no cluster and no
  // Dns entry (the sidecar refuses the name, and the cluster IP ServiceIPs still maps)
  const b = compile(resources, 'b-1');
  assert.deepEqual(b.Outbound.TrafficMatches, {});
  assert.deepEqual(b.Outbound.ClustersConfigs, {});
  assert.deepEqual(b.Outbound.Scope, { TrafficTargets: true });
  assert.equal(b.Dns['web.app.svc.cluster.local'], undefined);
  assert.equal(b.ServiceIPs['10.96.0.10'], 'web.app.svc.cluster.local');
});

test('a UDPRoute-only target does not make the destination’s services reachable outbound', () => {
  const resources = world(portRoute('UDPRoute', 'u', [53]), trafficTarget('t', 'web', [{ name: 'a', namespace: 'app' }], [{ kind: 'UDPRoute', name: 'u' }]));
  assert.deepEqual(compile(resources, 'a-1').Outbound.ClustersConfigs, {});
});

test('permissive mode: every endpoint, ServiceIdentities of all of them, no TCP AllowedServices, no UDP sections', () => {
  const resources = [
    meshConfig({}),
    ...world(portRoute('UDPRoute', 'u', [53]), trafficTarget('t', 'web', [{ name: 'a', namespace: 'app' }], [{ kind: 'UDPRoute', name: 'u' }])).slice(1),
    pod('app', 'web-b', { labels: { app: 'web' }, serviceAccount: 'b', ip: '10.0.0.20' }),
    service('app', 'db', [{ name: 'tcp-db', port: 5432 }], { app: 'web' }),
  ];
  const a = compile(resources, 'a-1');
  assert.deepEqual(a.Outbound.ClustersConfigs['app/web|80'], {
    Endpoints: { '10.0.0.10:80': { Weight: 100 }, '10.0.0.20:80': { Weight: 100 } },
    ServiceIdentities: ['b.app', 'web.app'],
  });
  const web = compile(resources).Inbound;
  assert.deepEqual(web.TrafficMatches['5432']!.TcpServiceRouteRules!['db.app'], { TargetClusters: { 'app/db|5432|local': 100 } });
  assert.equal(web.UdpAllowed, undefined);
  assert.equal(web.IdentityByIP, undefined);
  assert.equal(web.TrafficMatches['80']!.HttpServiceRouteRules!['web.app']!.RouteRules[0]!.AllowedServices, undefined);
});

test('the Outbound cache is per identity: same namespace, different grants, different sections', () => {
  const resources = [
    ...world(routeGroup('g', [{ name: 'all' }]), trafficTarget('t', 'web', [{ name: 'a', namespace: 'app' }], [httpRule('g')])),
    pod('app', 'a-2', { labels: { app: 'a' }, serviceAccount: 'a', ip: '10.0.0.3' }),
  ];
  const catalog = buildCatalog(input(resources));
  const a1 = compileProxySnapshot(catalog, { namespace: 'app', name: 'a-1' })!;
  const a2 = compileProxySnapshot(catalog, { namespace: 'app', name: 'a-2' })!;
  const b1 = compileProxySnapshot(catalog, { namespace: 'app', name: 'b-1' })!;
  assert.equal(a1.Outbound, a2.Outbound);
  assert.notEqual(a1.Outbound, b1.Outbound);
  assert.ok(a1.Outbound.ClustersConfigs['app/web|80']);
  assert.equal(b1.Outbound.ClustersConfigs['app/web|80'], undefined);
});

test('compiling is deterministic whatever order the store lists the policies in', () => {
  const resources = world(
    routeGroup('g', [{ name: 'x', pathRegex: '/x' }, { name: 'y', pathRegex: '/y', methods: ['GET'] }]),
    trafficTarget('t1', 'web', [{ name: 'a', namespace: 'app' }], [httpRule('g', ['y'])]),
    trafficTarget('t2', 'web', [{ name: 'b', namespace: 'app' }], [httpRule('g')]),
  );
  assert.deepEqual(compile(resources), compile([...resources].reverse()));
});
