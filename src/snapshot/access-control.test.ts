/**
 * Table tests for AccessControl in the compiler: FSM's selection rules, the SourceIPRanges they give,
 * and the AccessControlRoute that takes admitted clients to the backend whatever SMI allows.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AccessControlBackend, AccessControlSource } from '../api/policy-types.js';
import type { Resource } from '../api/types.js';
import { buildCatalog, compileProxySnapshot, snapshotVersion } from './index.js';
import type { ProxySnapshot } from './index.js';
import { httpAllowed, outsideClientAllowed, tcpAllowed } from './testdata/access.js';
import { input, meshConfig, meshedNamespace, namespace, pod, service } from './testdata/builders.js';
import { assertGolden } from './testdata/golden.js';
import { PERMISSIVE_OFF } from './testdata/smi-seed.js';

function acl(name: string, ns: string, sources: AccessControlSource[], backends?: AccessControlBackend[]): Resource {
  return { apiVersion: 'policy.flomesh.io/v1alpha1', kind: 'AccessControl', metadata: { name, namespace: ns }, spec: { sources, ...(backends ? { backends } : {}) } };
}

const ipRange = (name: string): AccessControlSource => ({ kind: 'IPRange', name });
const principal = (name: string): AccessControlSource => ({ kind: 'AuthenticatedPrincipal', name });
const backend = (name: string, number: number, tls?: { skipClientCertValidation: boolean }, protocol = 'http'): AccessControlBackend =>
  ({ name, port: { number, protocol }, ...(tls ? { tls } : {}) });

/** httpbin (service port 14001 → targetPort 14001, and 80 → 8080) in a meshed namespace; a legacy `clients` namespace outside the mesh. */
function world(...extra: Resource[]): Resource[] {
  return [
    meshedNamespace('httpbin'),
    namespace('legacy'),
    pod('httpbin', 'httpbin-1', { labels: { app: 'httpbin' }, ip: '10.0.0.10' }),
    service('httpbin', 'httpbin', [{ name: 'http', port: 14001 }, { name: 'http-alt', port: 80, targetPort: 8080 }], { app: 'httpbin' }),
    pod('legacy', 'client-1', { labels: { app: 'client' }, ip: '10.0.9.2', unmeshed: true }),
    pod('legacy', 'client-2', { labels: { app: 'client' }, ip: '10.0.9.1', unmeshed: true }),
    pod('legacy', 'client-3', { labels: { app: 'client' }, ip: '10.0.9.3', unmeshed: true, ready: false }),
    service('legacy', 'client', [{ name: 'http', port: 80 }], { app: 'client' }),
    ...extra,
  ];
}

function ranges(resources: Resource[], port = '14001'): unknown {
  const snap = compileProxySnapshot(buildCatalog(input(resources)), { namespace: 'httpbin', name: 'httpbin-1' });
  assert.ok(snap);
  return snap.Inbound.TrafficMatches[port]!.SourceIPRanges;
}

