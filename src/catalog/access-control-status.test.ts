/** Table tests for AccessControl status: FSM's committed and error strings, and every part Tessera reports as not taking effect. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AccessControl, AccessControlBackend, AccessControlSource, AccessControlStatus } from '../api/policy-types.js';
import type { Resource } from '../api/types.js';
import { input, meshConfig, meshedNamespace, namespace, pod, service } from '../snapshot/testdata/builders.js';
import { ACCESS_CONTROL_COMMITTED, accessControlStatuses, buildCatalog } from './index.js';

function acl(name: string, ns: string, sources: AccessControlSource[], backends?: AccessControlBackend[]): AccessControl {
  return { apiVersion: 'policy.flomesh.io/v1alpha1', kind: 'AccessControl', metadata: { name, namespace: ns }, spec: { sources, ...(backends ? { backends } : {}) } };
}

const ipRange = (name: string): AccessControlSource => ({ kind: 'IPRange', name });
const svcSource = (name: string, ns = 'legacy'): AccessControlSource => ({ kind: 'Service', name, namespace: ns });
const principal = (name: string): AccessControlSource => ({ kind: 'AuthenticatedPrincipal', name });
const backend = (name: string, number: number, tls?: boolean): AccessControlBackend =>
  ({ name, port: { number, protocol: 'http' }, ...(tls ? { tls: { skipClientCertValidation: false } } : {}) });

/** httpbin (14001, and 80 → named targetPort `web` = 8080) in the mesh; `plain` outside it; legacy clients, one ready. */
function world(): Resource[] {
  return [
    meshedNamespace('httpbin'),
    namespace('legacy'),
    pod('httpbin', 'httpbin-1', { labels: { app: 'httpbin' }, ip: '10.0.0.10', ports: [{ name: 'web', containerPort: 8080 }] }),
    service('httpbin', 'httpbin', [{ name: 'http', port: 14001 }, { name: 'http-web', port: 80, targetPort: 'web' }], { app: 'httpbin' }),
    pod('legacy', 'client-1', { labels: { app: 'client' }, ip: '10.0.9.1', unmeshed: true }),
    pod('legacy', 'idle-1', { labels: { app: 'idle' }, ip: '10.0.9.2', unmeshed: true, ready: false }),
    service('legacy', 'client', [{ name: 'http', port: 80 }], { app: 'client' }),
    service('legacy', 'idle', [{ name: 'http', port: 80 }], { app: 'idle' }),
    service('legacy', 'plain', [{ name: 'http', port: 80 }], { app: 'client' }),
  ];
}

function statuses(acls: AccessControl[], extra: Resource[] = []): Record<string, AccessControlStatus> {
  const catalog = buildCatalog(input([...world(), ...extra, ...acls]));
  return Object.fromEntries(accessControlStatuses(catalog, acls));
}

const error = (reason: string): AccessControlStatus => ({ currentStatus: 'error', reason });

