/** What a token must satisfy for one issuer, compiled once: keys, algorithms, claims, limits, cache. */

import { ALGORITHMS, ALL_ALGORITHMS, type JwtAlgorithm } from './algorithms.js';
import { JwksError } from './errors.js';
import type { KeySource } from './key-set.js';
import { HeaderCache } from './header.js';
import { VerifiedTokenCache } from './token-cache.js';
import type { VerifySuccess } from './verify-result.js';

export interface JwtPolicyOptions {
  /** `iss` must equal this exactly (Istio JWTRule.issuer; reference §2) */
  issuer: string;
  /** any one `aud` value must be in this list; empty or absent: `aud` is not checked (Envoy, reference §2/§3) */
  audiences?: readonly string[];
  /** a KeySet from compileJwks, or a RemoteJwks */
  keys: KeySource;
  /** further narrow the algorithms; each key is always bound to its own type and JWK `alg` anyway */
  algorithms?: readonly JwtAlgorithm[];
  /** tolerance for exp/nbf/iat (default 60, Envoy clock_skew_seconds) */
  clockSkewSeconds?: number;
  /** size cap checked before any parsing (default 8192 bytes; reference §6) */
  maxTokenBytes?: number;
  /** require `exp` (default false: Istio and Envoy accept tokens without it, reference §2 "Clock skew") */
  requireExpiration?: boolean;
  /** top-level claims that must be present (not null); `exp` here is `requireExpiration` (Tessera's `requiredClaims`) */
  requiredClaims?: readonly string[];
  /** reject `iat` later than now + skew (default true; one of the checks jose leaves out, reference §6) */
  rejectFutureIat?: boolean;
  /** when set, the header `typ` must equal this (case-insensitive, RFC 7515 §4.1.9) */
  typ?: string;
  /** verified-token cache; false turns it off (default 10 000 entries, at most 300 s per entry) */
  cache?: false | { maxEntries?: number; maxTtlSeconds?: number };
}

export interface CompiledJwtPolicy {
  readonly issuer: string;
  readonly audiences: ReadonlySet<string>;
  readonly keys: KeySource;
  readonly algorithms: ReadonlySet<string>;
  readonly clockSkewSeconds: number;
  readonly maxTokenBytes: number;
  readonly requireExpiration: boolean;
  /** besides `exp`, which `requireExpiration` covers */
  readonly requiredClaims: readonly string[];
  readonly rejectFutureIat: boolean;
  readonly typ: string | undefined;
  readonly cache: VerifiedTokenCache<VerifySuccess> | undefined;
  readonly cacheMaxTtlMs: number;
  /** parsed, checked headers by their encoded segment: headers repeat across an issuer's tokens */
  readonly headerCache: HeaderCache;
}

export const DEFAULT_MAX_TOKEN_BYTES = 8192;
export const DEFAULT_CLOCK_SKEW_SECONDS = 60;

export function compileJwtPolicy(options: JwtPolicyOptions): CompiledJwtPolicy {
  const { issuer } = options;
  if (typeof issuer !== 'string' || issuer.length === 0) invalid('issuer must be a non-empty string');
  const audiences = options.audiences ?? [];
  if (!Array.isArray(audiences) || !audiences.every((a) => typeof a === 'string' && a.length > 0)) {
    invalid('audiences must be a list of non-empty strings');
  }
  if (typeof options.keys?.current !== 'function') invalid('keys must be a KeySet or a RemoteJwks');
  const algorithms = options.algorithms ?? ALL_ALGORITHMS;
  for (const a of algorithms) if (typeof a !== 'string' || ALGORITHMS[a] === undefined) invalid('algorithms lists an unsupported algorithm');
  if (algorithms.length === 0) invalid('algorithms must not be empty');
  const skew = options.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
  if (!Number.isFinite(skew) || skew < 0 || skew > 600) invalid('clockSkewSeconds must be between 0 and 600');
  const maxTokenBytes = options.maxTokenBytes ?? DEFAULT_MAX_TOKEN_BYTES;
  if (!Number.isInteger(maxTokenBytes) || maxTokenBytes < 64) invalid('maxTokenBytes must be an integer of at least 64');
  const required = options.requiredClaims ?? [];
  if (!Array.isArray(required) || !required.every((c) => typeof c === 'string' && c.length > 0)) invalid('requiredClaims must be a list of non-empty strings');
  const cacheOpt = options.cache ?? {};
  const maxTtl = cacheOpt === false ? 0 : (cacheOpt.maxTtlSeconds ?? 300);
  if (!Number.isFinite(maxTtl) || maxTtl < 0) invalid('cache.maxTtlSeconds must be a non-negative number');
  return Object.freeze({
    issuer,
    audiences: new Set(audiences),
    keys: options.keys,
    algorithms: new Set<string>(algorithms),
    clockSkewSeconds: skew,
    maxTokenBytes,
    requireExpiration: options.requireExpiration === true || required.includes('exp'),
    requiredClaims: Object.freeze(required.filter((c) => c !== 'exp')),
    rejectFutureIat: options.rejectFutureIat ?? true,
    typ: options.typ?.toLowerCase(),
    cache: cacheOpt === false ? undefined : new VerifiedTokenCache<VerifySuccess>(cacheOpt.maxEntries ?? 10_000),
    cacheMaxTtlMs: maxTtl * 1000,
    headerCache: new HeaderCache(),
  });
}

function invalid(message: string): never {
  throw new JwksError('JWT_POLICY_INVALID', message);
}
