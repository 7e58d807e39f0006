/**
 * security-rules.md §11 rules 2, 3 and 4 at the evaluator, the cases evaluate.test.ts leaves out:
 * a CUSTOM allow never grants by itself, CUSTOM with unset rules never matches, and "fail closed"
 * for what the sidecar cannot read (unknown keys, fields, actions and values in a delivered
 * snapshot: the API refuses them at apply time, see src/api/validation/rules-11.test.ts, but the
 * sidecar must not fail open on a snapshot that carries one anyway).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuthzRule } from '../api/istio-types.js';
import type { InboundAuthzPolicy, InboundExtAuthz } from '../snapshot/types.js';
import { compilePolicies, compileRule, customChecks, evaluate, groupPolicies, type RequestFacts } from './index.js';
import { facts, mtls } from './test-support.js';

const ext: InboundExtAuthz = { Name: 'ext', Service: 'ext.auth', Port: 9000, TimeoutMs: 2000, PathPrefix: '', HeadersToUpstreamOnAllow: [] };

function policy(Name: string, Action: string, Rules?: unknown, extAuthz?: InboundExtAuthz): InboundAuthzPolicy {
  return { Name, Action: Action as InboundAuthzPolicy['Action'], ...(Rules !== undefined ? { Rules: Rules as AuthzRule[] } : {}), ...(extAuthz ? { Provider: extAuthz.Name, ExtAuthz: extAuthz } : {}) };
}
const authzOf = (ps: InboundAuthzPolicy[]) => groupPolicies(compilePolicies(ps));
const decide = (ps: InboundAuthzPolicy[], f: RequestFacts = facts()) => evaluate(authzOf(ps), f);
/** An ALLOW policy holding `rules` alone, and a DENY holding them next to ALLOW [{}]: does each fail closed? */
function failsClosed(rules: unknown): { allowAllows: boolean; denyAllows: boolean; problems: string[] } {
  const allow = compilePolicies([policy('ns/a', 'ALLOW', rules)])[0]!;
  return {
    allowAllows: decide([policy('ns/a', 'ALLOW', rules)]).allow,
    denyAllows: decide([policy('ns/allow-all', 'ALLOW', [{}]), policy('ns/d', 'DENY', rules)]).allow,
    problems: allow.problems,
  };
}

describe('rule 2: CUSTOM is evaluated on its own and never grants', () => {
  it('CUSTOM with unset rules never matches: no authorizer is asked', () => {
    assert.deepEqual(customChecks(authzOf([policy('ns/c', 'CUSTOM', undefined, ext)]), facts()), []);
  });
  it('CUSTOM [{}] matches every request', () => {
    assert.deepEqual(customChecks(authzOf([policy('ns/c', 'CUSTOM', [{}], ext)]), facts()), [{ policy: 'ns/c', provider: ext }]);
  });
  it('after an authorizer allowed, a missing ALLOW match still denies and a DENY match still denies', () => {
    const authz = authzOf([policy('ns/c', 'CUSTOM', [{}], ext), policy('ns/a', 'ALLOW', [{ to: [{ operation: { paths: ['/public'] } }] }]), policy('ns/d', 'DENY', [{ to: [{ operation: { methods: ['DELETE'] } }] }])]);
    assert.equal((customChecks(authz, facts()) as unknown[]).length, 1, 'the authorizer is asked (and, say, allows)');
    assert.deepEqual(evaluate(authz, facts()), { allow: false, closest: { policy: 'ns/a', rule: 0, condition: 'to[0].operation.paths' }, reason: 'no ALLOW policy matched' });
    assert.equal(evaluate(authz, facts({ path: '/public', method: 'DELETE' })).allow, false);
    assert.equal(evaluate(authz, facts({ path: '/public' })).allow, true);
  });
  it('CUSTOM policies never take part in the DENY/ALLOW steps: a CUSTOM-only workload has "no ALLOW policies"', () => {
    const authz = authzOf([policy('ns/c', 'CUSTOM', [{}], ext)]);
    assert.equal(evaluate(authz, facts()).allow, true);
  });
  it('AUDIT with unset rules, [{}], or anything else never changes a decision', () => {
    for (const rules of [undefined, [{}], [{ to: [{ operation: { paths: ['/todos/1'] } }] }]]) {
      assert.equal(decide([policy('ns/audit', 'AUDIT', rules)]).allow, true);
      assert.equal(decide([policy('ns/audit', 'AUDIT', rules), policy('ns/a', 'ALLOW', [{ to: [{ operation: { paths: ['/x'] } }] }])]).allow, false);
    }
  });
});

