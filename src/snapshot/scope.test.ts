/**
 * Outbound scope (scope.ts): which Services a proxy's Outbound and Dns carry — from SMI TrafficTargets
 * with permissive mode off, from Istio's networking Sidecar `egress[].hosts` in any mode — which
 * Sidecar applies to a pod, and that proxies of one scope still share one Outbound.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Resource } from '../api/types.js';
import type { ServiceInfo } from '../catalog/types.js';
import { parseSidecarHost } from '../api/networking-types.js';
import { buildCatalog, compileProxySnapshot, type ProxySnapshot } from './index.js';
import { hostSelects, sidecarFor } from './scope.js';
import { input, meshConfig, meshedNamespace, namespace, pod, service } from './testdata/builders.js';

/** Namespaces a and b, three HTTP services each (svc-0..2, one pod and ServiceAccount each), plus `ext` outside the mesh. */
function world(permissive: boolean, extra: Resource[] = []): Resource[] {
  const out: Resource[] = [meshConfig({ traffic: { enablePermissiveTrafficPolicyMode: permissive } }), ...extra];
  let ip = 1;
  for (const ns of ['a', 'b']) {
    out.push(meshedNamespace(ns));
    for (const i of [0, 1, 2]) {
      const name = `svc-${i}`;
      out.push(
        service(ns, name, [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }], { app: name }, `10.96.${ns === 'a' ? 1 : 2}.${i}`),
        pod(ns, `${name}-0`, { labels: { app: name, tier: i === 0 ? 'front' : 'back' }, ip: `127.8.0.${ip++}`, serviceAccount: name }),
      );
    }
  }
  out.push(namespace('outside'), service('outside', 'ext', [{ port: 8079 }], { app: 'ext' }), pod('outside', 'ext-1', { labels: { app: 'ext' }, ip: '127.8.1.1', unmeshed: true }));
  return out;
}

function sidecar(ns: string, name: string, hosts: string[] | undefined, labels?: Record<string, string>): Resource {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'Sidecar',
    metadata: { name, namespace: ns },
    spec: { ...(labels ? { workloadSelector: { labels } } : {}), ...(hosts ? { egress: [{ hosts }] } : {}) },
  };
}

function trafficTarget(name: string, destination: string, source: string, ns = 'b', sourceNs = 'a'): Resource[] {
  return [
    { apiVersion: 'specs.smi-spec.io/v1alpha4', kind: 'HTTPRouteGroup', metadata: { name: `${name}-routes`, namespace: ns }, spec: { matches: [{ name: 'all', pathRegex: '.*' }] } },
    {
      apiVersion: 'access.smi-spec.io/v1alpha3',
      kind: 'TrafficTarget',
      metadata: { name, namespace: ns },
      spec: {
        destination: { kind: 'ServiceAccount', name: destination, namespace: ns },
        sources: [{ kind: 'ServiceAccount', name: source, namespace: sourceNs }],
        rules: [{ kind: 'HTTPRouteGroup', name: `${name}-routes` }],
      },
    },
  ];
}

function compile(resources: Resource[], who = 'a/svc-0-0'): ProxySnapshot {
  const [namespace, name] = who.split('/') as [string, string];
  const s = compileProxySnapshot(buildCatalog(input(resources)), { namespace, name });
  assert.ok(s, `a snapshot for ${who}`);
  return s;
}

/** The service rules an Outbound carries, sorted. */
const outboundServices = (s: ProxySnapshot): string[] =>
  Object.values(s.Outbound.TrafficMatches).flat().flatMap((m) => Object.keys({ ...m.HttpServiceRouteRules, ...m.TcpServiceRouteRules })).sort();
const dnsNames = (s: ProxySnapshot): string[] => Object.keys(s.Dns).sort();

