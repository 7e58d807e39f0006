/** Prepared signature checks on raw node:crypto: a KeyObject or secret bound once, nothing parsed per call. */

import { constants, createHmac, timingSafeEqual, verify, type KeyObject } from 'node:crypto';
import type { AlgorithmSpec } from './algorithms.js';
import type { SignatureCheck } from './key-entry.js';

/** Builds the check for one (key, algorithm) pair; the caller has bound the alg to the key type. */
export function prepareCheck(spec: AlgorithmSpec, key: KeyObject, rsaModulusBytes?: number): SignatureCheck {
  const hash = spec.hash;
  if (spec.kty === 'oct') return prepareHmac(spec, key);
  // Exact-length signatures only: RFC 8017 §8.2.2 step 1 (RSA), RFC 7518 §3.4 (ES is r||s, so a
  // DER-encoded ECDSA signature, 70-72 bytes for P-256, is refused), RFC 8032 §5.1.7 (Ed25519).
  const expected = spec.signatureBytes ?? rsaModulusBytes ?? -1;
  let keyArg: KeyObject | { key: KeyObject; padding?: number; saltLength?: number; dsaEncoding?: 'ieee-p1363' } = key;
  if (spec.pss) {
    // RFC 7518 §3.5: MGF1 with the same hash, salt length equal to the hash output size.
    keyArg = { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: hashBytes(spec) };
  } else if (spec.kty === 'EC') {
    keyArg = { key, dsaEncoding: 'ieee-p1363' };
  }
  const arg = keyArg;
  return (signingInput, signature) => {
    if (signature.length !== expected) return false;
    try {
      return verify(hash, Buffer.from(signingInput, 'latin1'), arg, signature);
    } catch {
      return false;
    }
  };
}

function prepareHmac(spec: AlgorithmSpec, secret: KeyObject): SignatureCheck {
  const hash = spec.hash as string;
  const size = spec.signatureBytes as number;
  return (signingInput, signature) => {
    // Length is public (fixed by the alg); the comparison itself is constant-time.
    if (signature.length !== size) return false;
    const mac = createHmac(hash, secret).update(signingInput, 'latin1').digest();
    return timingSafeEqual(mac, signature);
  };
}

function hashBytes(spec: AlgorithmSpec): number {
  return spec.hash === 'sha256' ? 32 : spec.hash === 'sha384' ? 48 : 64;
}