describe('rule 3: what the sidecar cannot read fails closed (never allows under ALLOW, always denies under DENY)', () => {
  it('a when condition without values or notValues', () => {
    const r = failsClosed([{ when: [{ key: 'request.headers[x-a]' }] }]);
    assert.deepEqual([r.allowAllows, r.denyAllows], [false, false]);
    assert.match(r.problems[0]!, /needs values or notValues/);
  });
  it('an unknown when key, and experimental.envoy.filters.*', () => {
    for (const key of ['request.bogus', 'experimental.envoy.filters.network.mysql_proxy[db.table]', 'request.auth.claims[]', 'source.ip.extra']) {
      const r = failsClosed([{ when: [{ key, values: ['x'] }] }]);
      assert.deepEqual([r.allowAllows, r.denyAllows], [false, false], key);
      assert.ok(r.problems.length > 0, key);
    }
  });
  it('a value that is not an IP or CIDR in ipBlocks, or not a port in a destination.port condition', () => {
    for (const rules of [[{ from: [{ source: { ipBlocks: ['nope'] } }] }], [{ when: [{ key: 'source.ip', values: ['10.0.0.0/33'] }] }], [{ when: [{ key: 'destination.port', values: ['http'] }] }]]) {
      const r = failsClosed(rules);
      assert.deepEqual([r.allowAllows, r.denyAllows], [false, false], JSON.stringify(rules));
    }
  });
  it('a port that is not a number in operation.ports', () => {
    const r = failsClosed([{ to: [{ operation: { ports: ['http'] } }] }]);
    assert.deepEqual([r.allowAllows, r.denyAllows], [false, false]);
  });
  it('an unknown field in a source, an operation or a rule (e.g. a misspelt principal / paths / from)', () => {
    for (const rules of [
      [{ from: [{ source: { principal: ['cluster.local/ns/default/sa/admin'] } }] }],
      [{ to: [{ operation: { path: ['/admin'] } }] }],
      [{ frm: [{ source: { principals: ['cluster.local/ns/default/sa/admin'] } }] }],
    ]) {
      const r = failsClosed(rules);
      assert.deepEqual([r.allowAllows, r.denyAllows], [false, false], JSON.stringify(rules));
    }
  });
  it('an unknown action', () => {
    assert.equal(decide([policy('ns/x', 'ALLOWED', [{ to: [{ operation: { paths: ['/public'] } }] }])]).allow, false);
  });
});

describe('rule 4: identity facts exist only when verified, and negative matches are satisfied by their absence', () => {
  const src = (s: Record<string, string[]>): AuthzRule => ({ from: [{ source: s }] });
  const m = (r: AuthzRule, f: RequestFacts) => compileRule(r)(f);
  it('plaintext matches no positive principal, namespace or request principal, not even "*"', () => {
    for (const field of ['principals', 'namespaces', 'requestPrincipals']) assert.equal(m(src({ [field]: ['*'] }), facts()), false, field);
    for (const key of ['source.principal', 'source.namespace', 'request.auth.principal', 'request.auth.claims[sub]']) {
      assert.equal(m({ when: [{ key, values: ['*'] }] }, facts()), false, key);
    }
  });
  it('every negative form is satisfied by plaintext / a missing token', () => {
    for (const field of ['notPrincipals', 'notNamespaces', 'notRequestPrincipals']) assert.equal(m(src({ [field]: ['*'] }), facts()), true, field);
    for (const key of ['source.principal', 'source.namespace', 'request.auth.principal']) assert.equal(m({ when: [{ key, notValues: ['*'] }] }, facts()), true, key);
  });
  it('so ALLOW-positive and DENY-negative both refuse plaintext; ALLOW-negative lets it in', () => {
    const allowPositive = [policy('ns/a', 'ALLOW', [src({ principals: ['cluster.local/ns/default/*'] })])];
    const denyNegative = [policy('ns/d', 'DENY', [src({ notPrincipals: ['*'] })])];
    const allowNegative = [policy('ns/a', 'ALLOW', [src({ notPrincipals: ['cluster.local/ns/default/sa/evil'] })])];
    assert.deepEqual([decide(allowPositive).allow, decide(allowPositive, facts(mtls)).allow], [false, true]);
    assert.deepEqual([decide(denyNegative).allow, decide(denyNegative, facts(mtls)).allow], [false, true]);
    assert.equal(decide(allowNegative).allow, true, 'the pitfall §1 warns about');
  });
  it('ipBlocks, remoteIpBlocks, source.ip and remote.ip read the socket peer, never a forwarding header', () => {
    const spoofed = facts({ sourceIp: '10.0.0.5', headers: { 'x-forwarded-for': '192.168.1.1', 'x-real-ip': '192.168.1.1', forwarded: 'for=192.168.1.1' } });
    for (const r of [src({ ipBlocks: ['192.168.0.0/16'] }), src({ remoteIpBlocks: ['192.168.0.0/16'] }), { when: [{ key: 'source.ip', values: ['192.168.0.0/16'] }] }, { when: [{ key: 'remote.ip', values: ['192.168.0.0/16'] }] }]) {
      assert.equal(m(r, spoofed), false, JSON.stringify(r));
    }
    assert.equal(m(src({ notIpBlocks: ['10.0.0.5'] }), spoofed), false);
  });
  it('namespaces compare the whole parsed namespace, never a substring or a prefix of the principal', () => {
    const f = facts({ sourcePrincipal: 'cluster.local/ns/test-evil/sa/x', sourceNamespace: 'test-evil' });
    assert.equal(m(src({ namespaces: ['test'] }), f), false);
    assert.equal(m(src({ namespaces: ['test-evil'] }), f), true);
    assert.equal(m({ when: [{ key: 'source.namespace', values: ['test'] }] }, f), false);
  });
});