describe('outbound scope from SMI TrafficTargets (permissive mode off)', () => {
  it('a client carries only the services backed by identities it may reach; Services outside the mesh stay in Dns', () => {
    const s = compile(world(false, [...trafficTarget('t1', 'svc-1', 'svc-0'), ...trafficTarget('t2', 'svc-2', 'svc-0')]));
    assert.deepEqual(outboundServices(s), ['svc-1.b', 'svc-2.b']);
    assert.deepEqual(Object.keys(s.Outbound.ClustersConfigs).sort(), ['b/svc-1|80', 'b/svc-2|80']);
    assert.deepEqual(dnsNames(s), ['ext.outside.svc.cluster.local', 'svc-1.b.svc.cluster.local', 'svc-2.b.svc.cluster.local']);
    assert.deepEqual(s.Outbound.Scope, { TrafficTargets: true });
    assert.equal(Object.keys(s.ServiceIPs).length, 6, 'ServiceIPs stays whole: the sidecar refuses the others by address');
  });

  it('a client no TrafficTarget lists carries no mesh service at all', () => {
    const s = compile(world(false, trafficTarget('t1', 'svc-1', 'svc-0')), 'a/svc-1-0');
    assert.deepEqual(outboundServices(s), []);
    assert.deepEqual(dnsNames(s), ['ext.outside.svc.cluster.local']);
  });
});

describe('outbound scope from a networking Sidecar', () => {
  const hostsCase = (hosts: string[], who = 'a/svc-0-0'): string[] => outboundServices(compile(world(true, [sidecar('a', 'default', hosts)]), who));

  it('without a Sidecar, permissive mode carries every mesh service and no Scope', () => {
    const s = compile(world(true));
    assert.equal(outboundServices(s).length, 6);
    assert.equal(s.Outbound.Scope, undefined);
    assert.equal(dnsNames(s).length, 7);
  });

  it('"./*" is the Sidecar\'s own namespace, "ns/*" a namespace, "*/*" everything', () => {
    assert.deepEqual(hostsCase(['./*']), ['svc-0.a', 'svc-1.a', 'svc-2.a']);
    assert.deepEqual(hostsCase(['b/*']), ['svc-0.b', 'svc-1.b', 'svc-2.b']);
    assert.equal(hostsCase(['*/*']).length, 6);
  });

  it('an exact FQDN, a left-most wildcard, and "*/" with a name in any namespace', () => {
    assert.deepEqual(hostsCase(['b/svc-1.b.svc.cluster.local']), ['svc-1.b']);
    assert.deepEqual(hostsCase(['*/svc-1.b.svc.cluster.local']), ['svc-1.b']);
    assert.deepEqual(hostsCase(['*/*.b.svc.cluster.local']), ['svc-0.b', 'svc-1.b', 'svc-2.b']);
    // the namespace part must agree with the name
    assert.deepEqual(hostsCase(['a/svc-1.b.svc.cluster.local']), []);
    // a short name is not an FQDN and names nothing (Istio wants the FQDN)
    assert.deepEqual(hostsCase(['b/svc-1']), []);
  });

  it('"~/*" names nothing: the proxy carries no service', () => {
    const s = compile(world(true, [sidecar('a', 'default', ['~/*'])]));
    assert.deepEqual(outboundServices(s), []);
    assert.deepEqual(dnsNames(s), []);
    assert.deepEqual(s.Outbound.Scope, { Sidecar: 'a/default' });
  });

  it('the egress list also scopes Services outside the mesh (Dns)', () => {
    const s = compile(world(true, [sidecar('a', 'default', ['./svc-1.a.svc.cluster.local', 'outside/*'])]));
    assert.deepEqual(outboundServices(s), ['svc-1.a']);
    assert.deepEqual(dnsNames(s), ['ext.outside.svc.cluster.local', 'svc-1.a.svc.cluster.local']);
  });

  it('with SMI too, both apply: only what the TrafficTargets grant and the egress list names', () => {
    const smi = [...trafficTarget('t1', 'svc-1', 'svc-0'), ...trafficTarget('t2', 'svc-2', 'svc-0')];
    const s = compile(world(false, [...smi, sidecar('a', 'default', ['b/svc-2.b.svc.cluster.local', 'a/*'])]));
    assert.deepEqual(outboundServices(s), ['svc-2.b']);
    assert.deepEqual(s.Outbound.Scope, { Sidecar: 'a/default', TrafficTargets: true });
  });

  it('with egress off, ServiceIPs follows the scope too (an unknown address is refused anyway)', () => {
    const off = (extra: Resource[]) => world(true, extra).map((r) => (r.kind === 'MeshConfig' ? meshConfig({ traffic: { enableEgress: false } }) : r));
    const scoped = compile(off([sidecar('a', 'default', ['b/svc-1.b.svc.cluster.local'])]));
    assert.deepEqual(scoped.ServiceIPs, { '10.96.2.1': 'svc-1.b.svc.cluster.local' });
    assert.equal(Object.keys(compile(off([])).ServiceIPs).length, 6, 'unscoped: every address');
    assert.equal(Object.keys(compile(world(true, [sidecar('a', 'default', ['b/svc-1.b.svc.cluster.local'])])).ServiceIPs).length, 6, 'egress on: every address');
  });

  it('a Sidecar without an egress list restricts nothing', () => {
    const s = compile(world(true, [sidecar('a', 'default', undefined)]));
    assert.equal(outboundServices(s).length, 6);
    assert.equal(s.Outbound.Scope, undefined);
  });
});

