/** Mints compact JWS tokens with node:crypto: HMAC from raw secret bytes, RS256/ES256 from a PEM private key. */
import { createHmac, createPrivateKey, sign, type KeyObject } from 'node:crypto';
import type { SigningAlgorithm } from './config.js';

export interface SigningKey {
  kid: string;
  alg: SigningAlgorithm;
  /** raw bytes for HMAC, a private KeyObject otherwise */
  key: Buffer | KeyObject;
}

const HASH: Record<SigningAlgorithm, string> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512', RS256: 'sha256', ES256: 'sha256' };
/** RFC 7518 §3.2: an HMAC key must be at least as long as the hash output (the verifier enforces the same). */
const MIN_HMAC_BYTES: Partial<Record<SigningAlgorithm, number>> = { HS256: 32, HS384: 48, HS512: 64 };

/** Builds a key from Secret bytes; throws with a message that never includes the material. */
export function signingKey(kid: string, alg: SigningAlgorithm, material: Buffer): SigningKey {
  const min = MIN_HMAC_BYTES[alg];
  if (min !== undefined) {
    if (material.length < min) throw new Error(`the ${alg} secret for kid ${JSON.stringify(kid)} is shorter than ${min} bytes`);
    return { kid, alg, key: material };
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(material);
  } catch {
    throw new Error(`kid ${JSON.stringify(kid)} does not hold a PEM private key`);
  }
  const type = key.asymmetricKeyType;
  if (alg === 'RS256' && type !== 'rsa') throw new Error(`kid ${JSON.stringify(kid)} is not an RSA key (RS256)`);
  if (alg === 'ES256' && (type !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1')) {
    throw new Error(`kid ${JSON.stringify(kid)} is not a P-256 key (ES256)`);
  }
  return { kid, alg, key };
}

export function mintJwt(k: SigningKey, claims: Record<string, unknown>): string {
  const header = Buffer.from(JSON.stringify({ alg: k.alg, typ: 'JWT', kid: k.kid })).toString('base64url');
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const input = `${header}.${payload}`;
  const hash = HASH[k.alg];
  const sig = Buffer.isBuffer(k.key)
    ? createHmac(hash, k.key).update(input).digest()
    : // JWS wants ECDSA signatures as r||s (RFC 7518 §3.4), not DER.
      sign(hash, Buffer.from(input), k.alg === 'ES256' ? { key: k.key, dsaEncoding: 'ieee-p1363' } : k.key);
  return `${input}.${sig.toString('base64url')}`;
}
