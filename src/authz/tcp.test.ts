/**
 * AuthorizationPolicy on TCP connections (security-rules.md §1 "TCP traffic", §11 rules 2-3): HTTP-only
 * fields make an ALLOW rule never match and are dropped from DENY rules; the TCP fields, empty-rule
 * semantics and Istio's order work as on HTTP; CUSTOM fails closed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuthzRule } from '../api/istio-types.js';
import type { InboundAuthzPolicy, InboundExtAuthz } from '../snapshot/types.js';
import { authorizeConnection, compileConnectionAuthz, compilePolicies, connectionFacts, evaluate, groupPolicies, httpOnlyFieldsOf, type ConnectionFacts } from './index.js';

const CLIENT = 'cluster.local/ns/default/sa/client';
const conn = (over: Partial<ConnectionFacts> = {}) =>
  connectionFacts({ port: 9000, sourceIp: '10.0.0.5', destinationIp: '10.0.0.9', sourcePrincipal: CLIENT, sourceNamespace: 'default', ...over });
const plaintext = (over: Partial<ConnectionFacts> = {}) => connectionFacts({ port: 9000, sourceIp: '10.0.0.5', destinationIp: '10.0.0.9', ...over });

const policy = (Name: string, Action: InboundAuthzPolicy['Action'], Rules?: AuthzRule[], extra: Partial<InboundAuthzPolicy> = {}): InboundAuthzPolicy => ({
  Name, Action, ...(Rules ? { Rules } : {}), ...extra,
});
const decide = (ps: InboundAuthzPolicy[], f = conn()) => authorizeConnection(compileConnectionAuthz(ps), f);
const allows = (ps: InboundAuthzPolicy[], f = conn()) => decide(ps, f).allow;
const to = (operation: NonNullable<AuthzRule['to']>[number]['operation']): AuthzRule => ({ to: [{ operation }] });
const from = (source: NonNullable<AuthzRule['from']>[number]['source']): AuthzRule => ({ from: [{ source }] });
const when = (key: string, values?: string[], notValues?: string[]): AuthzRule => ({ when: [{ key, ...(values ? { values } : {}), ...(notValues ? { notValues } : {}) }] });

describe('HTTP-only fields in ALLOW rules: the rule never matches a connection', () => {
  const cases: [string, AuthzRule][] = [
    ['methods', to({ methods: ['GET'] })],
    ['notMethods', to({ notMethods: ['DELETE'] })],
    ['paths', to({ paths: ['*'] })],
    ['notPaths', to({ notPaths: ['/admin*'] })],
    ['hosts', to({ hosts: ['*'] })],
    ['notHosts', to({ notHosts: ['evil.example'] })],
    ['requestPrincipals', from({ requestPrincipals: ['*'] })],
    ['notRequestPrincipals', from({ notRequestPrincipals: ['*'] })],
    ['request.headers[...]', when('request.headers[x-env]', undefined, ['prod'])],
    ['request.auth.claims[...]', when('request.auth.claims[iss]', ['https://issuer.example'])],
    ['request.auth.principal', when('request.auth.principal', undefined, ['x/y'])],
    ['request.auth.audiences', when('request.auth.audiences', undefined, ['a'])],
    ['request.auth.presenter', when('request.auth.presenter', undefined, ['p'])],
  ];
  for (const [name, rule] of cases) {
    it(name, () => {
      const d = decide([policy('ns/a', 'ALLOW', [rule])]);
      assert.deepEqual(d, { allow: false, closest: { policy: 'ns/a', rule: 0, condition: 'HTTP-only fields on a TCP connection' }, reason: 'no ALLOW policy matched' });
    });
  }
  it('even when the rest of the rule matches: principals + ports + methods', () => {
    assert.equal(allows([policy('ns/a', 'ALLOW', [{ from: [{ source: { principals: [CLIENT] } }], to: [{ operation: { ports: ['9000'], methods: ['GET'] } }] }])]), false);
  });
  it('a whole rule is out when any of its operations is HTTP-only, as in Istio', () => {
    assert.equal(allows([policy('ns/a', 'ALLOW', [{ to: [{ operation: { ports: ['9000'] } }, { operation: { methods: ['GET'] } }] }])]), false);
  });
  it('the other rules and policies still allow', () => {
    assert.equal(allows([policy('ns/a', 'ALLOW', [to({ methods: ['GET'] }), to({ ports: ['9000'] })])]), true);
    assert.deepEqual(decide([policy('ns/http', 'ALLOW', [to({ paths: ['/x'] })]), policy('ns/tcp', 'ALLOW', [from({ principals: [CLIENT] })])]), {
      allow: true, policy: 'ns/tcp', action: 'ALLOW', rule: 0, reason: 'matched an ALLOW policy',
    });
  });
  it('the same policy still applies in full to HTTP requests', () => {
    const http = groupPolicies(compilePolicies([policy('ns/a', 'ALLOW', [to({ methods: ['GET'] })])]));
    assert.equal(evaluate(http, { ...conn(), method: 'GET' }).allow, true);
  });
});

describe('HTTP-only fields in DENY rules are dropped: the rule matches more', () => {
  it('methods [GET] + ports [9000] denies all TCP to 9000, and only to 9000', () => {
    const ps = [policy('ns/d', 'DENY', [to({ methods: ['GET'], ports: ['9000'] })])];
    assert.deepEqual(decide(ps), { allow: false, policy: 'ns/d', action: 'DENY', rule: 0, reason: 'matched a DENY policy' });
    assert.equal(allows(ps, conn({ port: 9001 })), true);
  });
  it('methods [GET] alone denies all TCP', () => {
    const ps = [policy('ns/d', 'DENY', [to({ methods: ['GET'] })])];
    for (const f of [conn(), conn({ port: 1 }), plaintext()]) assert.equal(allows(ps, f), false);
  });
  it('only HTTP fields (paths, hosts, notMethods, requestPrincipals, request.* conditions) deny everything', () => {
    for (const r of [to({ paths: ['/admin'] }), to({ hosts: ['x'], notMethods: ['GET'] }), from({ notRequestPrincipals: ['*'] }), from({ requestPrincipals: ['a/b'] }), when('request.headers[x-env]', ['prod'])]) {
      assert.equal(allows([policy('ns/d', 'DENY', [r])]), false, JSON.stringify(r));
    }
  });
  it('the TCP fields left in the rule still narrow it', () => {
    const ps = [policy('ns/d', 'DENY', [{ from: [{ source: { principals: [CLIENT], requestPrincipals: ['*'] } }], when: [{ key: 'request.auth.claims[role]', values: ['x'] }] }])];
    assert.equal(allows(ps), false);
    assert.equal(allows(ps, conn({ sourcePrincipal: 'cluster.local/ns/default/sa/other' })), true);
  });
  it('DENY beats ALLOW', () => {
    assert.equal(allows([policy('ns/a', 'ALLOW', [{}]), policy('ns/d', 'DENY', [to({ methods: ['GET'], ports: ['9000'] })])]), false);
  });
});

describe('TCP fields', () => {
  it('principals (mTLS only: plaintext has none) and notPrincipals (satisfied by plaintext)', () => {
    const allow = [policy('ns/a', 'ALLOW', [from({ principals: [CLIENT] })])];
    assert.equal(allows(allow), true);
    assert.equal(allows(allow, conn({ sourcePrincipal: 'cluster.local/ns/default/sa/stranger' })), false);
    assert.equal(allows(allow, plaintext()), false);
    assert.equal(allows([policy('ns/a', 'ALLOW', [from({ principals: ['*'] })])], plaintext()), false);
    const notClient = [policy('ns/d', 'DENY', [from({ notPrincipals: [CLIENT] })])];
    assert.equal(allows(notClient), true);
    assert.equal(allows(notClient, plaintext()), false, 'DENY notPrincipals refuses plaintext');
  });
  it('namespaces / notNamespaces, whole values only', () => {
    assert.equal(allows([policy('ns/a', 'ALLOW', [from({ namespaces: ['default'] })])]), true);
    assert.equal(allows([policy('ns/a', 'ALLOW', [from({ namespaces: ['def'] })])]), false);
    assert.equal(allows([policy('ns/a', 'ALLOW', [from({ namespaces: ['test'] })])], conn({ sourceNamespace: 'test-evil' })), false);
    assert.equal(allows([policy('ns/d', 'DENY', [from({ notNamespaces: ['default'] })])]), true);
  });
  it('ipBlocks / notIpBlocks on the socket peer (v4-mapped too)', () => {
    assert.equal(allows([policy('ns/a', 'ALLOW', [from({ ipBlocks: ['10.0.0.0/24'] })])]), true);
    assert.equal(allows([policy('ns/a', 'ALLOW', [from({ ipBlocks: ['10.0.0.5'] })])], conn({ sourceIp: '::ffff:10.0.0.5' })), true);
    assert.equal(allows([policy('ns/a', 'ALLOW', [from({ ipBlocks: ['10.0.1.0/24'] })])]), false);
    assert.equal(allows([policy('ns/d', 'DENY', [from({ notIpBlocks: ['10.0.0.0/8'] })])]), true);
    assert.equal(allows([policy('ns/d', 'DENY', [from({ notIpBlocks: ['192.168.0.0/16'] })])]), false);
  });
  it('ports / notPorts are the workload port', () => {
    assert.equal(allows([policy('ns/a', 'ALLOW', [to({ ports: ['9000'] })])]), true);
    assert.equal(allows([policy('ns/a', 'ALLOW', [to({ ports: ['9000'] })])], conn({ port: 9001 })), false);
    assert.equal(allows([policy('ns/a', 'ALLOW', [to({ notPorts: ['9000'] })])]), false);
    assert.equal(allows([policy('ns/a', 'ALLOW', [to({ notPorts: ['9000'] })])], conn({ port: 9001 })), true);
  });
  it('when: connection.sni (absent for plaintext), destination.port, destination.ip, source.ip, source.principal, source.namespace', () => {
    const sni = [policy('ns/a', 'ALLOW', [when('connection.sni', ['server.default.svc.cluster.local'])])];
    assert.equal(allows(sni, conn({ sni: 'server.default.svc.cluster.local' })), true);
    assert.equal(allows(sni, conn({ sni: 'other.default.svc.cluster.local' })), false);
    assert.equal(allows(sni), false, 'no SNI');
    assert.equal(allows([policy('ns/a', 'ALLOW', [when('connection.sni', ['*.cluster.local'])])], conn({ sni: 'server.default.svc.cluster.local' })), true);
    assert.equal(allows([policy('ns/d', 'DENY', [when('connection.sni', undefined, ['server.default.svc.cluster.local'])])], conn()), false, 'absent SNI satisfies notValues');
    assert.equal(allows([policy('ns/a', 'ALLOW', [when('destination.port', ['9000'])])]), true);
    assert.equal(allows([policy('ns/a', 'ALLOW', [when('destination.port', ['9000'])])], conn({ port: 9001 })), false);
    assert.equal(allows([policy('ns/a', 'ALLOW', [when('destination.ip', ['10.0.0.0/24'])])]), true);
    assert.equal(allows([policy('ns/a', 'ALLOW', [when('source.ip', ['10.0.0.5'])])]), true);
    assert.equal(allows([policy('ns/a', 'ALLOW', [when('source.principal', [CLIENT])])]), true);
    assert.equal(allows([policy('ns/a', 'ALLOW', [when('source.namespace', ['default'])])], plaintext()), false);
  });
});

describe("empty-rule semantics and Istio's order on TCP", () => {
  it('no policy, or no ALLOW policy: allow', () => {
    assert.deepEqual(decide([]), { allow: true, reason: 'no ALLOW policy applies' });
    assert.equal(allows([policy('ns/d', 'DENY', [from({ principals: ['x'] })])]), true);
  });
  it('ALLOW with unset rules denies everything; ALLOW [{}] allows everything', () => {
    assert.equal(allows([policy('ns/a', 'ALLOW')]), false);
    assert.equal(allows([policy('ns/a', 'ALLOW', [{}])], plaintext()), true);
  });
  it('DENY with unset rules has no effect; DENY [{}] denies everything', () => {
    assert.equal(allows([policy('ns/d', 'DENY')]), true);
    assert.equal(allows([policy('ns/d', 'DENY', [{}])]), false);
  });
  it('AUDIT never decides, HTTP fields or not', () => {
    assert.equal(allows([policy('ns/audit', 'AUDIT', [{}])]), true);
    assert.equal(allows([policy('ns/audit', 'AUDIT', [to({ methods: ['GET'] })]), policy('ns/a', 'ALLOW')]), false);
  });
  it('an unreadable rule fails closed on TCP too, even under a request.* key', () => {
    for (const bad of [when('request.bogus', ['x']), when('nonsense', ['x']), when('request.headers[x-env]'), when('destination.port', ['99999'])]) {
      const [allow] = compilePolicies([policy('ns/a', 'ALLOW', [bad])], 'tcp');
      assert.equal(allow!.problems.length, 1, JSON.stringify(bad));
      assert.equal(allows([policy('ns/a', 'ALLOW', [bad])]), false);
      assert.equal(allows([policy('ns/d', 'DENY', [bad])]), false);
    }
  });
});

describe('CUSTOM on TCP fails closed: the HTTP authorizer cannot be asked about a connection', () => {
  const ext: InboundExtAuthz = { Name: 'ext', Service: 'ext.auth', Port: 9000, TimeoutMs: 2000, PathPrefix: '', HeadersToUpstreamOnAllow: [] };
  const custom = (rules: AuthzRule[], provider: InboundExtAuthz | 'unknown' = ext) => policy('ns/c', 'CUSTOM', rules, { Provider: 'ext', ...(provider !== 'unknown' ? { ExtAuthz: provider } : {}) });
  it('a matching CUSTOM policy denies and names the policy', () => {
    const d = decide([custom([to({ ports: ['9000'] })]), policy('ns/a', 'ALLOW', [{}])]);
    assert.deepEqual([d.allow, d.policy], [false, 'ns/c']);
    assert.match(d.reason, /CUSTOM provider "ext" is an HTTP authorizer and cannot check a TCP connection \(failing closed\)/);
  });
  it('its HTTP-only fields are dropped as for DENY: paths alone matches every connection', () => {
    assert.equal(allows([custom([to({ paths: ['/admin*'] })])]), false);
    assert.equal(allows([custom([to({ paths: ['/admin*'], ports: ['9001'] })])]), true, 'the port still narrows it');
  });
  it('an unknown provider fails closed; a CUSTOM policy that does not match does nothing', () => {
    const d = decide([custom([{}], 'unknown')]);
    assert.deepEqual([d.allow, d.policy], [false, 'ns/c']);
    assert.match(d.reason, /is not available/);
    assert.equal(allows([custom([from({ principals: ['cluster.local/ns/x/sa/y'] })])]), true);
    assert.equal(allows([custom([])]), true, 'rules: [] never match');
  });
});

describe('httpOnlyFieldsOf', () => {
  it('lists the HTTP-only fields and when keys a rule uses', () => {
    assert.deepEqual(httpOnlyFieldsOf({ from: [{ source: { principals: ['p'], notRequestPrincipals: ['*'] } }], to: [{ operation: { ports: ['1'], hosts: ['h'], methods: ['GET'] } }], when: [{ key: 'request.headers[a]', values: ['b'] }, { key: 'connection.sni', values: ['s'] }] }), [
      'notRequestPrincipals', 'hosts', 'methods', 'request.headers[a]',
    ]);
    assert.deepEqual(httpOnlyFieldsOf({ from: [{ source: { ipBlocks: ['10.0.0.0/8'] } }], to: [{ operation: { notPorts: ['1'] } }], when: [{ key: 'destination.port', values: ['1'] }] }), []);
    assert.deepEqual(httpOnlyFieldsOf({ to: [{ operation: { methods: [] } }] }), ['methods'], 'present, even empty');
  });
});
