/** Table tests for AccessControl in the compiler: FSM's selection rules and the SourceIPRanges they give. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AccessControlBackend, AccessControlSource } from '../api/policy-types.js';
import type { Resource } from '../api/types.js';
import { buildCatalog, compileProxySnapshot, snapshotVersion } from './index.js';
import { input, meshConfig, meshedNamespace, namespace, pod, service } from './testdata/builders.js';

function acl(name: string, ns: string, sources: AccessControlSource[], backends?: AccessControlBackend[]): Resource {
  return { apiVersion: 'policy.flomesh.io/v1alpha1', kind: 'AccessControl', metadata: { name, namespace: ns }, spec: { sources, ...(backends ? { backends } : {}) } };
}

const ipRange = (name: string): AccessControlSource => ({ kind: 'IPRange', name });
const principal = (name: string): AccessControlSource => ({ kind: 'AuthenticatedPrincipal', name });
const backend = (name: string, number: number, tls?: { skipClientCertValidation: boolean }): AccessControlBackend =>
  ({ name, port: { number, protocol: 'http' }, ...(tls ? { tls } : {}) });

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