describe('which Sidecar applies', () => {
  const catalogWith = (extra: Resource[]) => buildCatalog(input(world(true, extra)));
  const applied = (extra: Resource[], who: string): string | undefined => {
    const catalog = catalogWith(extra);
    const p = catalog.pods.get(who)!;
    const s = sidecarFor(catalog, p);
    return s ? `${s.metadata.namespace}/${s.metadata.name}` : undefined;
  };

  it('a workload-selected Sidecar wins over its namespace\'s, which wins over the root namespace\'s', () => {
    const all = [sidecar('fsm-system', 'default', ['*/*']), sidecar('a', 'default', ['./*']), sidecar('a', 'front', ['b/*'], { tier: 'front' })];
    assert.equal(applied(all, 'a/svc-0-0'), 'a/front');
    assert.equal(applied(all, 'a/svc-1-0'), 'a/default');
    assert.equal(applied(all, 'b/svc-1-0'), 'fsm-system/default');
    assert.equal(applied(all.slice(1), 'b/svc-1-0'), undefined, 'no Sidecar for b: unscoped');
    assert.deepEqual(outboundServices(compile(world(true, all))), ['svc-0.b', 'svc-1.b', 'svc-2.b']);
    assert.deepEqual(outboundServices(compile(world(true, all), 'a/svc-1-0')), ['svc-0.a', 'svc-1.a', 'svc-2.a']);
  });

  it('Sidecars of another namespace, and selected ones in the root namespace, do not apply elsewhere', () => {
    assert.equal(applied([sidecar('b', 'default', ['./*'])], 'a/svc-0-0'), undefined);
    assert.equal(applied([sidecar('fsm-system', 'front', ['./*'], { tier: 'front' })], 'a/svc-0-0'), undefined);
  });

  it('two candidates at one level: the first by name wins', () => {
    assert.equal(applied([sidecar('a', 'zz', ['./*'], { app: 'svc-0' }), sidecar('a', 'aa', ['b/*'], { tier: 'front' })], 'a/svc-0-0'), 'a/aa');
  });
});

describe('sharing', () => {
  it('proxies of one namespace under one Sidecar share one Outbound and one Dns object', () => {
    const catalog = buildCatalog(input(world(true, [sidecar('a', 'default', ['b/*'])])));
    const [x, y] = ['svc-0-0', 'svc-1-0'].map((name) => compileProxySnapshot(catalog, { namespace: 'a', name })!);
    assert.equal(x!.Outbound, y!.Outbound);
    assert.equal(x!.Dns, y!.Dns);
    assert.ok(Object.isFrozen(x!.Dns));
    // the clusters are the shared, unfiltered ones of the unscoped mesh
    const other = compileProxySnapshot(catalog, { namespace: 'b', name: 'svc-0-0' })!;
    assert.equal(x!.Outbound.ClustersConfigs['b/svc-1|80'], other.Outbound.ClustersConfigs['b/svc-1|80']);
  });
});

describe('hostSelects', () => {
  const svc = { namespace: 'prod', name: 'api' } as ServiceInfo;
  const sel = (host: string, sidecarNs = 'prod'): boolean => hostSelects(parseSidecarHost(host, sidecarNs), svc);
  it('follows Istio\'s namespace/dnsName rules', () => {
    assert.ok(sel('./*'));
    assert.ok(!sel('./*', 'dev'));
    assert.ok(sel('*/api.prod.svc.cluster.local'));
    assert.ok(sel('prod/*.svc.cluster.local'));
    assert.ok(sel('prod/API.prod.svc.cluster.local'), 'names are case-insensitive');
    assert.ok(!sel('~/*'));
    assert.ok(!sel('prod/*.api.prod.svc.cluster.local'), 'a wildcard stands for at least one label');
  });
});
