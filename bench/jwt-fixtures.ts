/** Keys and tokens for the JWT benchmark: one key per algorithm, a pool of distinct realistic tokens. */

import { createHmac, createSecretKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

export type BenchAlg = 'RS256' | 'ES256' | 'HS256';

export interface AlgFixture {
  alg: BenchAlg;
  kid: string;
  /** public KeyObject (RS/ES) or the secret KeyObject (HS) */
  verifyKey: KeyObject;
  /** what fast-jwt takes: PEM or the raw secret */
  fastJwtKey: string | Buffer;
  jwk: Record<string, unknown>;
  /** distinct tokens (different jti), cycled through so no per-string effect flatters anyone */
  tokens: string[];
  /** the same tokens split for the raw node:crypto contender */
  signingInputs: Buffer[];
  signatures: Buffer[];
}

export const BENCH_ISSUER = 'https://issuer.tessera.local';
export const BENCH_AUDIENCE = 'todos';
const POOL = 64;

export function makeFixtures(nowSec: number): AlgFixture[] {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const secret = Buffer.from('bench-only-hmac-secret-of-32-bytes!!', 'utf8').subarray(0, 32);
  return [
    fixture('RS256', 'rsa-1', rsa.publicKey, rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string, { ...rsa.publicKey.export({ format: 'jwk' }) }, (d) => sign('sha256', d, rsa.privateKey), nowSec),
    fixture('ES256', 'ec-1', ec.publicKey, ec.publicKey.export({ type: 'spki', format: 'pem' }) as string, { ...ec.publicKey.export({ format: 'jwk' }) }, (d) => sign('sha256', d, { key: ec.privateKey, dsaEncoding: 'ieee-p1363' }), nowSec),
    fixture('HS256', 'hs-1', createSecretKey(secret), secret, { kty: 'oct', k: secret.toString('base64url') }, (d) => createHmac('sha256', secret).update(d).digest(), nowSec),
  ];
}

function fixture(
  alg: BenchAlg, kid: string, verifyKey: KeyObject, fastJwtKey: string | Buffer, jwk: Record<string, unknown>,
  signer: (data: Buffer) => Buffer, nowSec: number,
): AlgFixture {
  const tokens: string[] = [];
  const signingInputs: Buffer[] = [];
  const signatures: Buffer[] = [];
  const h = Buffer.from(JSON.stringify({ alg, typ: 'JWT', kid })).toString('base64url');
  for (let i = 0; i < POOL; i++) {
    // A typical access token: about 250 bytes of claims.
    const claims = { iss: BENCH_ISSUER, sub: `user-${1000 + i}`, aud: BENCH_AUDIENCE, iat: nowSec, nbf: nowSec, exp: nowSec + 3600, jti: `j-${i}-${alg}`, roles: ['viewer', 'editor'], scope: 'todos:read todos:write' };
    const p = Buffer.from(JSON.stringify(claims)).toString('base64url');
    const input = Buffer.from(`${h}.${p}`, 'latin1');
    const sig = signer(input);
    tokens.push(`${h}.${p}.${sig.toString('base64url')}`);
    signingInputs.push(input);
    signatures.push(sig);
  }
  return { alg, kid, verifyKey, fastJwtKey, jwk: { ...jwk, kid }, tokens, signingInputs, signatures };
}


