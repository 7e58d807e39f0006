/**
 * Prepared signature checks on raw node:crypto: a KeyObject or secret bound once, nothing parsed per
 * call. Each check reads the token in place (signing input and signature segment), so the verifier
 * allocates no copy of the signing input and never decodes a signature that cannot be canonical.
 */

import { constants, hash, publicDecrypt, verify, type KeyObject } from 'node:crypto';
import type { AlgorithmSpec } from './algorithms.js';
import { isStrictBase64url } from './base64url.js';
import type { SignatureCheck } from './key-entry.js';

/**
 * One scratch buffer for signing inputs, reused by every check. Safe because checks are synchronous
 * and never re-entered: the buffer is fully written before each use and read only within it.
 */
let scratch = Buffer.allocUnsafe(16 * 1024);

function scratchOf(bytes: number): Buffer {
  if (scratch.length < bytes) scratch = Buffer.allocUnsafe(Math.max(bytes, scratch.length * 2));
  return scratch;
}

/** Decoded signatures: at most 8192 bits (MAX_RSA_BITS), so this never grows. Same reuse rule. */
const signatureScratch = Buffer.allocUnsafe(1024);

/** Length of the unpadded base64url spelling of `bytes` bytes (RFC 7515 §2). */
export function base64urlLength(bytes: number): number {
  return Math.ceil((bytes * 4) / 3);
}

/** Builds the check for one (key, algorithm) pair; the caller has bound the alg to the key type. */
export function prepareCheck(spec: AlgorithmSpec, key: KeyObject, rsaModulusBytes?: number): SignatureCheck {
  if (spec.kty === 'oct') return prepareHmac(spec, key);
  if (spec.kty === 'RSA' && !spec.pss && rsaModulusBytes !== undefined) return prepareRsaPkcs1(spec, key, rsaModulusBytes);
  const digest = spec.hash;
  // Exact-length signatures only: RFC 8017 §8.2.2 step 1 (RSA), RFC 7518 §3.4 (ES is r||s, so a
  // DER-encoded ECDSA signature, 70-72 bytes for P-256, is refused), RFC 8032 §5.1.7 (Ed25519).
  const bytes = spec.signatureBytes ?? rsaModulusBytes ?? -1;
  const chars = bytes < 0 ? -1 : base64urlLength(bytes);
  let keyArg: KeyObject | { key: KeyObject; padding?: number; saltLength?: number; dsaEncoding?: 'ieee-p1363' } = key;
  if (spec.pss) {
    // RFC 7518 §3.5: MGF1 with the same hash, salt length equal to the hash output size.
    keyArg = { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: hashBytes(spec) };
  } else if (spec.kty === 'EC') {
    keyArg = { key, dsaEncoding: 'ieee-p1363' };
  }
  const arg = keyArg;
  return (token, dot) => {
    // The length test first: it rejects every wrong-size signature without scanning it.
    if (token.length - dot - 1 !== chars) return false;
    const segment = token.slice(dot + 1);
    if (!isStrictBase64url(segment)) return false;
    const signature = signatureScratch.subarray(0, signatureScratch.write(segment, 0, bytes, 'base64url'));
    const input = scratchOf(dot);
    // The signing input is base64url and '.', all ASCII (checked by the caller), so latin1 is exact.
    const n = input.write(token, 0, dot, 'latin1');
    try {
      return verify(digest, input.subarray(0, n), arg, signature);
    } catch {
      return false;
    }
  };
}

/** DER DigestInfo prefixes (RFC 8017 §9.2 note 1), with the NULL parameters OpenSSL also requires. */
const DIGEST_INFO: Record<'sha256' | 'sha384' | 'sha512', Buffer> = {
  sha256: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  sha384: Buffer.from('3041300d060960864801650304020205000430', 'hex'),
  sha512: Buffer.from('3051300d060960864801650304020305000440', 'hex'),
};

/**
 * RSASSA-PKCS1-v1_5 verification as RFC 8017 §8.2.2 writes it: RSAVP1 (s^e mod n, which OpenSSL
 * refuses for s >= n), then compare the whole result with the one encoding EMSA-PKCS1-v1_5 gives for
 * this input (step 3-4). Building the expected block and comparing all of it, instead of parsing the
 * decrypted one, leaves no room for the lenient-parser forgeries (Bleichenbacher 2006, BERserk). It is
 * also about a microsecond cheaper per token than crypto.verify: no per-call job object.
 */
