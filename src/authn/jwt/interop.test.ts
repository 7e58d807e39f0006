/** Interop: tokens signed by `jose` (an independent signer) verify here, and our test signer agrees with jose. */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SignJWT, jwtVerify } from 'jose';
import { compileJwks } from './key-set.js';
import { compileJwtPolicy } from './policy.js';
import { ISSUER, NOW, NOW_S, ecPair, edPair, hmacSecret, makeToken, octJwk, publicJwk, rsaPair, type TestKeyPair } from './test-support.js';
import { verifyJwt } from './verify.js';

const rsa = rsaPair();
const ec256 = ecPair('P-256');
const ec384 = ecPair('P-384');
const ed = edPair();
const secret = hmacSecret(64);
const keys = compileJwks({
  keys: [publicJwk(rsa, { kid: 'rsa' }), publicJwk(ec256, { kid: 'p256' }), publicJwk(ec384, { kid: 'p384' }), publicJwk(ed, { kid: 'ed' }), octJwk(secret, { kid: 'hs' })],
});
const policy = compileJwtPolicy({ issuer: ISSUER, audiences: ['todos'], keys, cache: false, requireExpiration: true });

const cases: Array<[string, string, TestKeyPair | Buffer]> = [
  ['RS256', 'rsa', rsa], ['RS512', 'rsa', rsa], ['PS256', 'rsa', rsa], ['PS384', 'rsa', rsa],
  ['ES256', 'p256', ec256], ['ES384', 'p384', ec384], ['EdDSA', 'ed', ed],
  ['HS256', 'hs', secret], ['HS384', 'hs', secret], ['HS512', 'hs', secret],
];

function signingKey(k: TestKeyPair | Buffer) {
  return Buffer.isBuffer(k) ? new Uint8Array(k) : k.privateKey;
}

describe('interop with jose', () => {
  for (const [alg, kid, key] of cases) {
    it(`jose-signed ${alg} verifies`, async () => {
      const token = await new SignJWT({ roles: ['admin'] })
        .setProtectedHeader({ alg, kid, typ: 'JWT' })
        .setIssuer(ISSUER).setAudience(['todos', 'other']).setSubject('user-1')
        .setIssuedAt(NOW_S).setExpirationTime(NOW_S + 300)
        .sign(signingKey(key));
      const r = verifyJwt(token, policy, NOW);
      assert.ok(r.ok, r.ok ? '' : r.code);
      assert.deepEqual(r.claims['roles'], ['admin']);
    });
    it(`our test signer's ${alg} verifies with jose`, async () => {
      const token = makeToken({ alg, kid }, { iss: ISSUER, aud: 'todos', exp: NOW_S + 300 }, Buffer.isBuffer(key) ? key : key.privateKey);
      const verifyKey = Buffer.isBuffer(key) ? new Uint8Array(key) : key.publicKey;
      const { payload } = await jwtVerify(token, verifyKey, { algorithms: [alg], issuer: ISSUER, audience: 'todos', currentDate: new Date(NOW) });
      assert.equal(payload.iss, ISSUER);
    });
  }
  it('a jose token for another audience or issuer is refused', async () => {
    const base = () => new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'p256' }).setIssuedAt(NOW_S).setExpirationTime(NOW_S + 60);
    const wrongAud = await base().setIssuer(ISSUER).setAudience('billing').sign(ec256.privateKey);
    const wrongIss = await base().setIssuer(`${ISSUER}/`).setAudience('todos').sign(ec256.privateKey);
    const r1 = verifyJwt(wrongAud, policy, NOW);
    const r2 = verifyJwt(wrongIss, policy, NOW);
    assert.ok(!r1.ok && r1.code === 'JWT_AUDIENCE_MISMATCH');
    assert.ok(!r2.ok && r2.code === 'JWT_ISSUER_MISMATCH');
  });
});
