/** The token service's policy: parsing with errors that name the field, and the grant decisions. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EMPTY_POLICY, exchangeDecision, mayIssue, parseStsPolicy, StsPolicyError, withClientAudiences } from './policy.js';

test('a policy that cannot be used is refused, naming the field', () => {
  const cases: [unknown, string][] = [
    [[], '(policy)'],
    [{ issue: {} }, 'issue'],
    [{ issue: [{ callers: ['a'] }] }, 'issue[0].audiences'],
    [{ issue: [{ callers: [], audiences: ['x'] }] }, 'issue[0].callers'],
    [{ issue: [{ callers: ['a'], audiences: [''] }] }, 'issue[0].audiences[0]'],
    [{ issue: [{ callers: ['a*b'], audiences: ['x'] }] }, 'issue[0].callers[0]'],
    [{ issue: [{ callers: ['a'], audiences: ['x'], audience: ['y'] }] }, 'issue[0].audience'],
    [{ exchange: [{ actors: ['a'], audiences: ['x'] }] }, 'exchange[0].subjects'],
    [{ grants: [] }, 'grants'],
  ];
  for (const [value, field] of cases) {
    assert.throws(() => parseStsPolicy(value), (e: unknown) => e instanceof StsPolicyError && e.field === field, JSON.stringify(value));
  }
  assert.equal(parseStsPolicy(undefined), EMPTY_POLICY);
});

test('nothing is granted by default; exact names, * and a trailing-* prefix', () => {
  assert.equal(mayIssue(EMPTY_POLICY, 'cluster.local/ns/a/sa/b', 'x'), false);
  assert.equal(exchangeDecision(EMPTY_POLICY, 'cluster.local/ns/a/sa/b', 'alice', 'x'), 'unauthorized_client');
  const p = parseStsPolicy({
    issue: [{ callers: ['cluster.local/ns/shop/*', 'client:web'], audiences: ['cart', 'orders'] }, { callers: ['*'], audiences: ['public'] }],
    exchange: [{ actors: ['cluster.local/ns/shop/sa/checkout'], subjects: ['*'], audiences: ['payments'] }],
  });
  assert.equal(mayIssue(p, 'cluster.local/ns/shop/sa/checkout', 'cart'), true);
  assert.equal(mayIssue(p, 'cluster.local/ns/shopping/sa/x', 'cart'), false, 'a prefix ends where the pattern says');
  assert.equal(mayIssue(p, 'client:web', 'orders'), true);
  assert.equal(mayIssue(p, 'client:webx', 'orders'), false);
  assert.equal(mayIssue(p, 'anyone', 'public'), true);
  assert.equal(mayIssue(p, 'anyone', 'cart'), false);
  assert.equal(exchangeDecision(p, 'cluster.local/ns/shop/sa/checkout', 'alice', 'payments'), 'ok');
  assert.equal(exchangeDecision(p, 'cluster.local/ns/shop/sa/checkout', 'alice', 'cart'), 'invalid_target');
  assert.equal(exchangeDecision(p, 'cluster.local/ns/shop/sa/cart', 'alice', 'payments'), 'unauthorized_client');
});

test("a client's configured audiences are its issue grant", () => {
  const p = withClientAudiences(EMPTY_POLICY, [['billing', { audiences: ['ledger'] }], ['open', {}]]);
  assert.equal(mayIssue(p, 'client:billing', 'ledger'), true);
  assert.equal(mayIssue(p, 'client:billing', 'todos'), false);
  assert.equal(mayIssue(p, 'client:open', 'todos'), false, 'a client without audiences gets nothing the policy does not grant');
});