const cases: { name: string; policies: Resource[]; port?: string; want: unknown }[] = [
  { name: 'no AccessControl: no SourceIPRanges', policies: [], want: undefined },
  {
    name: 'strict form, plaintext: IPRange as given, Service sources as the /32 of each ready endpoint',
    policies: [acl('httpbin', 'httpbin', [ipRange('192.168.7.0/24'), { kind: 'Service', name: 'client', namespace: 'legacy' }], [backend('httpbin', 14001)])],
    want: { '10.0.9.1/32': null, '10.0.9.2/32': null, '192.168.7.0/24': null },
  },
  {
    name: "strict form: a backend for another targetPort does not apply to this one",
    policies: [acl('httpbin', 'httpbin', [ipRange('192.168.7.0/24')], [backend('httpbin', 8080)])],
    want: undefined,
  },
  {
    name: 'strict form matches by targetPort, not service port',
    policies: [acl('httpbin', 'httpbin', [ipRange('192.168.7.0/24')], [backend('httpbin', 8080)])],
    port: '8080',
    want: { '192.168.7.0/24': null },
  },
  {
    name: "strict form: an ACL in another namespace does not name this service",
    policies: [acl('httpbin', 'legacy', [ipRange('192.168.7.0/24')], [backend('httpbin', 14001)])],
    want: undefined,
  },
  {
    name: 'mTLS: principals sorted, on each address range',
    policies: [acl('httpbin', 'httpbin', [principal('b.example'), ipRange('127.0.0.9/32'), principal('a.example')], [backend('httpbin', 14001, { skipClientCertValidation: false })])],
    want: { '127.0.0.9/32': { mTLS: true, SkipClientCertValidation: false, AuthenticatedPrincipals: ['a.example', 'b.example'] } },
  },
  {
    name: 'mTLS with principals only: admitted from any address, by certificate',
    policies: [acl('httpbin', 'httpbin', [principal('curl.curl.cluster.local')], [backend('httpbin', 14001, { skipClientCertValidation: false })])],
    want: {
      '0.0.0.0/0': { mTLS: true, SkipClientCertValidation: false, AuthenticatedPrincipals: ['curl.curl.cluster.local'] },
      '::/0': { mTLS: true, SkipClientCertValidation: false, AuthenticatedPrincipals: ['curl.curl.cluster.local'] },
    },
  },
  {
    name: 'mTLS skipping client-cert validation: principal *',
    policies: [acl('httpbin', 'httpbin', [ipRange('127.0.0.9/32')], [backend('httpbin', 14001, { skipClientCertValidation: true })])],
    want: { '127.0.0.9/32': { mTLS: true, SkipClientCertValidation: true, AuthenticatedPrincipals: ['*'] } },
  },
  {
    name: 'a Service source with no ready endpoints admits nobody (never widened to any address)',
    policies: [acl('httpbin', 'httpbin', [{ kind: 'Service', name: 'nothing', namespace: 'legacy' }, principal('x')], [backend('httpbin', 14001, { skipClientCertValidation: false })])],
    want: {},
  },
  {
    name: 'global form (no backends, any namespace): Service and IPRange sources only, plaintext, on every port',
    policies: [acl('global', 'legacy', [ipRange('172.16.0.0/12'), principal('ignored')])],
    want: { '172.16.0.0/12': null },
  },
  {
    name: 'global form applies to every port of the service',
    policies: [acl('global', 'legacy', [ipRange('172.16.0.0/12')])],
    port: '8080',
    want: { '172.16.0.0/12': null },
  },
  {
    name: 'the strict form wins over the global form',
    policies: [acl('a-global', 'legacy', [ipRange('172.16.0.0/12')]), acl('httpbin', 'httpbin', [ipRange('127.0.0.9/32')], [backend('httpbin', 14001)])],
    want: { '127.0.0.9/32': null },
  },
  {
    name: 'of several global ACLs the first by namespace then name applies',
    policies: [acl('zz', 'aaa', [ipRange('10.2.0.0/16')]), acl('global', 'zzz', [ipRange('10.3.0.0/16')]), acl('b', 'aaa', [ipRange('10.1.0.0/16')])],
    want: { '10.1.0.0/16': null },
  },
  {
    name: 'enableAccessControlPolicy: false ignores every AccessControl',
    policies: [meshConfig({ featureFlags: { enableAccessControlPolicy: false } }), acl('httpbin', 'httpbin', [ipRange('127.0.0.9/32')], [backend('httpbin', 14001)])],
    want: undefined,
  },
];

for (const c of cases) {
  test(`AccessControl: ${c.name}`, () => {
    assert.deepEqual(ranges(world(...c.policies), c.port), c.want);
  });
}

test('AccessControl: compiling is deterministic whatever the resource order', () => {
  const policies = [acl('httpbin', 'httpbin', [principal('b'), ipRange('10.9.0.0/16'), { kind: 'Service', name: 'client', namespace: 'legacy' }, principal('a')], [backend('httpbin', 14001, { skipClientCertValidation: false })])];
  const a = compileProxySnapshot(buildCatalog(input(world(...policies))), { namespace: 'httpbin', name: 'httpbin-1' })!;
  const b = compileProxySnapshot(buildCatalog(input([...world(...policies)].reverse())), { namespace: 'httpbin', name: 'httpbin-1' })!;
  assert.equal(snapshotVersion(a), snapshotVersion(b));
  assert.deepEqual(Object.keys(a.Inbound.TrafficMatches['14001']!.SourceIPRanges!).sort(), ['10.0.9.1/32', '10.0.9.2/32', '10.9.0.0/16']);
});

