/** A decision names its cause (policy, rule index, failed condition), and istio.io/dry-run policies decide only in the shadow. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuthzRule } from '../api/istio-types.js';
import type { InboundAuthzPolicy } from '../snapshot/types.js';
import { compilePolicies, evaluate, evaluateShadow, groupPolicies, type RequestFacts } from './index.js';
import { facts, mtls } from './test-support.js';

const policy = (Name: string, Action: InboundAuthzPolicy['Action'], Rules: AuthzRule[], dryRun = false): InboundAuthzPolicy => ({
  Name, Action, Rules, ...(dryRun ? { DryRun: true as const } : {}),
});
const authzOf = (ps: InboundAuthzPolicy[]) => groupPolicies(compilePolicies(ps));
const decide = (ps: InboundAuthzPolicy[], f: RequestFacts) => evaluate(authzOf(ps), f);

describe('a decision names the policy and rule', () => {
  it('a DENY names the rule that matched, not the first rule', () => {
    const d = decide([policy('app/no-admin', 'DENY', [{ to: [{ operation: { paths: ['/admin*'] } }] }, { to: [{ operation: { methods: ['GET'] } }] }])], facts());
    assert.deepEqual([d.allow, d.policy, d.rule, d.action], [false, 'app/no-admin', 1, 'DENY']);
  });
  it('an ALLOW names its matching rule', () => {
    const d = decide([policy('app/get', 'ALLOW', [{ to: [{ operation: { methods: ['POST'] } }] }, { to: [{ operation: { methods: ['GET'] } }] }])], facts());
    assert.deepEqual([d.allow, d.policy, d.rule], [true, 'app/get', 1]);
  });
  it('no ALLOW match: the closest rule and the field it failed, never the expected values', () => {
    const d = decide([policy('app/from-reminder', 'ALLOW', [{ from: [{ source: { principals: ['cluster.local/ns/default/sa/reminder'] } }], to: [{ operation: { methods: ['GET'] } }] }])], facts());
    assert.equal(d.policy, undefined, 'no policy decided: the default denial');
    assert.deepEqual(d.closest, { policy: 'app/from-reminder', rule: 0, condition: 'from[0].source.principals' });
    assert.doesNotMatch(JSON.stringify(d), /sa\/reminder/);
  });
  it('the failed part can be an operation field, a not-field or a when key', () => {
    const ok = { from: [{ source: { principals: ['*'] } }] };
    const cases: [AuthzRule, string][] = [
      [{ ...ok, to: [{ operation: { paths: ['/x'] } }] }, 'to[0].operation.paths'],
      [{ ...ok, to: [{ operation: { notMethods: ['GET'] } }] }, 'to[0].operation.notMethods'],
      [{ ...ok, when: [{ key: 'request.headers[x-env]', values: ['prod'] }] }, 'when[0] request.headers[x-env]'],
    ];
    for (const [rule, condition] of cases) assert.equal(decide([policy('ns/a', 'ALLOW', [rule])], facts(mtls)).closest?.condition, condition);
  });
});

describe('istio.io/dry-run', () => {
  const denyGet = policy('app/deny-get', 'DENY', [{ to: [{ operation: { methods: ['GET'] } }] }], true);
  it('a dry-run DENY that matches does not refuse; the shadow decision names it', () => {
    const authz = authzOf([denyGet]);
    assert.equal(evaluate(authz, facts()).allow, true);
    const s = evaluateShadow(authz, facts());
    assert.deepEqual([s?.allow, s?.policy, s?.rule], [false, 'app/deny-get', 0]);
  });
  it('a dry-run ALLOW does not turn the enforced default (allow) into a denial', () => {
    const authz = authzOf([policy('app/only-post', 'ALLOW', [{ to: [{ operation: { methods: ['POST'] } }] }], true)]);
    assert.equal(evaluate(authz, facts()).allow, true);
    assert.equal(evaluateShadow(authz, facts())?.allow, false);
  });
  it('no dry-run policy: no shadow decision; enforced policies are unaffected by dry-run ones', () => {
    assert.equal(evaluateShadow(authzOf([{ ...denyGet, DryRun: undefined } as InboundAuthzPolicy]), facts()), undefined);
    const authz = authzOf([denyGet, policy('app/deny-all', 'DENY', [{}])]);
    assert.deepEqual([evaluate(authz, facts()).allow, evaluate(authz, facts()).policy], [false, 'app/deny-all']);
  });
  it('dry-run on CUSTOM is ignored (Istio supports it for ALLOW and DENY only): the policy is enforced', () => {
    const authz = authzOf([policy('app/ext', 'CUSTOM', [{}], true)]);
    assert.equal(authz.custom.length, 1);
    assert.equal(authz.shadow.length, 0);
  });
});
