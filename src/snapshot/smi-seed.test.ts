/** Seed 003's SMI examples compiled with permissive mode off: the L7 access table, revocation, and the L4 TCP/UDP ports. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Resource } from '../api/types.js';
import { buildCatalog, compileProxySnapshot } from './index.js';
import type { ProxySnapshot } from './index.js';
import { httpAllowed, tcpAllowed, udpAllowed } from './testdata/access.js';
import { input } from './testdata/builders.js';
import { assertGolden } from './testdata/golden.js';
import { L4_CLIENT, L4_SERVER, L7_WORKLOADS, l4World, l7Pod, l7World, seedExampleResources } from './testdata/smi-seed.js';

function compile(world: Resource[], who: { namespace: string; name: string }): ProxySnapshot {
  const s = compileProxySnapshot(buildCatalog(input(world)), who);
  assert.ok(s, `snapshot of ${who.name}`);
  return s;
}

const identity = (sa: string) => `${sa}.default`;
const METHODS = ['GET', 'POST', 'DELETE'];
const PATHS = ['/api', '/metrics', '/', '/api/v1', '/metricsx'];

/** The seed's table: website and payments reach api-service `/api` with any method; prometheus GET `/metrics`. */
function seedTableAllows(source: string, destination: string, method: string, path: string, withMetricsTarget = true): boolean {
  if (destination !== 'api-service') return false;
  if ((source === 'website-service' || source === 'payments-service') && path === '/api') return true;
  return withMetricsTarget && source === 'prometheus' && path === '/metrics' && method === 'GET';
}

/** Every (source, destination, method, path) combination against the compiled inbound of the destination. */
function assertAccessTable(world: Resource[], withMetricsTarget: boolean): void {
  for (const dst of L7_WORKLOADS) {
    const inbound = compile(world, l7Pod(dst.name)).Inbound;
    for (const src of L7_WORKLOADS) {
      for (const method of METHODS) {
        for (const path of PATHS) {
          const got = httpAllowed(inbound, { port: 8080, host: `${dst.name}:8080`, method, path, from: identity(src.sa) });
          const want = seedTableAllows(src.sa, dst.sa, method, path, withMetricsTarget);
          assert.equal(got, want, `${src.sa} → ${dst.sa} ${method} ${path}`);
        }
      }
    }
  }
}

describe('seed 003 L7 example (permissive mode off)', () => {
  it('the seed’s manifests, apiVersions added, validate and compile to the golden api-service inbound', () => {
    const api = compile(l7World(), l7Pod('api'));
    assertGolden('smi-l7-api-service', api.Inbound);
  });

  it('api-service gets exactly two routes: /api for website and payments, GET /metrics for prometheus', () => {
    const rules = compile(l7World(), l7Pod('api')).Inbound.TrafficMatches['8080']!.HttpServiceRouteRules!['api.default']!.RouteRules;
    assert.deepEqual(rules, [
      { Path: '/api', Type: 'Regex', TargetClusters: { 'default/api|8080|local': 100 }, AllowedServices: ['payments-service.default', 'website-service.default'] },
      { Path: '/metrics', Type: 'Regex', Methods: ['GET'], TargetClusters: { 'default/api|8080|local': 100 }, AllowedServices: ['prometheus.default'] },
    ]);
  });

  it('the seed’s table holds and every other combination has no route', () => {
    assertAccessTable(l7World(), true);
  });

  it('no other workload has any inbound route: no TrafficTarget, nothing allowed', () => {
    for (const w of L7_WORKLOADS.filter((x) => x.name !== 'api')) {
      const s = compile(l7World(), l7Pod(w.name));
      assert.deepEqual(s.Inbound.TrafficMatches['8080']!.HttpServiceRouteRules![`${w.name}.default`]!.RouteRules, []);
      assert.deepEqual(s.Inbound.ClustersConfigs, {});
    }
  });

  it('outbound: the sources reach api-service only (wildcard route, filtered endpoints, nothing else in scope); api-service reaches nothing', () => {
    const prometheus = compile(l7World(), l7Pod('prometheus'));
    assertGolden('smi-l7-prometheus-outbound', prometheus.Outbound);
    for (const src of ['website', 'payments', 'prometheus']) {
      const out = compile(l7World(), l7Pod(src)).Outbound;
      const rules = out.TrafficMatches['8080']![0]!.HttpServiceRouteRules!;
      assert.deepEqual(rules['api.default']!.RouteRules, [{ Path: '.*', Type: 'Regex', TargetClusters: { 'default/api|8080': 100 } }], src);
      // scoped by TrafficTargets: the services it may not reach are not in its config at all
      assert.deepEqual(Object.keys(rules), ['api.default'], src);
      assert.deepEqual(out.Scope, { TrafficTargets: true });
      assert.deepEqual(Object.keys(compile(l7World(), l7Pod(src)).Dns).filter((n) => n.endsWith('.default.svc.cluster.local')), ['api.default.svc.cluster.local'], src);
      assert.deepEqual(out.ClustersConfigs, {
        'default/api|8080': { Endpoints: { '10.1.0.1:8080': { Weight: 100 } }, ServiceIdentities: ['api-service.default'] },
      });
    }
    const api = compile(l7World(), l7Pod('api')).Outbound;
    assert.deepEqual(api.ClustersConfigs, {});
    assert.deepEqual(api.TrafficMatches, {});
  });

  it('deleting a TrafficTarget revokes exactly what it granted', () => {
    const withoutMetrics = seedExampleResources('L7').filter((r) => r.metadata.name !== 'api-service-metrics');
    assertAccessTable(l7World(withoutMetrics), false);
    const prometheus = compile(l7World(withoutMetrics), l7Pod('prometheus')).Outbound;
    assert.deepEqual(prometheus.ClustersConfigs, {});

    const noTargets = seedExampleResources('L7').filter((r) => r.kind !== 'TrafficTarget');
    const api = compile(l7World(noTargets), l7Pod('api'));
    assert.deepEqual(api.Inbound.TrafficMatches['8080']!.HttpServiceRouteRules!['api.default']!.RouteRules, []);
  });
});