// --- AccessControlRoute: admitted clients reach the backend whatever SMI allows ---------------------

const HTTPBIN = { namespace: 'httpbin', name: 'httpbin-1' };
const CLUSTER_14001 = 'httpbin/httpbin|14001|local';
const CLUSTER_5432 = 'httpbin/httpbin-db|5432|local';

function inbound(resources: Resource[]): ProxySnapshot['Inbound'] {
  const snap = compileProxySnapshot(buildCatalog(input(resources)), HTTPBIN);
  assert.ok(snap);
  return snap.Inbound;
}

/** The world above with SMI on (permissive mode off), a TCP Service httpbin-db:5432 on the same pod, and a meshed client curl. */
function smiWorld(...extra: Resource[]): Resource[] {
  return [
    PERMISSIVE_OFF,
    ...world(),
    service('httpbin', 'httpbin-db', [{ name: 'tcp-db', port: 5432 }], { app: 'httpbin' }),
    meshedNamespace('curl'),
    pod('curl', 'curl-1', { labels: { app: 'curl' }, serviceAccount: 'curl', ip: '10.0.1.1' }),
    ...extra,
  ];
}

/** SMI lets curl GET /get on httpbin (and nothing on the TCP port). */
const CURL_MAY_GET: Resource[] = [
  {
    apiVersion: 'specs.smi-spec.io/v1alpha4',
    kind: 'HTTPRouteGroup',
    metadata: { name: 'get', namespace: 'httpbin' },
    spec: { matches: [{ name: 'get', pathRegex: '/get', methods: ['GET'] }] },
  },
  {
    apiVersion: 'access.smi-spec.io/v1alpha3',
    kind: 'TrafficTarget',
    metadata: { name: 'curl-to-httpbin', namespace: 'httpbin' },
    spec: {
      destination: { kind: 'ServiceAccount', name: 'default', namespace: 'httpbin' },
      sources: [{ kind: 'ServiceAccount', name: 'curl', namespace: 'curl' }],
      rules: [{ kind: 'HTTPRouteGroup', name: 'get', matches: ['get'] }],
    },
  },
];

const STRICT_ACL = acl('httpbin', 'httpbin', [ipRange('192.168.7.0/24'), { kind: 'Service', name: 'client', namespace: 'legacy' }], [backend('httpbin', 14001), backend('httpbin-db', 5432, undefined, 'tcp')]);

