/**
 * Istio's space-delimited claims (`scope` and `permission` always, others by a rule's
 * `spaceDelimitedClaims`) and `paths` under MeshConfig `pathNormalization.caseInsensitive`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuthzRule } from '../api/istio-types.js';
import { compilePolicies, compileRule, DEFAULT_SPACE_DELIMITED_CLAIMS, evaluate, groupPolicies, type RequestFacts } from './index.js';
import { facts } from './test-support.js';

const jwt = (claims: Record<string, unknown>, spaceDelimitedClaims?: ReadonlySet<string>): RequestFacts =>
  facts({ requestPrincipal: 'iss/alice', claims, ...(spaceDelimitedClaims ? { spaceDelimitedClaims } : {}) });
const when = (key: string, values?: string[], notValues?: string[]): AuthzRule => ({ when: [{ key, ...(values ? { values } : {}), ...(notValues ? { notValues } : {}) }] });
const matches = (r: AuthzRule, f: RequestFacts) => compileRule(r)(f);

describe('request.auth.claims: space-delimited claims as Istio reads them', () => {
  it('scope and permission are split on spaces by default: a rule allowing read admits "read write"', () => {
    assert.deepEqual([...DEFAULT_SPACE_DELIMITED_CLAIMS].sort(), ['permission', 'scope']);
    assert.equal(matches(when('request.auth.claims[scope]', ['read']), jwt({ scope: 'read write' })), true);
    assert.equal(matches(when('request.auth.claims[scope]', ['write']), jwt({ scope: 'read  write ' })), true, 'repeated and trailing spaces');
    assert.equal(matches(when('request.auth.claims[permission]', ['todos:delete']), jwt({ permission: 'todos:read todos:delete' })), true);
    assert.equal(matches(when('request.auth.claims[scope]', ['admin']), jwt({ scope: 'read write' })), false);
  });

  it('the joined string no longer matches as one value, as in Istio', () => {
    assert.equal(matches(when('request.auth.claims[scope]', ['read write']), jwt({ scope: 'read write' })), false);
    assert.equal(matches(when('request.auth.claims[scope]', ['read*']), jwt({ scope: 'read write' })), true, 'prefix match per item');
  });

  it('notValues sees every item: a DENY on scope admin catches "read admin"', () => {
    assert.equal(matches(when('request.auth.claims[scope]', undefined, ['admin']), jwt({ scope: 'read admin' })), false);
    assert.equal(matches(when('request.auth.claims[scope]', undefined, ['admin']), jwt({ scope: 'read write' })), true);
  });

  it('other claims are compared whole unless the verifying rule lists them (scp, roles, nested a.b)', () => {
    assert.equal(matches(when('request.auth.claims[scp]', ['read']), jwt({ scp: 'read write' })), false, 'scp is not split by default');
    assert.equal(matches(when('request.auth.claims[roles]', ['admin']), jwt({ roles: 'editor admin' })), false);
    const extra = new Set([...DEFAULT_SPACE_DELIMITED_CLAIMS, 'scp', 'roles', 'provider.scope']);
    assert.equal(matches(when('request.auth.claims[scp]', ['read']), jwt({ scp: 'read write' }, extra)), true);
    assert.equal(matches(when('request.auth.claims[roles]', ['admin']), jwt({ roles: 'editor admin' }, extra)), true);
    assert.equal(matches(when('request.auth.claims[provider][scope]', ['b']), jwt({ provider: { scope: 'a b' } }, extra)), true);
    assert.equal(matches(when('request.auth.claims[provider][scope]', ['b']), jwt({ provider: { scope: 'a b' } })), false);
  });

  it('a list claim is taken as it is, its items not split again', () => {
    assert.equal(matches(when('request.auth.claims[scope]', ['read']), jwt({ scope: ['read', 'write'] })), true);
    assert.equal(matches(when('request.auth.claims[scope]', ['read']), jwt({ scope: ['read write'] })), false);
  });
});

describe('paths when MeshConfig pathNormalization.caseInsensitive is on', () => {
  const deny = [
    { Name: 'ns/allow-all', Action: 'ALLOW' as const, Rules: [{}] },
    { Name: 'ns/deny-admin', Action: 'DENY' as const, Rules: [{ to: [{ operation: { paths: ['/Admin*'] } }] }] },
  ];
  it('a DENY written /Admin* still catches the lower-cased /admin path', () => {
    const authz = groupPolicies(compilePolicies(deny, 'http', { caseInsensitivePaths: true }));
    assert.equal(evaluate(authz, facts({ path: '/admin/users' })).allow, false);
    assert.equal(evaluate(authz, facts({ path: '/public' })).allow, true);
  });
  it('without the option paths stay case-sensitive, as in Istio', () => {
    const authz = groupPolicies(compilePolicies(deny));
    assert.equal(evaluate(authz, facts({ path: '/admin/users' })).allow, true);
    assert.equal(evaluate(authz, facts({ path: '/Admin/users' })).allow, false);
  });
});
