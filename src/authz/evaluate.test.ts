/** Evaluator tests: Istio's order, empty-rule semantics, every source/operation field and its not-form, when keys, string forms (security-rules.md §1). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuthzRule } from '../api/istio-types.js';
import type { InboundAuthzPolicy } from '../snapshot/types.js';
import { compilePolicies, compileRule, compileStringMatch, customChecks, evaluate, groupPolicies, type RequestFacts } from './index.js';
import { facts, mtls } from './test-support.js';

const jwt = (claims: Record<string, unknown>): Partial<RequestFacts> => ({ requestPrincipal: `${String(claims['iss'])}/${String(claims['sub'])}`, claims });

const policy = (Name: string, Action: InboundAuthzPolicy['Action'], Rules?: AuthzRule[], Provider?: string): InboundAuthzPolicy => ({
  Name, Action, ...(Rules ? { Rules } : {}), ...(Provider ? { Provider } : {}),
});
const decide = (ps: InboundAuthzPolicy[], f: RequestFacts) => evaluate(groupPolicies(compilePolicies(ps)), f);
const ruleMatches = (r: AuthzRule, f: RequestFacts) => compileRule(r)(f);

describe('evaluation order (§1, §11 rule 2)', () => {
  it('no policies: allow', () => assert.equal(decide([], facts()).allow, true));
  it('ALLOW spec {} (unset rules) denies everything', () => {
    const d = decide([policy('ns/allow-nothing', 'ALLOW')], facts());
    assert.deepEqual([d.allow, d.reason], [false, 'no ALLOW policy matched']);
  });
  it('ALLOW rules [{}] allows everything', () => assert.equal(decide([policy('ns/a', 'ALLOW', [{}])], facts()).allow, true));
  it('DENY without rules has no effect; DENY [{}] denies all', () => {
    assert.equal(decide([policy('ns/d', 'DENY')], facts()).allow, true);
    const d = decide([policy('ns/d', 'DENY', [{}])], facts());
    assert.deepEqual([d.allow, d.policy], [false, 'ns/d']);
  });
  it('DENY beats ALLOW', () => {
    assert.equal(decide([policy('ns/a', 'ALLOW', [{}]), policy('ns/d', 'DENY', [{}])], facts()).allow, false);
  });
  it('some ALLOW policy must match when any exists', () => {
    const ps = [policy('ns/a', 'ALLOW', [{ to: [{ operation: { methods: ['POST'] } }] }]), policy('ns/b', 'ALLOW', [{ to: [{ operation: { methods: ['GET'] } }] }])];
    assert.deepEqual(decide(ps, facts()), { allow: true, policy: 'ns/b', action: 'ALLOW', rule: 0, reason: 'matched an ALLOW policy' });
    assert.equal(decide(ps, facts({ method: 'PUT' })).allow, false);
  });
  it('AUDIT never decides', () => {
    assert.equal(decide([policy('ns/audit', 'AUDIT', [{}])], facts()).allow, true);
    assert.equal(decide([policy('ns/audit', 'AUDIT', [{}]), policy('ns/a', 'ALLOW')], facts()).allow, false);
  });
  it('CUSTOM: a matching policy without a resolved provider fails closed and says why; a non-matching one does nothing', () => {
    const c = policy('ns/c', 'CUSTOM', [{ to: [{ operation: { paths: ['/admin*'] } }] }], 'ext');
    const compiled = compilePolicies([c, policy('ns/a', 'ALLOW', [{}])]);
    assert.match(compiled[0]!.problems[0]!, /extension provider "ext" is not defined in MeshConfig spec.extensionProviders/);
    const d = customChecks(groupPolicies(compiled), facts({ path: '/admin/x' }));
    assert.ok(!Array.isArray(d));
    assert.deepEqual([d.allow, d.policy], [false, 'ns/c']);
    assert.match(d.reason, /CUSTOM provider "ext" is not available/);
    assert.deepEqual(customChecks(groupPolicies(compiled), facts()), []);
  });
  it('CUSTOM with a provider: the caller asks each matching provider once; DENY/ALLOW still decide afterwards', () => {
    const ext = { Name: 'ext', Service: 'ext.auth', Port: 9000, TimeoutMs: 2000, PathPrefix: '', HeadersToUpstreamOnAllow: [] };
    const other = { ...ext, Name: 'other' };
    const c = (name: string, paths: string[], p = ext): InboundAuthzPolicy => ({ ...policy(name, 'CUSTOM', [{ to: [{ operation: { paths } }] }], p.Name), ExtAuthz: p });
    const authz = groupPolicies(compilePolicies([c('ns/c1', ['/admin*']), c('ns/c2', ['*']), c('ns/c3', ['/admin*'], other), policy('ns/d', 'DENY', [{ to: [{ operation: { paths: ['/admin/secret'] } }] }])]));
    assert.equal(authz.custom[0]!.problems.length, 0);
    assert.deepEqual(customChecks(authz, facts({ path: '/admin/x' })), [{ policy: 'ns/c1', provider: ext }, { policy: 'ns/c3', provider: other }]);
    assert.deepEqual(customChecks(authz, facts()), [{ policy: 'ns/c2', provider: ext }]);
    // A CUSTOM allow never grants by itself: evaluate() still applies DENY.
    assert.equal(evaluate(authz, facts({ path: '/admin/secret' })).allow, false);
    assert.equal(evaluate(authz, facts({ path: '/admin/x' })).allow, true);
  });
  it('an unreadable rule fails closed: never allows, always denies', () => {
    const bad: AuthzRule = { when: [{ key: 'request.bogus', values: ['x'] }] };
    const allow = compilePolicies([policy('ns/a', 'ALLOW', [bad])])[0]!;
    assert.equal(allow.matches(facts()), false);
    assert.match(allow.problems[0]!, /unknown key/);
    assert.equal(decide([policy('ns/d', 'DENY', [bad])], facts()).allow, false);
  });
});

describe('rule semantics', () => {
  it('from, to and when are ANDed; sources and operations ORed; fields in one source ANDed', () => {
    const r: AuthzRule = {
      from: [{ source: { principals: ['cluster.local/ns/default/sa/reminder'], namespaces: ['default'] } }, { source: { ipBlocks: ['192.168.0.0/16'] } }],
      to: [{ operation: { methods: ['GET'] } }, { operation: { paths: ['/health'] } }],
      when: [{ key: 'request.headers[x-env]', values: ['prod'] }],
    };
    const ok = facts({ ...mtls, headers: { 'x-env': 'prod' } });
    assert.equal(ruleMatches(r, ok), true);
    assert.equal(ruleMatches(r, { ...ok, headers: {} }), false, 'when fails');
    assert.equal(ruleMatches(r, { ...ok, method: 'POST' }), false, 'no operation');
    assert.equal(ruleMatches(r, { ...ok, method: 'POST', path: '/health' }), true, 'second operation');
    assert.equal(ruleMatches(r, { ...ok, sourceNamespace: 'other' }), false, 'fields ANDed inside a source');
    assert.equal(ruleMatches(r, facts({ sourceIp: '192.168.3.4', headers: { 'x-env': 'prod' } })), true, 'second source');
  });
  it('an empty from/to list is like an absent one', () => assert.equal(ruleMatches({ from: [], to: [] }, facts()), true));
});

describe('string match forms (§1 "String matching")', () => {
  const m = (ps: string[], v: string | undefined, ic = false) => compileStringMatch(ps, ic)(v);
  it('exact, prefix, suffix, presence', () => {
    assert.equal(m(['abc'], 'abc'), true);
    assert.equal(m(['abc'], 'abcd'), false);
    assert.equal(m(['/info*'], '/information'), true, 'prefix is not segment-aware');
    assert.equal(m(['/info*'], '/inf'), false);
    assert.equal(m(['*.example.com'], 'api.example.com'), true);
    assert.equal(m(['*.example.com'], 'example.com'), false);
    assert.equal(m(['*'], 'x'), true);
    assert.equal(m(['*'], ''), false, 'presence needs a non-empty value');
    assert.equal(m(['*'], undefined), false);
    assert.equal(m(['ABC'], 'abc'), false, 'case-sensitive by default');
    assert.equal(m(['Todos.Default:*'], 'todos.default:8080', true), true);
  });
});

describe('source fields and their not-forms', () => {
  const src = (s: NonNullable<AuthzRule['from']>[number]['source']) => ({ from: [{ source: s }] });
  it('principals need mTLS; notPrincipals is satisfied by plaintext (§1)', () => {
    assert.equal(ruleMatches(src({ principals: ['cluster.local/ns/default/sa/reminder'] }), facts(mtls)), true);
    assert.equal(ruleMatches(src({ principals: ['*'] }), facts()), false, 'plaintext has no principal');
    assert.equal(ruleMatches(src({ principals: ['cluster.local/ns/default/sa/*'] }), facts(mtls)), true, 'prefix form');
    assert.equal(ruleMatches(src({ principals: ['cluster.local/ns/other/sa/*'] }), facts(mtls)), false);
    assert.equal(ruleMatches(src({ principals: ['*/sa/reminder'] }), facts(mtls)), true, 'suffix form');
    assert.equal(ruleMatches(src({ notPrincipals: ['cluster.local/ns/default/sa/reminder'] }), facts(mtls)), false);
    assert.equal(ruleMatches(src({ notPrincipals: ['cluster.local/ns/default/sa/reminder'] }), facts()), true);
  });
  it('requestPrincipals / notRequestPrincipals', () => {
    const f = facts(jwt({ iss: 'https://example.fusionauth.io', sub: 'alice' }));
    assert.equal(ruleMatches(src({ requestPrincipals: ['https://example.fusionauth.io/alice'] }), f), true);
    assert.equal(ruleMatches(src({ requestPrincipals: ['https://example.fusionauth.io/*'] }), f), true);
    assert.equal(ruleMatches(src({ requestPrincipals: ['*'] }), facts()), false, 'no token, no request principal');
    assert.equal(ruleMatches(src({ notRequestPrincipals: ['*'] }), facts()), true, 'DENY notRequestPrincipals:* makes a token mandatory');
    assert.equal(ruleMatches(src({ notRequestPrincipals: ['*'] }), f), false);
  });
  it('namespaces compare whole values, never substrings', () => {
    assert.equal(ruleMatches(src({ namespaces: ['default'] }), facts(mtls)), true);
    assert.equal(ruleMatches(src({ namespaces: ['def'] }), facts(mtls)), false);
    assert.equal(ruleMatches(src({ namespaces: ['test'] }), facts({ sourceNamespace: 'test-evil' })), false);
    assert.equal(ruleMatches(src({ notNamespaces: ['default'] }), facts(mtls)), false);
    assert.equal(ruleMatches(src({ notNamespaces: ['default'] }), facts()), true);
  });
  it('ipBlocks and remoteIpBlocks use the socket peer (single IP, CIDR, IPv6, v4-mapped)', () => {
    assert.equal(ruleMatches(src({ ipBlocks: ['10.0.0.5'] }), facts()), true);
    assert.equal(ruleMatches(src({ ipBlocks: ['10.0.0.0/24'] }), facts()), true);
    assert.equal(ruleMatches(src({ ipBlocks: ['10.0.1.0/24'] }), facts()), false);
    assert.equal(ruleMatches(src({ ipBlocks: ['fd00::/8'] }), facts({ sourceIp: 'fd00::1' })), true);
    assert.equal(ruleMatches(src({ notIpBlocks: ['10.0.0.0/8'] }), facts()), false);
    assert.equal(ruleMatches(src({ remoteIpBlocks: ['10.0.0.5'] }), facts({ headers: { 'x-forwarded-for': '1.2.3.4' } })), true, 'XFF is ignored');
    assert.equal(ruleMatches(src({ notRemoteIpBlocks: ['1.2.3.4'] }), facts({ headers: { 'x-forwarded-for': '1.2.3.4' } })), true);
  });
});

