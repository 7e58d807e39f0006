/** The verified-token cache: exact-string keys, bounded, never past exp or across key sets. */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileJwks } from './key-set.js';
import { compileJwtPolicy } from './policy.js';
import { ISSUER, NOW, NOW_S, makeToken, publicJwk, rsaPair } from './test-support.js';
import { VerifiedTokenCache } from './token-cache.js';
import { verifyJwt } from './verify.js';

const rsa = rsaPair();
const keys = compileJwks({ keys: [publicJwk(rsa, { kid: 'k' })] });
const token = (extra: Record<string, unknown> = {}) =>
  makeToken({ alg: 'RS256', kid: 'k' }, { iss: ISSUER, sub: 'u', iat: NOW_S, exp: NOW_S + 10, ...extra }, rsa.privateKey);

describe('verified-token cache', () => {
  it('a repeated token returns the same verdict without re-verifying', () => {
    const p = compileJwtPolicy({ issuer: ISSUER, keys });
    const t = token();
    const a = verifyJwt(t, p, NOW);
    assert.ok(a.ok);
    assert.equal(verifyJwt(t, p, NOW + 1000), a);
    assert.equal(p.cache!.size, 1);
  });
  it('expires exactly when the token does (exp + skew)', () => {
    const p = compileJwtPolicy({ issuer: ISSUER, keys });
    const t = token();
    assert.ok(verifyJwt(t, p, NOW).ok);
    const end = (NOW_S + 10 + 60) * 1000;
    assert.ok(verifyJwt(t, p, end - 1).ok);
    const r = verifyJwt(t, p, end);
    assert.ok(!r.ok && r.code === 'JWT_EXPIRED');
    assert.equal(p.cache!.size, 0);
  });
  it('is not consulted for a clock before nbf - skew', () => {
    const p = compileJwtPolicy({ issuer: ISSUER, keys });
    const t = token({ nbf: NOW_S });
    assert.ok(verifyJwt(t, p, NOW).ok);
    const r = verifyJwt(t, p, NOW - 61_000);
    assert.ok(!r.ok && r.code === 'JWT_NOT_YET_VALID');
  });
  it('never serves a verdict made under another key set', () => {
    let current = keys;
    const p = compileJwtPolicy({ issuer: ISSUER, keys: { current: () => current } });
    const t = token();
    assert.ok(verifyJwt(t, p, NOW).ok);
    current = compileJwks({ keys: [publicJwk(rsaPair(), { kid: 'k' })] });
    const r = verifyJwt(t, p, NOW);
    assert.ok(!r.ok && r.code === 'JWT_BAD_SIGNATURE');
  });
  it('caches tokens without exp for at most maxTtlSeconds; failures are not cached', () => {
    const p = compileJwtPolicy({ issuer: ISSUER, keys, cache: { maxTtlSeconds: 5 } });
    const t = token({ exp: undefined });
    assert.ok(verifyJwt(t, p, NOW).ok);
    assert.equal(p.cache!.size, 1);
    assert.ok(verifyJwt(t, p, NOW + 6000).ok);
    verifyJwt(token({ iss: 'x' }), p, NOW);
    assert.equal(p.cache!.size, 1);
  });
  it('is bounded and evicts the least recently used entry', () => {
    const c = new VerifiedTokenCache<string>(2);
    const v = (value: string) => ({ value, validFrom: 0, validUntil: 10, keySetVersion: 1 });
    c.set('a', v('A'));
    c.set('b', v('B'));
    assert.equal(c.get('a', 1, 1), 'A');
    c.set('c', v('C'));
    assert.equal(c.get('b', 1, 1), undefined);
    assert.equal(c.get('a', 1, 1), 'A');
    assert.equal(c.get('c', 1, 1), 'C');
    assert.equal(c.size, 2);
    assert.equal(c.get('c', 1, 2), undefined, 'other key set version');
  });
  it('can be turned off', () => {
    const p = compileJwtPolicy({ issuer: ISSUER, keys, cache: false });
    assert.equal(p.cache, undefined);
    assert.ok(verifyJwt(token(), p, NOW).ok);
  });
});
