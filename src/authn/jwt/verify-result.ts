/** The result of verifyJwt: a verified token's parts, or a typed failure. */

import type { JwtAlgorithm } from './algorithms.js';
import type { VerifyFailure } from './errors.js';

/** Registered claims (RFC 7519 §4.1) as this verifier has type-checked them, plus the rest. */
export interface JwtClaims {
  readonly iss: string;
  readonly sub?: string;
  readonly aud?: string | readonly string[];
  readonly exp?: number;
  readonly nbf?: number;
  readonly iat?: number;
  readonly [claim: string]: unknown;
}

export interface VerifySuccess {
  readonly ok: true;
  readonly alg: JwtAlgorithm;
  readonly kid: string | undefined;
  /** the protected header, deep-frozen */
  readonly header: Readonly<Record<string, unknown>>;
  /** the payload; deep-frozen when the policy caches (then every hit shares it), a fresh object otherwise */
  readonly claims: JwtClaims;
  /** the payload segment as received: canonical base64url, ready for outputPayloadToHeader */
  readonly payloadSegment: string;
}

export type VerifyResult = VerifySuccess | VerifyFailure;