const cases: { name: string; acls: AccessControl[]; extra?: Resource[]; want: Record<string, AccessControlStatus> }[] = [
  {
    name: "committed, in FSM's words, when every backend and source resolves",
    acls: [acl('ok', 'httpbin', [ipRange('192.168.0.0/16'), svcSource('client')], [backend('httpbin', 14001)])],
    want: { 'httpbin/ok': { currentStatus: 'committed', reason: 'successfully committed by the system' } },
  },
  {
    name: 'a named targetPort resolves through the pods',
    acls: [acl('named', 'httpbin', [ipRange('192.168.0.0/16')], [backend('httpbin', 8080)])],
    want: { 'httpbin/named': ACCESS_CONTROL_COMMITTED },
  },
  {
    name: 'a backend Service that does not exist',
    acls: [acl('missing', 'httpbin', [ipRange('192.168.0.0/16')], [backend('nosuch', 80)])],
    want: { 'httpbin/missing': error('backend service httpbin/nosuch not found') },
  },
  {
    name: 'a backend in a namespace outside the mesh',
    acls: [acl('unmeshed', 'legacy', [ipRange('192.168.0.0/16')], [backend('plain', 80)])],
    want: { 'legacy/unmeshed': error('backend service legacy/plain is not in the mesh (namespace legacy is not monitored by fsm)') },
  },
  {
    name: 'a backend port that is the service port, not the targetPort',
    acls: [acl('port', 'httpbin', [ipRange('192.168.0.0/16')], [backend('httpbin', 80)])],
    want: { 'httpbin/port': error('backend service httpbin/httpbin has no port with targetPort 80') },
  },
  {
    name: "a Service source without ready endpoints, or missing: FSM's reason",
    acls: [acl('idle', 'httpbin', [svcSource('idle'), svcSource('gone'), ipRange('192.168.0.0/16')], [backend('httpbin', 14001)])],
    want: { 'httpbin/idle': error('endpoints not found for service legacy/idle; endpoints not found for service legacy/gone') },
  },
  {
    name: 'an AuthenticatedPrincipal source without a tls backend (conflicting source)',
    acls: [acl('plain', 'httpbin', [ipRange('192.168.0.0/16'), principal('curl.legacy.cluster.local')], [backend('httpbin', 14001)])],
    want: { 'httpbin/plain': error('AuthenticatedPrincipal source "curl.legacy.cluster.local" has no effect: no backend has tls') },
  },
  {
    name: 'an AuthenticatedPrincipal source with a tls backend',
    acls: [acl('mtls', 'httpbin', [principal('curl.legacy.cluster.local')], [backend('httpbin', 14001, true)])],
    want: { 'httpbin/mtls': ACCESS_CONTROL_COMMITTED },
  },
  {
    name: 'a malformed IPRange that reached the store',
    acls: [acl('cidr', 'httpbin', [ipRange('10.0.0.300/8')], [backend('httpbin', 14001)])],
    want: { 'httpbin/cidr': error('IPRange source "10.0.0.300/8" is not a CIDR') },
  },
  {
    name: 'a backend claimed twice: the first by name applies, the other is in error',
    acls: [acl('b', 'httpbin', [ipRange('10.2.0.0/16')], [backend('httpbin', 14001)]), acl('a', 'httpbin', [ipRange('10.1.0.0/16')], [backend('httpbin', 14001)])],
    want: { 'httpbin/a': ACCESS_CONTROL_COMMITTED, 'httpbin/b': error('backend httpbin/httpbin port 14001 is already claimed by AccessControl httpbin/a') },
  },
  {
    name: 'of several AccessControls without backends only the first by namespace and name applies',
    acls: [acl('global', 'zzz', [ipRange('10.3.0.0/16')]), acl('global', 'aaa', [ipRange('10.1.0.0/16')])],
    want: {
      'aaa/global': ACCESS_CONTROL_COMMITTED,
      'zzz/global': error('AccessControl aaa/global applies instead: of those without backends only the first by namespace and name does'),
    },
  },
  {
    name: 'every problem is listed',
    acls: [acl('many', 'httpbin', [svcSource('gone'), principal('x')], [backend('nosuch', 80), backend('httpbin', 14001)])],
    want: {
      'httpbin/many': error('backend service httpbin/nosuch not found; endpoints not found for service legacy/gone; AuthenticatedPrincipal source "x" has no effect: no backend has tls'),
    },
  },
  {
    name: 'enableAccessControlPolicy off: every AccessControl is ignored, and says so',
    acls: [acl('ok', 'httpbin', [ipRange('192.168.0.0/16')], [backend('httpbin', 14001)])],
    extra: [meshConfig({ featureFlags: { enableAccessControlPolicy: false } })],
    want: { 'httpbin/ok': error('access control policy is disabled: MeshConfig fsm-system/fsm-mesh-config has spec.featureFlags.enableAccessControlPolicy false') },
  },
];

for (const c of cases) {
  test(`AccessControl status: ${c.name}`, () => {
    assert.deepEqual(statuses(c.acls, c.extra), c.want);
  });
}

test('AccessControl status does not depend on the order of the resources', () => {
  const acls = cases.flatMap((c) => (c.extra ? [] : c.acls)).filter((a, i, all) => all.findIndex((b) => b.metadata.namespace === a.metadata.namespace && b.metadata.name === a.metadata.name) === i);
  assert.deepEqual(statuses(acls), statuses([...acls].reverse()));
});
