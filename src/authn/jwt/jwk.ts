/** Validates one JWK strictly (RFC 7517, RFC 7518 §6, RFC 8037 §2) and imports it once with node:crypto. */

import { createHash, createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { ALGORITHMS, MAX_RSA_BITS, MIN_RSA_BITS, type AlgorithmSpec, type JwtAlgorithm, type KeyFamily } from './algorithms.js';
import { decodeBase64url, isStrictBase64url } from './base64url.js';
import type { KeyEntry, SignatureCheck } from './key-entry.js';
import { prepareCheck } from './signature.js';

export type JwkResult = { readonly ok: true; readonly entry: KeyEntry } | { readonly ok: false; readonly message: string };

export interface JwkOptions {
  /** accept `kty: oct` (HMAC secrets); only for key sets from configuration, never fetched ones */
  allowSymmetric: boolean;
}

const CURVE_BYTES: Record<string, number> = { 'P-256': 32, 'P-384': 48, 'P-521': 66, Ed25519: 32 };
/** Members that make a JWK private: a public key set must never carry them. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth'];
const MAX_KID_LENGTH = 256;

export function compileJwk(jwk: unknown, options: JwkOptions): JwkResult {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) return bad('a JWK must be a JSON object');
  const o = jwk as Record<string, unknown>;
  const kty = o['kty'];
  if (kty !== 'RSA' && kty !== 'EC' && kty !== 'OKP' && kty !== 'oct') return bad('kty must be RSA, EC, OKP or oct');

  const kid = o['kid'];
  if (kid !== undefined && (typeof kid !== 'string' || kid.length === 0 || kid.length > MAX_KID_LENGTH)) {
    return bad(`kid must be a non-empty string of at most ${MAX_KID_LENGTH} characters`);
  }
  const use = o['use'];
  // RFC 7517 §4.2: "sig" is the only use that permits verification.
  if (use !== undefined && use !== 'sig') return bad('use must be "sig" for a verification key');
  const ops = o['key_ops'];
  if (ops !== undefined && (!Array.isArray(ops) || !ops.every((x) => typeof x === 'string') || !ops.includes('verify'))) {
    return bad('key_ops must be a list of strings that includes "verify"');
  }
  const alg = o['alg'];
  let pinned: AlgorithmSpec | undefined;
  if (alg !== undefined) {
    pinned = typeof alg === 'string' ? ALGORITHMS[alg] : undefined;
    if (pinned === undefined) return bad('alg is not a supported signature algorithm');
    if (pinned.kty !== kty) return bad('alg does not match kty');
  }
  if (kty !== 'oct' && PRIVATE_MEMBERS.some((m) => m in o)) return bad('private key members are not allowed in a key set');

  switch (kty) {
    case 'RSA':
      return rsa(o, kid as string | undefined, use as string | undefined, pinned);
    case 'EC':
    case 'OKP':
      return curve(kty, o, kid as string | undefined, use as string | undefined, pinned);
    case 'oct':
      if (!options.allowSymmetric) return bad('symmetric (oct) keys are not accepted from this source');
      return secret(o, kid as string | undefined, use as string | undefined, pinned);
  }
}

function rsa(o: Record<string, unknown>, kid: string | undefined, use: string | undefined, pinned: AlgorithmSpec | undefined): JwkResult {
  const n = o['n'];
  const e = o['e'];
  if (!isB64(n) || !isB64(e)) return bad('RSA n and e must be strict base64url');
  const key = importPublic({ kty: 'RSA', n, e });
  if (key === undefined) return bad('RSA key could not be imported');
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  // RFC 7518 §3.3 and §3.5: 2048 bits or larger.
  if (bits < MIN_RSA_BITS) return bad(`RSA modulus must be at least ${MIN_RSA_BITS} bits`);
  if (bits > MAX_RSA_BITS) return bad(`RSA modulus must be at most ${MAX_RSA_BITS} bits`);
  const specs = pinned ? [pinned] : family('RSA');
  const thumbprint = thumb(`{"e":"${e}","kty":"RSA","n":"${n}"}`);
  return entry(kid, 'RSA', pinned, use, bits, thumbprint, specs, key, Math.ceil(bits / 8));
}

function curve(kty: 'EC' | 'OKP', o: Record<string, unknown>, kid: string | undefined, use: string | undefined, pinned: AlgorithmSpec | undefined): JwkResult {
  const crv = o['crv'];
  const x = o['x'];
  const y = o['y'];
  const size = typeof crv === 'string' ? CURVE_BYTES[crv] : undefined;
  const allowed = kty === 'EC' ? crv === 'P-256' || crv === 'P-384' || crv === 'P-521' : crv === 'Ed25519';
  if (!allowed || size === undefined) return bad(kty === 'EC' ? 'crv must be P-256, P-384 or P-521' : 'crv must be Ed25519');
  if (pinned && pinned.crv !== crv) return bad('alg does not match crv');
  // RFC 7518 §6.2.1.2: coordinates are the full-length octet string of the field size.
  if (!isB64(x) || decodeBase64url(x).length !== size) return bad('x must be strict base64url of the curve size');
  if (kty === 'EC' && (!isB64(y) || decodeBase64url(y).length !== size)) return bad('y must be strict base64url of the curve size');
  if (kty === 'OKP' && y !== undefined) return bad('OKP keys have no y');
  const jwk = kty === 'EC' ? { kty, crv, x, y } : { kty, crv, x };
  // node:crypto refuses points that are not on the curve.
  const key = importPublic(jwk);
  if (key === undefined) return bad('key could not be imported (is the point on the curve?)');
  const specs = pinned ? [pinned] : family(kty).filter((s) => s.crv === crv);
  const thumbprint = kty === 'EC' ? thumb(`{"crv":"${crv}","kty":"EC","x":"${x}","y":"${y as string}"}`) : thumb(`{"crv":"${crv}","kty":"OKP","x":"${x}"}`);
  return entry(kid, kty, pinned, use, size * 8, thumbprint, specs, key);
}

function secret(o: Record<string, unknown>, kid: string | undefined, use: string | undefined, pinned: AlgorithmSpec | undefined): JwkResult {
  const k = o['k'];
  if (!isB64(k)) return bad('oct k must be strict base64url');
  const bytes = decodeBase64url(k);
  // RFC 7518 §3.2: the key is at least as long as the hash output.
  const specs = (pinned ? [pinned] : family('oct')).filter((s) => bytes.length >= (s.minSecretBytes ?? 0));
  if (specs.length === 0) return bad('HMAC secret is shorter than the hash output of its algorithm');
  const thumbprint = thumb(`{"k":"${k}","kty":"oct"}`);
  return entry(kid, 'oct', pinned, use, bytes.length * 8, thumbprint, specs, createSecretKey(bytes));
}

function entry(
  kid: string | undefined, kty: KeyFamily, pinned: AlgorithmSpec | undefined, use: string | undefined, bits: number,
  thumbprint: string, specs: AlgorithmSpec[], key: KeyObject, rsaModulusBytes?: number,
): JwkResult {
  const verifiers = new Map<JwtAlgorithm, SignatureCheck>();
  for (const s of specs) verifiers.set(s.name, prepareCheck(s, key, rsaModulusBytes));
  return { ok: true, entry: Object.freeze({ kid, kty, alg: pinned?.name, use, bits, thumbprint, verifiers }) };
}

function family(kty: KeyFamily): AlgorithmSpec[] {
  return Object.values(ALGORITHMS).filter((s): s is AlgorithmSpec => s !== undefined && s.kty === kty);
}

function importPublic(jwk: Record<string, unknown>): KeyObject | undefined {
  try {
    return createPublicKey({ key: jwk as never, format: 'jwk' });
  } catch {
    return undefined;
  }
}

function isB64(v: unknown): v is string {
  return typeof v === 'string' && isStrictBase64url(v);
}

/** RFC 7638 §3: SHA-256 over the required members in lexicographic order, no whitespace. */
function thumb(canonicalJson: string): string {
  return createHash('sha256').update(canonicalJson).digest('base64url');
}

function bad(message: string): JwkResult {
  return { ok: false, message };
}
