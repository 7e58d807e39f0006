/** Kiali-style warnings: what a policy names that does not exist, and mTLS-only fields while mTLS is off. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Resource } from '../api/types.js';
import { lintPolicy, lintWorldOf } from './index.js';

const ns = (name: string): Resource => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
const objects: Resource[] = [
  ns('demo'),
  ns('auth'),
  { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'reader', namespace: 'demo' } },
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'echo', namespace: 'demo' } },
  { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'echo', namespace: 'demo' }, spec: { template: { metadata: { labels: { app: 'echo' } }, spec: { serviceAccountName: 'echo' } } } } as Resource,
];
const world = lintWorldOf(objects, undefined);
const ap = (spec: Record<string, unknown>): Resource => ({ apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'p', namespace: 'demo' }, spec });

describe('AuthorizationPolicy warnings', () => {
  it('a policy naming what exists has none (ServiceAccount objects, workloads\' accounts, each namespace\'s default)', () => {
    const p = ap({
      selector: { matchLabels: { app: 'echo' } },
      rules: [{ from: [{ source: { principals: ['cluster.local/ns/demo/sa/reader', 'cluster.local/ns/demo/sa/echo', 'cluster.local/ns/auth/sa/default', 'cluster.local/ns/*'] , namespaces: ['demo'] } }], to: [{ operation: { hosts: ['echo', 'echo.demo:8080', 'echo.demo.svc.cluster.local', '*.demo', 'example.com'] } }] }],
    });
    assert.deepEqual(lintPolicy(p, world), []);
  });
  it('names the missing service account, namespace, host and workload, with the field', () => {
    const p = ap({
      selector: { matchLabels: { app: 'nothing' } },
      rules: [{ from: [{ source: { principals: ['cluster.local/ns/demo/sa/ghost', 'cluster.local/ns/nowhere/sa/x'], notNamespaces: ['gone'] } }], to: [{ operation: { hosts: ['missing.demo.svc.cluster.local'] } }] }],
    });
    assert.deepEqual(lintPolicy(p, world), [
      'AuthorizationPolicy demo/p: spec.selector: no workload in namespace "demo" has labels {"app":"nothing"}',
      'AuthorizationPolicy demo/p: spec.rules[0].from[0].source.principals[0]: "cluster.local/ns/demo/sa/ghost" names service account "ghost", which does not exist in namespace "demo"',
      'AuthorizationPolicy demo/p: spec.rules[0].from[0].source.principals[1]: "cluster.local/ns/nowhere/sa/x" names namespace "nowhere", which does not exist',
      'AuthorizationPolicy demo/p: spec.rules[0].from[0].source.notNamespaces[0]: namespace "gone" does not exist',
      'AuthorizationPolicy demo/p: spec.rules[0].to[0].operation.hosts[0]: host "missing.demo.svc.cluster.local" is not a service in the mesh',
    ]);
  });
  it('source.principals / namespaces and source.* keys while mTLS is off', () => {
    const plaintext = lintWorldOf(objects, { sidecar: { sidecarDisabledMTLS: true } });
    const p = ap({ rules: [{ from: [{ source: { principals: ['cluster.local/ns/demo/sa/reader'], namespaces: ['demo'] } }], when: [{ key: 'source.namespace', values: ['demo'] }] }] });
    const w = lintPolicy(p, plaintext);
    assert.equal(w.length, 2, w.join('\n'));
    assert.match(w[0]!, /from\[0\]\.source: principals, namespaces need mTLS, which is off \(MeshConfig spec\.sidecar\.sidecarDisabledMTLS\)/);
    assert.match(w[1]!, /when\[0\]: source\.namespace needs mTLS/);
    assert.deepEqual(lintPolicy(p, world), [], 'with mTLS on, the same policy is fine');
  });
});

describe('RequestAuthentication warnings', () => {
  it('a jwksUri on a mesh name with no Service behind it', () => {
    const ra: Resource = { apiVersion: 'security.istio.io/v1', kind: 'RequestAuthentication', metadata: { name: 'jwt', namespace: 'demo' }, spec: { jwtRules: [{ issuer: 'i', jwksUri: 'http://jwks.auth:8080/keys' }, { issuer: 'e', jwksUri: 'https://idp.example.com/keys' }] } };
    assert.deepEqual(lintPolicy(ra, world), ['RequestAuthentication demo/jwt: spec.jwtRules[0].jwksUri: host "jwks.auth:8080" is not a service in the mesh: the keys cannot be fetched']);
  });
  it('other kinds: none', () => assert.deepEqual(lintPolicy(objects[0]!, world), []));
});

describe('Sidecar warnings', () => {
  const sc = (spec: Record<string, unknown>): Resource => ({ apiVersion: 'networking.istio.io/v1', kind: 'Sidecar', metadata: { name: 's', namespace: 'demo' }, spec });
  it('hosts and a selector naming what exists, and wildcards, have none', () => {
    assert.deepEqual(lintPolicy(sc({ workloadSelector: { labels: { app: 'echo' } }, egress: [{ hosts: ['./echo.demo.svc.cluster.local', 'demo/*', '*/*', '~/*', 'auth/*.auth.svc.cluster.local'] }] }), world), []);
  });
  it('names the missing namespace, Service and workload, with the field', () => {
    assert.deepEqual(lintPolicy(sc({ workloadSelector: { labels: { app: 'nothing' } }, egress: [{ hosts: ['gone/*', './ghost.demo.svc.cluster.local', 'demo/echo', 'auth/echo.demo.svc.cluster.local'] }] }), world), [
      'Sidecar demo/s: spec.workloadSelector: no workload in namespace "demo" has labels {"app":"nothing"}',
      'Sidecar demo/s: spec.egress[0].hosts[0]: "gone/*" names namespace "gone", which does not exist',
      'Sidecar demo/s: spec.egress[0].hosts[1]: "./ghost.demo.svc.cluster.local" names no Service: that destination stays outside the scope',
      'Sidecar demo/s: spec.egress[0].hosts[2]: "demo/echo": "echo" is not a Service\'s name.namespace.svc.cluster.local, so it names nothing',
      'Sidecar demo/s: spec.egress[0].hosts[3]: "auth/echo.demo.svc.cluster.local" names no Service: that destination stays outside the scope',
    ]);
  });
});
