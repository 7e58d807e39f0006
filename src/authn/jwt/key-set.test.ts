/** JWKS compilation: every JWK validated strictly, keys bound to their algorithms, empty sets refused. */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JwksError } from './errors.js';
import { compileJwks } from './key-set.js';
import { ecPair, edPair, hmacSecret, octJwk, publicJwk, rsaPair } from './test-support.js';

const rsa = rsaPair();
const ec = ecPair('P-256');
const ed = edPair();

function throwsCode(fn: () => unknown, code: string, pattern?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof JwksError);
    assert.equal(e.code, code);
    if (pattern) assert.match(e.message, pattern);
    return true;
  });
}

describe('compileJwks', () => {
  it('binds each key type to its algorithms', () => {
    const set = compileJwks({ keys: [publicJwk(rsa, { kid: 'r' }), publicJwk(ec, { kid: 'e' }), publicJwk(ed, { kid: 'd' }), octJwk(hmacSecret(48), { kid: 'h' })] });
    assert.deepEqual([...set.byKeyId('r')!.verifiers.keys()].sort(), ['PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512']);
    assert.deepEqual([...set.byKeyId('e')!.verifiers.keys()], ['ES256']);
    assert.deepEqual([...set.byKeyId('d')!.verifiers.keys()], ['EdDSA', 'Ed25519']);
    assert.deepEqual([...set.byKeyId('h')!.verifiers.keys()], ['HS256', 'HS384']);
    assert.equal(set.byKeyId('r')!.bits, 2048);
    assert.equal(set.forAlgorithm('ES256').length, 1);
    assert.equal(set.forAlgorithm('HS512').length, 0);
  });
  it('JWK alg pins a single algorithm and must match kty and crv', () => {
    const set = compileJwks({ keys: [publicJwk(rsa, { alg: 'PS384' })] });
    assert.deepEqual([...set.keys[0]!.verifiers.keys()], ['PS384']);
    throwsCode(() => compileJwks({ keys: [publicJwk(rsa, { alg: 'ES256' })] }), 'JWK_INVALID', /alg does not match kty/);
    throwsCode(() => compileJwks({ keys: [publicJwk(ec, { alg: 'ES384' })] }), 'JWK_INVALID', /alg does not match crv/);
    throwsCode(() => compileJwks({ keys: [publicJwk(rsa, { alg: 'none' })] }), 'JWK_INVALID');
    throwsCode(() => compileJwks({ keys: [publicJwk(rsa, { alg: 'RSA-OAEP' })] }), 'JWK_INVALID');
  });
  it('refuses RSA keys under 2048 bits', () => {
    throwsCode(() => compileJwks({ keys: [publicJwk(rsaPair(1024))] }), 'JWK_INVALID', /at least 2048/);
  });
  it('refuses unsupported curves and malformed coordinates', () => {
    throwsCode(() => compileJwks({ keys: [publicJwk(ecPair('secp256k1'))] }), 'JWK_INVALID', /crv/);
    const jwk = publicJwk(ec);
    throwsCode(() => compileJwks({ keys: [{ ...jwk, x: (jwk['x'] as string).slice(2) }] }), 'JWK_INVALID', /curve size/);
    throwsCode(() => compileJwks({ keys: [{ ...jwk, x: `${jwk['x'] as string}=` }] }), 'JWK_INVALID');
    // A point that is not on the curve.
    throwsCode(() => compileJwks({ keys: [{ ...jwk, y: jwk['x'] }] }), 'JWK_INVALID', /on the curve/);
    throwsCode(() => compileJwks({ keys: [{ ...publicJwk(ed), crv: 'Ed448' }] }), 'JWK_INVALID');
  });
  it('refuses private key material, non-signature use and key_ops without verify', () => {
    const priv = rsa.privateKey.export({ format: 'jwk' });
    throwsCode(() => compileJwks({ keys: [priv] }), 'JWK_INVALID', /private/);
    throwsCode(() => compileJwks({ keys: [publicJwk(rsa, { use: 'enc' })] }), 'JWK_INVALID', /use/);
    throwsCode(() => compileJwks({ keys: [publicJwk(rsa, { key_ops: ['encrypt'] })] }), 'JWK_INVALID', /key_ops/);
    compileJwks({ keys: [publicJwk(rsa, { key_ops: ['verify'], use: 'sig' })] });
  });
  it('HMAC secrets: only when allowed, and at least the hash size', () => {
    throwsCode(() => compileJwks({ keys: [octJwk(hmacSecret(16))] }), 'JWK_INVALID', /shorter/);
    throwsCode(() => compileJwks({ keys: [octJwk(hmacSecret(32), { alg: 'HS512' })] }), 'JWK_INVALID', /shorter/);
    throwsCode(() => compileJwks({ keys: [octJwk(hmacSecret(32))] }, { allowSymmetric: false }), 'JWK_INVALID', /symmetric/);
  });
  it('kid: string, unique', () => {
    throwsCode(() => compileJwks({ keys: [publicJwk(rsa, { kid: 1 })] }), 'JWK_INVALID', /kid/);
    throwsCode(() => compileJwks({ keys: [publicJwk(rsa, { kid: '' })] }), 'JWK_INVALID', /kid/);
    throwsCode(() => compileJwks({ keys: [publicJwk(rsa, { kid: 'a' }), publicJwk(ec, { kid: 'a' })] }), 'JWK_INVALID', /duplicate kid/);
  });
  it('empty or malformed sets are refused', () => {
    throwsCode(() => compileJwks({ keys: [] }), 'JWKS_EMPTY');
    throwsCode(() => compileJwks({}), 'JWKS_INVALID');
    throwsCode(() => compileJwks([publicJwk(rsa)]), 'JWKS_INVALID');
    throwsCode(() => compileJwks(null), 'JWKS_INVALID');
    throwsCode(() => compileJwks({ keys: [publicJwk(rsa, { use: 'enc' })] }, { invalidKeys: 'skip' }), 'JWKS_EMPTY');
  });
  it("skip mode keeps the good keys and says which were left out", () => {
    const set = compileJwks({ keys: [publicJwk(rsa, { use: 'enc' }), publicJwk(ec, { kid: 'e' }), { kty: 'XYZ' }] }, { invalidKeys: 'skip' });
    assert.equal(set.keys.length, 1);
    assert.deepEqual(set.skipped.map((p) => p.index), [0, 2]);
  });
  it('the same keys give the same fingerprint and a new version', () => {
    const a = compileJwks({ keys: [publicJwk(rsa, { kid: 'r' })] });
    const b = compileJwks({ keys: [publicJwk(rsa, { kid: 'r', x5c: ['ignored'] })] });
    const c = compileJwks({ keys: [publicJwk(rsa, { kid: 'r2' })] });
    assert.equal(a.fingerprint, b.fingerprint);
    assert.notEqual(a.fingerprint, c.fingerprint);
    assert.notEqual(a.version, b.version);
  });
});