describe('operation fields and their not-forms', () => {
  const op = (o: NonNullable<AuthzRule['to']>[number]['operation']) => ({ to: [{ operation: o }] });
  it('hosts are case-insensitive and include the port', () => {
    assert.equal(ruleMatches(op({ hosts: ['todos.default'] }), facts()), false);
    assert.equal(ruleMatches(op({ hosts: ['todos.default', 'TODOS.default:*'] }), facts()), true);
    assert.equal(ruleMatches(op({ notHosts: ['todos.default:8080'] }), facts()), false);
  });
  it('ports are the workload port', () => {
    assert.equal(ruleMatches(op({ ports: ['8080'] }), facts()), true);
    assert.equal(ruleMatches(op({ ports: ['80'] }), facts()), false);
    assert.equal(ruleMatches(op({ notPorts: ['8080'] }), facts()), false);
  });
  it('methods are exact and case-sensitive', () => {
    assert.equal(ruleMatches(op({ methods: ['GET'] }), facts()), true);
    assert.equal(ruleMatches(op({ methods: ['get'] }), facts()), false);
    assert.equal(ruleMatches(op({ notMethods: ['GET', 'HEAD'] }), facts({ method: 'DELETE' })), true);
  });
  it('paths: exact, prefix /x/*, suffix, presence', () => {
    assert.equal(ruleMatches(op({ paths: ['/todos/1'] }), facts()), true);
    assert.equal(ruleMatches(op({ paths: ['/todos'] }), facts()), false);
    assert.equal(ruleMatches(op({ paths: ['/todos/*'] }), facts()), true);
    assert.equal(ruleMatches(op({ paths: ['/todos/*'] }), facts({ path: '/todos' })), false);
    assert.equal(ruleMatches(op({ paths: ['*/1'] }), facts()), true);
    assert.equal(ruleMatches(op({ paths: ['*'] }), facts()), true);
    assert.equal(ruleMatches(op({ notPaths: ['/admin*'] }), facts({ path: '/admin/users' })), false);
  });
});

