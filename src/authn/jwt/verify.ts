/** verifyJwt: the synchronous strict verification path; verifyJwtAsync adds one rate-limited key refresh. */

import { decodeBase64urlText, isStrictBase64url } from './base64url.js';
import { checkClaims } from './claims.js';
import { deepFreeze } from './deep-freeze.js';
import { failure, type VerifyFailure } from './errors.js';
import { checkHeader } from './header.js';
import type { CompiledJwtPolicy } from './policy.js';
import { parseStrictJsonObjectText } from './strict-json.js';
import type { JwtClaims, VerifyResult, VerifySuccess } from './verify-result.js';

/** Without a kid, at most this many keys are tried, so one token cannot cost a key set's worth of verifies. */
export const MAX_KEYS_WITHOUT_KID = 4;

const F = {
  type: failure('JWT_MALFORMED', 'token is not a string'),
  size: failure('JWT_TOO_LARGE', 'token exceeds the size limit'),
  segments: failure('JWT_MALFORMED', 'token is not JWS compact serialization (three dot-separated segments)'),
  base64: failure('JWT_BAD_BASE64', 'a token segment is not strict unpadded base64url'),
  noKeys: failure('JWT_KEYS_UNAVAILABLE', 'no key set is available for this issuer (failing closed)'),
  kid: failure('JWT_KEY_NOT_FOUND', 'no configured key has the token kid'),
  kidAlg: failure('JWT_ALG_NOT_ALLOWED', 'the key named by kid does not verify the header alg'),
  noAlgKey: failure('JWT_ALG_NOT_ALLOWED', 'no configured key verifies the header alg'),
  signature: failure('JWT_BAD_SIGNATURE', 'signature verification failed'),
  payloadJson: failure('JWT_BAD_JSON', 'payload is not a JSON object in valid UTF-8'),
  payloadDup: failure('JWT_DUPLICATE_KEY', 'payload has a duplicate member name'),
};

/**
 * Verify a compact JWS JWT against `policy` at `now` (ms since the epoch). Never throws and never
 * fetches: with a RemoteJwks it uses the last good key set (see verifyJwtAsync for the refresh).
 * Order: cheap structural checks first (size, segments, base64url, header), so garbage never
 * reaches the expensive signature check; then the signature; only then the payload is read.
 */
export function verifyJwt(token: string, policy: CompiledJwtPolicy, now: number): VerifyResult {
  if (typeof token !== 'string') return F.type;
  // Size cap before any parsing (reference §6). Any non-ASCII character fails base64url below, so
  // for every token that can pass, length in UTF-16 units equals length in bytes.
  if (token.length > policy.maxTokenBytes) return F.size;
  const keys = policy.keys.current();
  const cache = policy.cache;
  if (cache !== undefined && keys !== undefined) {
    const hit = cache.get(token, now, keys.version);
    if (hit !== undefined) return hit;
  }

  // RFC 7515 §7.1: exactly three segments. JWE (five) and anything else are refused.
  const d1 = token.indexOf('.');
  const d2 = d1 < 0 ? -1 : token.indexOf('.', d1 + 1);
  if (d2 < 0 || token.indexOf('.', d2 + 1) !== -1) return F.segments;
  const p = token.slice(d1 + 1, d2);
  // The header segment is checked inside checkHeader (skipped when that exact string passed before);
  // the signature segment inside the signature check, where its expected length is known.
  if (!isStrictBase64url(p)) return F.base64;
  const header = checkHeader(token, d1, policy);
  if ('ok' in header) return header;
  if (keys === undefined) return F.noKeys;

  const { alg, kid } = header;
  if (kid !== undefined) {
    // Exact, opaque lookup; no fallback to other keys (reference §6 kid rows).
    const key = keys.byKeyId(kid);
    if (key === undefined) return F.kid;
    const check = key.verifiers.get(alg);
    if (check === undefined) return F.kidAlg;
    if (!check(token, d2)) return signatureFailure(token, d2);
  } else {
    const candidates = keys.forAlgorithm(alg);
    if (candidates.length === 0) return F.noAlgKey;
    const n = Math.min(candidates.length, MAX_KEYS_WITHOUT_KID);
    let verified = false;
    for (let i = 0; i < n && !verified; i++) verified = (candidates[i]!.verifiers.get(alg)!)(token, d2);
    if (!verified) return signatureFailure(token, d2);
  }

  const text = decodeBase64urlText(p);
  if (text === undefined) return F.payloadJson;
  const parsed = parseStrictJsonObjectText(text);
  if (!parsed.ok) return parsed.reason === 'duplicate-key' ? F.payloadDup : F.payloadJson;
  const claims = parsed.value;
  const nowSec = now / 1000;
  const bad = checkClaims(claims, policy, nowSec);
  if (bad !== undefined) return bad;

  const result: VerifySuccess = { ok: true as const, alg, kid, header: header.header, claims: claims as JwtClaims, payloadSegment: p };
  if (cache === undefined) return result;
  // Freeze only what is shared: with the cache on, every hit returns this same object.
  deepFreeze(result);
  remember(token, result, policy, now, keys.version);
  return result;
}