function prepareRsaPkcs1(spec: AlgorithmSpec, key: KeyObject, k: number): SignatureCheck {
  const digest = spec.hash as 'sha256' | 'sha384' | 'sha512';
  const info = DIGEST_INFO[digest];
  const hLen = hashBytesOf(digest);
  const chars = base64urlLength(k);
  // EM = 0x00 || 0x01 || PS (0xff, at least 8) || 0x00 || DigestInfo || H; only H changes per token.
  const expected = Buffer.alloc(k, 0xff);
  const hashAt = k - hLen;
  const infoAt = hashAt - info.length;
  if (infoAt - 1 < 2 + 8) throw new Error(`RSA modulus of ${k} bytes is too short for ${spec.name}`);
  expected[0] = 0x00;
  expected[1] = 0x01;
  expected[infoAt - 1] = 0x00;
  info.copy(expected, infoAt);
  const keyArg = { key, padding: constants.RSA_NO_PADDING };
  return (token, dot) => {
    if (token.length - dot - 1 !== chars) return false;
    const segment = token.slice(dot + 1);
    if (!isStrictBase64url(segment)) return false;
    const signature = signatureScratch.subarray(0, signatureScratch.write(segment, 0, k, 'base64url'));
    if (signature.length !== k) return false;
    let em: Buffer;
    try {
      em = publicDecrypt(keyArg, signature);
    } catch {
      return false;
    }
    if (em.length !== k || em.compare(expected, 0, hashAt, 0, hashAt) !== 0) return false;
    // The signing input is ASCII (checked by the caller), so hashing the string (as UTF-8) hashes
    // exactly its bytes; a string digest costs crypto.hash about half what a Buffer result does.
    return em.toString('latin1', hashAt) === hash(digest, token.slice(0, dot), 'binary');
  };
}

/**
 * HMAC (RFC 2104) from two one-shot hashes over a prepared key pad: one crypto.hash call costs
 * less than a createHmac object, and this is the whole cost of an HS* verification. The expected
 * MAC is compared with the signature segment as text in constant time: only the one canonical
 * spelling can equal it, so the segment needs neither a strictness scan nor decoding.
 */
function prepareHmac(spec: AlgorithmSpec, secret: KeyObject): SignatureCheck {
  const digest = spec.hash as 'sha256' | 'sha384' | 'sha512';
  const block = digest === 'sha256' ? 64 : 128;
  const size = spec.signatureBytes as number;
  const chars = base64urlLength(size);
  const exported = secret.export();
  // RFC 2104 §2: a key longer than the block is hashed first.
  const k = exported.length > block ? hash(digest, exported, 'buffer') : exported;
  const innerPad = Buffer.alloc(block, 0x36);
  const outer = Buffer.alloc(block + size, 0x5c);
  for (let i = 0; i < k.length; i++) {
    innerPad[i]! ^= k[i]!;
    outer[i]! ^= k[i]!;
  }
  // the pads hold what is needed; no other copy of the secret stays in this closure's reach
  k.fill(0);
  exported.fill(0);
  // This key's own inner-hash input (not from the shared pool, so `view.buffer` identifies it), the
  // pad written once: per token only the signing input is written after it. Tokens of one issuer
  // mostly share a length, so the view of the used part is kept too.
  let inner = Buffer.allocUnsafeSlow(block + 2048);
  innerPad.copy(inner, 0);
  let view = inner.subarray(0, 0);
  return (token, dot) => {
    // Length is public (fixed by the alg); the comparison itself is constant-time.
    if (token.length - dot - 1 !== chars) return false;
    if (inner.length < block + dot) {
      inner = Buffer.allocUnsafeSlow(block + dot);
      innerPad.copy(inner, 0);
    }
    const n = inner.write(token, block, dot, 'latin1');
    if (view.length !== block + n || view.buffer !== inner.buffer) view = inner.subarray(0, block + n);
    // String results ('binary' is latin1): crypto.hash makes a string for about half what a Buffer costs.
    outer.write(hash(digest, view, 'binary'), block, 'latin1');
    const mac = hash(digest, outer, 'base64url');
    return constantTimeEqual(mac, token, dot + 1);
  };
}

/** `a` equals `b` from `offset` to its end; time depends only on the lengths (checked equal by the caller). */
function constantTimeEqual(a: string, b: string, offset: number): boolean {
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(offset + i);
  return diff === 0;
}

function hashBytes(spec: AlgorithmSpec): number {
  return hashBytesOf(spec.hash);
}

function hashBytesOf(digest: AlgorithmSpec['hash']): number {
  return digest === 'sha256' ? 32 : digest === 'sha384' ? 48 : 64;
}
