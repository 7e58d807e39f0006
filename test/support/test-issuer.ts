/** A JWT issuer for tests: an RSA key, its JWKS as an inline RequestAuthentication `jwks` string, and RS256 tokens for `alice`. */
import { generateKeyPairSync, sign } from 'node:crypto';

export interface TestIssuer {
  iss: string;
  /** the public key as a JWKS document (kid k1), a JSON string */
  jwks: string;
  /** an RS256 token: iss, sub alice, iat now, exp in 10 minutes, then `claims` (undefined removes one) */
  mint(claims: Record<string, unknown>): string;
}

export function testIssuer(iss = 'https://issuer.example'): TestIssuer {
  const key = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwks = JSON.stringify({ keys: [{ ...(key.publicKey.export({ format: 'jwk' }) as object), kid: 'k1', alg: 'RS256', use: 'sig' }] });
  const b64u = (v: object): string => Buffer.from(JSON.stringify(v)).toString('base64url');
  return {
    iss,
    jwks,
    mint(claims) {
      const now = Math.floor(Date.now() / 1000);
      const input = `${b64u({ alg: 'RS256', typ: 'JWT', kid: 'k1' })}.${b64u({ iss, sub: 'alice', iat: now, exp: now + 600, ...claims })}`;
      return `${input}.${sign('sha256', Buffer.from(input), key.privateKey).toString('base64url')}`;
    },
  };
}