describe('seed 003 L4 example (permissive mode off)', () => {
  it('compiles to the golden server inbound', () => {
    assertGolden('smi-l4-server', compile(l4World(), L4_SERVER).Inbound);
  });

  it('TCP to 8300, 8301 and 8302 is allowed from client only', () => {
    const inbound = compile(l4World(), L4_SERVER).Inbound;
    for (const port of [8300, 8301, 8302]) {
      assert.deepEqual(inbound.TrafficMatches[String(port)]!.TcpServiceRouteRules, {
        'server.default': { TargetClusters: { [`default/server|${port}|local`]: 100 }, AllowedServices: ['client.default'] },
      });
      assert.equal(tcpAllowed(inbound, port, 'server.default', 'client.default'), true);
      assert.equal(tcpAllowed(inbound, port, 'server.default', 'server.default'), false);
    }
  });

  it('UDP is allowed to 8301 and 8302 from the client’s pod address, and not to 8300', () => {
    const inbound = compile(l4World(), L4_SERVER).Inbound;
    assert.deepEqual(inbound.UdpAllowed, { '8301': ['client.default'], '8302': ['client.default'] });
    assert.deepEqual(inbound.IdentityByIP, { '10.2.0.2': 'client.default' });
    assert.equal(udpAllowed(inbound, 8301, '10.2.0.2'), true);
    assert.equal(udpAllowed(inbound, 8302, '10.2.0.2'), true);
    assert.equal(udpAllowed(inbound, 8300, '10.2.0.2'), false);
    assert.equal(udpAllowed(inbound, 8301, '10.2.0.1'), false, 'the server’s own address is not a listed source');
    assert.equal(udpAllowed(inbound, 8301, '10.9.9.9'), false, 'an address outside the mesh has no identity');
  });

  it('the client reaches the server’s TCP ports; the client itself accepts nothing', () => {
    const client = compile(l4World(), L4_CLIENT);
    for (const port of ['8300', '8301', '8302']) {
      assert.deepEqual(client.Outbound.TrafficMatches[port]![0]!.TcpServiceRouteRules!['server.default']!.TargetClusters, {
        [`default/server|${port}`]: 100,
      });
    }
    assert.deepEqual(client.Outbound.ClustersConfigs['default/server|8301']!.ServiceIdentities, ['server.default']);
    assert.equal(client.Inbound.UdpAllowed, undefined);
  });

  it('deleting the TrafficTarget closes TCP and UDP', () => {
    const inbound = compile(l4World(seedExampleResources('L4').filter((r) => r.kind !== 'TrafficTarget')), L4_SERVER).Inbound;
    for (const port of [8300, 8301, 8302]) assert.equal(tcpAllowed(inbound, port, 'server.default', 'client.default'), false);
    assert.equal(inbound.UdpAllowed, undefined);
    assert.equal(inbound.IdentityByIP, undefined);
  });
});
