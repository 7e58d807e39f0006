/** Compiler tests for Inbound.Authn / Inbound.Authz: which Istio policies apply to a pod (root namespace, namespace, selector) and their compiled form (security-rules.md §1, §2). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Resource } from '../api/types.js';
import { buildCatalog, compileProxySnapshot } from './index.js';
import type { ProxySnapshot } from './index.js';
import { input, meshConfig, meshedNamespace, namespace, pod, service } from './testdata/builders.js';

const API = 'security.istio.io/v1beta1';
const ra = (ns: string, name: string, spec: Record<string, unknown>): Resource => ({ apiVersion: API, kind: 'RequestAuthentication', metadata: { name, namespace: ns }, spec });
const ap = (ns: string, name: string, spec: Record<string, unknown>): Resource => ({ apiVersion: API, kind: 'AuthorizationPolicy', metadata: { name, namespace: ns }, spec });

function world(...policies: Resource[]): Resource[] {
  return [
    namespace('fsm-system'),
    meshedNamespace('default'),
    meshedNamespace('other'),
    pod('default', 'todos-1', { labels: { app: 'todos' }, serviceAccount: 'todos', ip: '10.0.0.10' }),
    pod('default', 'reminder-1', { labels: { app: 'reminder' }, serviceAccount: 'reminder', ip: '10.0.0.11' }),
    service('default', 'todos', [{ name: 'http', port: 14001 }], { app: 'todos' }, '10.96.0.10'),
    ...policies,
  ];
}

function inbound(resources: Resource[], name = 'todos-1', ns = 'default'): ProxySnapshot['Inbound'] {
  const s = compileProxySnapshot(buildCatalog(input(resources)), { namespace: ns, name });
  assert.ok(s);
  return s.Inbound;
}

const jwtRule = { issuer: 'https://example.fusionauth.io', jwksUri: 'http://jwks.auth:8080/jwks.json', outputPayloadToHeader: 'X-payload', fromHeaders: [{ name: 'Authorization', prefix: 'Bearer ' }] };

describe('Inbound.Authn / Inbound.Authz', () => {
  it('absent without policies', () => {
    const i = inbound(world());
    assert.equal(i.Authn, undefined);
    assert.equal(i.Authz, undefined);
  });

  it("the book's policies select the todos pod only", () => {
    const resources = world(
      ra('default', 'jwt-auth', { selector: { matchLabels: { app: 'todos' } }, jwtRules: [{ ...jwtRule, timeout: '2s' }] }),
      ap('default', 'jwt-authz', { selector: { matchLabels: { app: 'todos' } }, action: 'ALLOW', rules: [{ when: [{ key: 'request.auth.claims[roles]', values: ['admin'] }] }] }),
    );
    const i = inbound(resources);
    assert.deepEqual(i.Authn, { JwtRules: [{ Policy: 'default/jwt-auth', Rule: jwtRule, TimeoutMs: 2000 }] });
    assert.deepEqual(i.Authz, { Policies: [{ Name: 'default/jwt-authz', Action: 'ALLOW', Rules: [{ when: [{ key: 'request.auth.claims[roles]', values: ['admin'] }] }] }] });
    const r = inbound(resources, 'reminder-1');
    assert.equal(r.Authn, undefined);
    assert.equal(r.Authz, undefined);
  });

  it('root namespace (<mesh>-system) policies apply mesh-wide, first; other namespaces never', () => {
    const i = inbound(world(
      ap('default', 'a-local', { action: 'DENY', rules: [{}] }),
      ap('fsm-system', 'z-root', {}),
      ap('other', 'elsewhere', { rules: [{}] }),
      ap('fsm-system', 'root-selected', { selector: { matchLabels: { app: 'reminder' } }, rules: [{}] }),
    ));
    assert.deepEqual(i.Authz?.Policies.map((p) => p.Name), ['fsm-system/z-root', 'default/a-local']);
    assert.equal(i.Authz?.Policies[0]!.Action, 'ALLOW', 'action defaults to ALLOW');
    assert.equal('Rules' in i.Authz!.Policies[0]!, false, 'unset rules stay unset (allow-nothing)');
  });

  it('CUSTOM keeps its provider; several RequestAuthentications merge', () => {
    const i = inbound(world(
      ap('default', 'ext', { action: 'CUSTOM', provider: { name: 'ext-authz' }, rules: [{ to: [{ operation: { paths: ['/admin/*'] } }] }] }),
      ra('fsm-system', 'mesh', { jwtRules: [{ issuer: 'https://mesh.example', jwks: '{"keys":[]}' }] }),
      ra('default', 'ns', { jwtRules: [jwtRule] }),
    ));
    assert.equal(i.Authz?.Policies[0]!.Provider, 'ext-authz');
    assert.equal(i.Authz?.Policies[0]!.ExtAuthz, undefined, 'no such provider in MeshConfig: the sidecar fails closed');
    assert.deepEqual(i.Authn?.JwtRules.map((r) => r.Policy), ['fsm-system/mesh', 'default/ns']);
  });

  it('CUSTOM resolves its provider from MeshConfig spec.extensionProviders, with defaults', () => {
    const custom = ap('default', 'ext', { action: 'CUSTOM', provider: { name: 'ext-authz' }, rules: [{}] });
    const mc = meshConfig({
      extensionProviders: [
        { name: 'other', envoyExtAuthzHttp: { service: 'other.auth', port: 1 } },
        { name: 'ext-authz', envoyExtAuthzHttp: { service: 'ext-authz.auth', port: 9000, timeout: '500ms', pathPrefix: '/check', includeRequestHeadersInCheck: ['X-Ext-Token'], headersToUpstreamOnAllow: ['X-User'] } },
      ],
    });
    const i = inbound([...world(custom), mc]);
    assert.deepEqual(i.Authz?.Policies[0]!.ExtAuthz, {
      Name: 'ext-authz', Service: 'ext-authz.auth', Port: 9000, TimeoutMs: 500, PathPrefix: '/check', IncludeRequestHeaders: ['x-ext-token'], HeadersToUpstreamOnAllow: ['x-user'],
    });
    const plain = inbound([...world(custom), meshConfig({ extensionProviders: [{ name: 'ext-authz', envoyExtAuthzHttp: { service: 'ext-authz', port: 80 } }] })]);
    assert.deepEqual(plain.Authz?.Policies[0]!.ExtAuthz, { Name: 'ext-authz', Service: 'ext-authz', Port: 80, TimeoutMs: 2000, PathPrefix: '', HeadersToUpstreamOnAllow: [] });
  });
});