describe('when keys (§1 "when keys")', () => {
  const when = (key: string, values?: string[], notValues?: string[]): AuthzRule => ({ when: [{ key, ...(values ? { values } : {}), ...(notValues ? { notValues } : {}) }] });
  const admin = jwt({ iss: 'https://example.fusionauth.io', sub: 'alice', roles: ['admin', 'user'], aud: ['todos'], azp: 'web', org: { team: 'core', ids: ['a1'] }, n: 5 });
  it("the book's ALLOW issuer + role admin and DENY notValues admin", () => {
    const allowRule: AuthzRule = { when: [{ key: 'request.auth.claims[iss]', values: ['https://example.fusionauth.io'] }, { key: 'request.auth.claims[roles]', values: ['admin'] }] };
    const denyRule: AuthzRule = { when: [{ key: 'request.auth.claims[iss]', values: ['https://example.fusionauth.io'] }, { key: 'request.auth.claims[roles]', notValues: ['admin'] }] };
    const ps = [policy('default/jwt-authz', 'ALLOW', [allowRule]), policy('default/jwt-authz-deny', 'DENY', [denyRule])];
    assert.equal(decide(ps, facts(admin)).allow, true);
    const viewer = decide(ps, facts(jwt({ iss: 'https://example.fusionauth.io', sub: 'bob', roles: ['viewer'] })));
    assert.deepEqual([viewer.allow, viewer.policy], [false, 'default/jwt-authz-deny']);
    const none = decide(ps, facts());
    assert.deepEqual([none.allow, none.policy], [false, undefined], 'no token: not denied by DENY (iss absent), but no ALLOW matches');
    assert.equal(decide(ps, facts(jwt({ iss: 'https://example.fusionauth.io', sub: 'carol' }))).allow, false, 'no roles claim: DENY matches via notValues');
  });
  it('claims: strings, lists (any element), nested [a][b], non-strings never match', () => {
    assert.equal(ruleMatches(when('request.auth.claims[roles]', ['user']), facts(admin)), true);
    assert.equal(ruleMatches(when('request.auth.claims[roles]', undefined, ['admin']), facts(admin)), false);
    assert.equal(ruleMatches(when('request.auth.claims[org][team]', ['core']), facts(admin)), true);
    assert.equal(ruleMatches(when('request.auth.claims[org][ids]', ['a*']), facts(admin)), true);
    assert.equal(ruleMatches(when('request.auth.claims[org][missing]', ['*']), facts(admin)), false);
    assert.equal(ruleMatches(when('request.auth.claims[n]', ['5']), facts(admin)), false);
    assert.equal(ruleMatches(when('request.auth.claims[n]', undefined, ['5']), facts(admin)), true);
  });
  it('request.auth.principal, audiences, presenter', () => {
    assert.equal(ruleMatches(when('request.auth.principal', ['https://example.fusionauth.io/alice']), facts(admin)), true);
    assert.equal(ruleMatches(when('request.auth.audiences', ['todos']), facts(admin)), true);
    assert.equal(ruleMatches(when('request.auth.presenter', ['web']), facts(admin)), true);
    assert.equal(ruleMatches(when('request.auth.audiences', undefined, ['todos']), facts(admin)), false);
  });
  it('request.headers: case-insensitive name, duplicates joined with ","', () => {
    assert.equal(ruleMatches(when('request.headers[X-Env]', ['prod']), facts({ headers: { 'x-env': 'prod' } })), true);
    assert.equal(ruleMatches(when('request.headers[x-env]', ['a,b']), facts({ headers: { 'x-env': ['a', 'b'] } })), true);
    assert.equal(ruleMatches(when('request.headers[x-env]', undefined, ['prod']), facts()), true);
  });
  it('source.ip / remote.ip / destination.ip with CIDRs, destination.port, source.principal / namespace, connection.sni', () => {
    assert.equal(ruleMatches(when('source.ip', ['10.0.0.0/8']), facts()), true);
    assert.equal(ruleMatches(when('remote.ip', undefined, ['10.0.0.5']), facts()), false);
    assert.equal(ruleMatches(when('destination.ip', ['10.0.0.9']), facts()), true);
    assert.equal(ruleMatches(when('destination.port', ['8080']), facts()), true);
    assert.equal(ruleMatches(when('destination.port', undefined, ['8080']), facts()), false);
    assert.equal(ruleMatches(when('source.principal', ['cluster.local/ns/default/sa/reminder']), facts(mtls)), true);
    assert.equal(ruleMatches(when('source.namespace', ['default']), facts(mtls)), true);
    assert.equal(ruleMatches(when('connection.sni', ['*']), facts()), false);
    assert.equal(ruleMatches(when('connection.sni', ['todos.default']), facts({ sni: 'todos.default' })), true);
  });
});

describe("the book's principals example (mTLS identities)", () => {
  const todos = [policy('default/todos-viewer-allow', 'ALLOW', [{ from: [{ source: { principals: ['cluster.local/ns/default/sa/reminder'] } }], to: [{ operation: { methods: ['GET'] } }] }])];
  const reminder = [policy('default/todos-viewer-allow', 'DENY', [{ from: [{ source: { principals: ['cluster.local/ns/default/sa/todos'] } }] }])];
  it('reminder may GET todos, not POST; others may not', () => {
    assert.equal(decide(todos, facts(mtls)).allow, true);
    assert.equal(decide(todos, facts({ ...mtls, method: 'POST' })).allow, false);
    assert.equal(decide(todos, facts({ sourcePrincipal: 'cluster.local/ns/default/sa/other', sourceNamespace: 'default' })).allow, false);
    assert.equal(decide(todos, facts()).allow, false, 'plaintext');
  });
  it('todos may not call reminder; others may', () => {
    assert.equal(decide(reminder, facts({ sourcePrincipal: 'cluster.local/ns/default/sa/todos', sourceNamespace: 'default' })).allow, false);
    assert.equal(decide(reminder, facts(mtls)).allow, true);
  });
});
