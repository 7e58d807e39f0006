/** Registered-claim checks (RFC 7519 §4.1) with Istio/Envoy semantics and the reference's hardening. */

import { failure, type VerifyFailure } from './errors.js';
import type { CompiledJwtPolicy } from './policy.js';

const F = {
  iss: failure('JWT_ISSUER_MISMATCH', 'iss is missing or does not equal the configured issuer'),
  sub: failure('JWT_CLAIM_INVALID', 'sub is not a string'),
  audType: failure('JWT_CLAIM_INVALID', 'aud is not a string or a list of strings'),
  aud: failure('JWT_AUDIENCE_MISMATCH', 'no aud value is one of the configured audiences'),
  expType: failure('JWT_CLAIM_INVALID', 'exp is not a finite number'),
  nbfType: failure('JWT_CLAIM_INVALID', 'nbf is not a finite number'),
  iatType: failure('JWT_CLAIM_INVALID', 'iat is not a finite number'),
  expMissing: failure('JWT_MISSING_EXP', 'exp is required and missing'),
  expired: failure('JWT_EXPIRED', 'token has expired (exp plus clock skew is past)'),
  nbf: failure('JWT_NOT_YET_VALID', 'token is not valid yet (nbf is beyond the clock skew)'),
  iat: failure('JWT_ISSUED_IN_FUTURE', 'iat is in the future beyond the clock skew'),
};

/** Returns the failure, or undefined when every claim check passes at `nowSec` (seconds). */
export function checkClaims(c: Record<string, unknown>, policy: CompiledJwtPolicy, nowSec: number): VerifyFailure | undefined {
  // Exact string equality: no trimming, case folding or trailing-slash tolerance (reference §6).
  if (c['iss'] !== policy.issuer) return F.iss;
  const sub = c['sub'];
  if (sub !== undefined && typeof sub !== 'string') return F.sub;

  const aud = c['aud'];
  if (aud !== undefined && typeof aud !== 'string' && !isStringList(aud)) return F.audType;
  // Istio/Envoy: with audiences configured, at least one aud element must equal one of them
  // exactly; with none configured the check is skipped (reference §2 JWTRule.audiences).
  if (policy.audiences.size > 0 && !audienceMatches(aud, policy.audiences)) return F.aud;

  const skew = policy.clockSkewSeconds;
  const exp = c['exp'];
  const nbf = c['nbf'];
  const iat = c['iat'];
  // RFC 7519 §2 NumericDate: a JSON number; JSON.parse turns 1e999 into Infinity, refused too.
  if (exp !== undefined && !isFiniteNumber(exp)) return F.expType;
  if (nbf !== undefined && !isFiniteNumber(nbf)) return F.nbfType;
  if (iat !== undefined && !isFiniteNumber(iat)) return F.iatType;
  if (exp === undefined) {
    if (policy.requireExpiration) return F.expMissing;
  } else if (nowSec >= exp + skew) {
    // RFC 7519 §4.1.4: the token must not be accepted on or after exp (here: exp + skew).
    return F.expired;
  }
  // RFC 7519 §4.1.5: acceptable on or after nbf, so nbf == now + skew still passes.
  if (nbf !== undefined && nbf > nowSec + skew) return F.nbf;
  if (iat !== undefined && policy.rejectFutureIat && iat > nowSec + skew) return F.iat;
  for (const name of policy.requiredClaims) {
    if (!Object.prototype.hasOwnProperty.call(c, name) || c[name] === null) return missingClaim(name);
  }
  return undefined;
}

/** The name comes from the RequestAuthentication, never from the token, so it is safe to log. */
function missingClaim(name: string): VerifyFailure {
  return failure('JWT_MISSING_CLAIM', `required claim ${JSON.stringify(name)} is missing`);
}

function audienceMatches(aud: unknown, allowed: ReadonlySet<string>): boolean {
  if (typeof aud === 'string') return allowed.has(aud);
  if (!Array.isArray(aud)) return false;
  for (const a of aud) if (allowed.has(a as string)) return true;
  return false;
}

function isStringList(v: unknown): v is string[] {
  if (!Array.isArray(v)) return false;
  for (const x of v) if (typeof x !== 'string') return false;
  return true;
}

function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}