/** Why a signature check failed; only computed on failure, so the success path never scans the segment twice. */
function signatureFailure(token: string, dot: number): VerifyFailure {
  return isStrictBase64url(token.slice(dot + 1)) ? F.signature : F.base64;
}

/** Cache a success for no longer than the token itself is acceptable, and never across key sets. */
function remember(token: string, result: VerifySuccess, policy: CompiledJwtPolicy, now: number, version: number): void {
  const skewMs = policy.clockSkewSeconds * 1000;
  const { exp, nbf, iat } = result.claims;
  let validUntil = now + policy.cacheMaxTtlMs;
  if (exp !== undefined) validUntil = Math.min(validUntil, exp * 1000 + skewMs);
  let validFrom = -Infinity;
  if (nbf !== undefined) validFrom = nbf * 1000 - skewMs;
  if (iat !== undefined && policy.rejectFutureIat) validFrom = Math.max(validFrom, iat * 1000 - skewMs);
  policy.cache!.set(token, { value: result, validFrom, validUntil, keySetVersion: version });
}

/**
 * verifyJwt, plus: when the token names a kid the current set lacks (or no set is loaded yet) and
 * the policy's keys can be fetched, ask the source to refresh (it rate-limits to one fetch per
 * cooldown, reference §6/§11 rule 7) and verify once more. Only a token that claims this policy's
 * issuer may cause a fetch: one that names another issuer can never pass, so it must not spend the
 * cooldown that a genuine key rotation needs.
 */
export async function verifyJwtAsync(token: string, policy: CompiledJwtPolicy, now: number): Promise<VerifyResult> {
  const first = verifyJwt(token, policy, now);
  if (first.ok) return first;
  const refresh = policy.keys.refreshForUnknownKey;
  if (refresh === undefined) return first;
  if (first.code !== 'JWT_KEY_NOT_FOUND' && first.code !== 'JWT_KEYS_UNAVAILABLE') return first;
  if (unverifiedIssuer(token) !== policy.issuer) return first;
  const changed = await refresh.call(policy.keys);
  return changed ? verifyJwt(token, policy, now) : first;
}

/**
 * The `iss` a token claims, read without verification (strictly parsed, so a duplicate `iss` gives
 * undefined). Only for deciding whether a key fetch could help; never an identity.
 */
export function unverifiedIssuer(token: string): string | undefined {
  const d1 = token.indexOf('.');
  const d2 = d1 < 0 ? -1 : token.indexOf('.', d1 + 1);
  if (d2 < 0) return undefined;
  const p = token.slice(d1 + 1, d2);
  if (!isStrictBase64url(p)) return undefined;
  const text = decodeBase64urlText(p);
  const parsed = text === undefined ? undefined : parseStrictJsonObjectText(text);
  if (!parsed?.ok) return undefined;
  const iss = parsed.value['iss'];
  return typeof iss === 'string' ? iss : undefined;
}