describe('AccessControlRoute', () => {
  test('golden: SMI on, an AccessControl for an HTTP and a TCP port, and a TrafficTarget for curl', () => {
    assertGolden('acl-smi-inbound', inbound(smiWorld(STRICT_ACL, ...CURL_MAY_GET)));
  });

  test('with SMI granting outsiders nothing, admitted addresses reach the HTTP and TCP backends and no one else does', () => {
    const ib = inbound(smiWorld(STRICT_ACL));
    for (const port of [14001, 5432]) {
      assert.equal(outsideClientAllowed(ib, port, '192.168.7.9'), true, `IPRange source on ${port}`);
      assert.equal(outsideClientAllowed(ib, port, '10.0.9.2'), true, `Service source endpoint on ${port}`);
      assert.equal(outsideClientAllowed(ib, port, '10.0.9.3'), false, `a not-ready endpoint on ${port}`);
      assert.equal(outsideClientAllowed(ib, port, '192.168.8.1'), false, `another address on ${port}`);
    }
    assert.equal(outsideClientAllowed(ib, 8080, '192.168.7.9'), false, 'a port no backend names');
    assert.deepEqual(ib.TrafficMatches['14001']!.AccessControlRoute, { RuleName: 'httpbin.httpbin', TargetClusters: { [CLUSTER_14001]: 100 } });
    assert.deepEqual(ib.TrafficMatches['5432']!.AccessControlRoute, { RuleName: 'httpbin-db.httpbin', TargetClusters: { [CLUSTER_5432]: 100 } });
    assert.deepEqual(Object.keys(ib.ClustersConfigs).sort(), [CLUSTER_5432, CLUSTER_14001].sort(), 'only the admitted ports get a cluster; SMI routes none');
  });

  test('mesh clients stay under SMI: the AccessControl changes no route, TCP rule or grant', () => {
    const withAcl = inbound(smiWorld(STRICT_ACL, ...CURL_MAY_GET));
    const without = inbound(smiWorld(...CURL_MAY_GET));
    for (const port of ['14001', '5432', '8080']) {
      assert.deepEqual(withAcl.TrafficMatches[port]!.HttpServiceRouteRules, without.TrafficMatches[port]!.HttpServiceRouteRules, port);
      assert.deepEqual(withAcl.TrafficMatches[port]!.TcpServiceRouteRules, without.TrafficMatches[port]!.TcpServiceRouteRules, port);
    }
    const get = { port: 14001, host: 'httpbin.httpbin', method: 'GET', path: '/get' };
    assert.equal(httpAllowed(withAcl, { ...get, from: 'curl.curl' }), true);
    assert.equal(httpAllowed(withAcl, { ...get, path: '/post', from: 'curl.curl' }), false);
    assert.equal(httpAllowed(withAcl, { ...get, from: 'other.curl' }), false);
    assert.equal(tcpAllowed(withAcl, 5432, 'httpbin-db.httpbin', 'curl.curl'), false);
  });

  test('permissive mode gets the same route', () => {
    const ib = inbound(world(STRICT_ACL));
    assert.deepEqual(ib.TrafficMatches['14001']!.AccessControlRoute, { RuleName: 'httpbin.httpbin', TargetClusters: { [CLUSTER_14001]: 100 } });
    assert.equal(outsideClientAllowed(ib, 14001, '192.168.7.9'), true);
  });

  test('mTLS ranges (AccessCert clients) get the route too', () => {
    const ib = inbound(smiWorld(acl('httpbin', 'httpbin', [principal('curl.legacy.cluster.local')], [backend('httpbin', 14001, { skipClientCertValidation: false })])));
    assert.deepEqual(ib.TrafficMatches['14001']!.AccessControlRoute, { RuleName: 'httpbin.httpbin', TargetClusters: { [CLUSTER_14001]: 100 } });
    assert.ok(ib.ClustersConfigs[CLUSTER_14001]);
  });

  test('no route when the AccessControl admits nobody (a Service source without endpoints), nor when none applies', () => {
    const nobody = inbound(smiWorld(acl('httpbin', 'httpbin', [{ kind: 'Service', name: 'nothing', namespace: 'legacy' }], [backend('httpbin', 14001)])));
    assert.deepEqual(nobody.TrafficMatches['14001']!.SourceIPRanges, {});
    assert.equal(nobody.TrafficMatches['14001']!.AccessControlRoute, undefined);
    assert.deepEqual(nobody.ClustersConfigs, {});
    const none = inbound(smiWorld());
    assert.equal(none.TrafficMatches['14001']!.AccessControlRoute, undefined);
    const flagOff = meshConfig({ traffic: { enablePermissiveTrafficPolicyMode: false }, featureFlags: { enableAccessControlPolicy: false } });
    const disabled = inbound([flagOff, ...smiWorld(STRICT_ACL).filter((r) => r.kind !== 'MeshConfig')]);
    assert.equal(disabled.TrafficMatches['14001']!.AccessControlRoute, undefined);
  });

  test('services sharing a targetPort: the first (catalog order) whose AccessControl admits anyone is the route', () => {
    const shared = service('httpbin', 'aaa-alias', [{ name: 'http', port: 80, targetPort: 14001 }], { app: 'httpbin' });
    const ib = inbound(smiWorld(shared, acl('alias', 'httpbin', [{ kind: 'Service', name: 'nothing', namespace: 'legacy' }], [backend('aaa-alias', 14001)]), STRICT_ACL));
    assert.equal(ib.TrafficMatches['14001']!.AccessControlRoute?.RuleName, 'httpbin.httpbin', 'aaa-alias admits nobody, so httpbin serves them');
    const both = inbound(smiWorld(shared, acl('alias', 'httpbin', [ipRange('172.16.0.0/12')], [backend('aaa-alias', 14001)]), STRICT_ACL));
    assert.equal(both.TrafficMatches['14001']!.AccessControlRoute?.RuleName, 'aaa-alias.httpbin');
    assert.equal(outsideClientAllowed(both, 14001, '192.168.7.9'), true, "httpbin's sources still get in, served as aaa-alias");
  });
});
