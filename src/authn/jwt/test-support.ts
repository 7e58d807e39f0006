/** Test-only helpers: real keys made at test time, a raw node:crypto JWS signer (no library in the loop), a hand-moved clock and a local key server's plumbing. */

import { constants, createHmac, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JwtAlgorithm } from './algorithms.js';

export interface TestKeyPair {
  publicKey: KeyObject;
  privateKey: KeyObject;
}

export function rsaPair(bits = 2048): TestKeyPair {
  return generateKeyPairSync('rsa', { modulusLength: bits });
}
export function ecPair(namedCurve: 'P-256' | 'P-384' | 'P-521' | 'secp256k1'): TestKeyPair {
  return generateKeyPairSync('ec', { namedCurve });
}
export function edPair(): TestKeyPair {
  return generateKeyPairSync('ed25519');
}
export function hmacSecret(bytes = 32): Buffer {
  return randomBytes(bytes);
}

/** Public JWK of a key pair, with extra members (kid, alg, use…). */
export function publicJwk(pair: TestKeyPair, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...(pair.publicKey.export({ format: 'jwk' }) as Record<string, unknown>), ...extra };
}
export function octJwk(secret: Buffer, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { kty: 'oct', k: secret.toString('base64url'), ...extra };
}

export function b64u(v: string | Buffer | object): string {
  if (Buffer.isBuffer(v)) return v.toString('base64url');
  return Buffer.from(typeof v === 'string' ? v : JSON.stringify(v), 'utf8').toString('base64url');
}

/** Raw signature bytes over `data` for `alg` (ES in JOSE r||s form). */
export function rawSign(alg: JwtAlgorithm | string, key: KeyObject | Buffer, data: string): Buffer {
  const bytes = Buffer.from(data, 'latin1');
  const hash = `sha${alg.slice(2)}`;
  if (alg.startsWith('HS')) return createHmac(hash, key as Buffer).update(bytes).digest();
  if (alg.startsWith('RS')) return sign(hash, bytes, key as KeyObject);
  if (alg.startsWith('PS')) return sign(hash, bytes, { key: key as KeyObject, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(alg.slice(2)) / 8 });
  if (alg.startsWith('ES')) return sign(hash, bytes, { key: key as KeyObject, dsaEncoding: 'ieee-p1363' });
  if (alg === 'EdDSA' || alg === 'Ed25519') return sign(null, bytes, key as KeyObject);
  throw new Error(`test signer: unknown alg ${alg}`);
}

/**
 * Build a token. Header and payload may be objects or exact JSON text (for duplicate-key cases);
 * `signAlg` defaults to the header alg, so a test can lie in the header.
 */
export function makeToken(
  header: string | Record<string, unknown>,
  payload: string | Record<string, unknown>,
  key: KeyObject | Buffer,
  signAlg?: string,
): string {
  const h = b64u(header);
  const p = b64u(payload);
  const alg = signAlg ?? (typeof header === 'string' ? (JSON.parse(header) as { alg: string }).alg : (header['alg'] as string));
  return `${h}.${p}.${b64u(rawSign(alg, key, `${h}.${p}`))}`;
}

export const NOW = 1_800_000_000_000; // ms; a fixed clock for deterministic claims
export const NOW_S = NOW / 1000;
export const ISSUER = 'https://issuer.example';

/** A clock the test moves by hand: `fn` reads `now`. */
export function fakeClock(start = NOW): { now: number; fn: () => number } {
  const c = { now: start, fn: () => c.now };
  return c;
}

/** Listens on an ephemeral port of 127.0.0.1; resolves with the server's base URL. */
export async function listenLocal(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Closes `server`, dropping the connections still open. */
export function closeNow(server: Server): void {
  server.closeAllConnections();
  server.close();
}
