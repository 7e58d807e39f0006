/** Decodes and checks the JOSE header (RFC 7515 §4, RFC 7519 §5); accepted headers are cached per policy. */

import { ALGORITHMS, type JwtAlgorithm } from './algorithms.js';
import { decodeBase64url, isStrictBase64url } from './base64url.js';
import { failure, type VerifyFailure } from './errors.js';
import type { CompiledJwtPolicy } from './policy.js';
import { deepFreeze } from './deep-freeze.js';
import { parseStrictJsonObject } from './strict-json.js';

export interface CheckedHeader {
  readonly alg: JwtAlgorithm;
  readonly kid: string | undefined;
  readonly header: Readonly<Record<string, unknown>>;
}

/** Few distinct headers exist per issuer; the cap only stops an attacker growing the map. */
const HEADER_CACHE_MAX = 256;

/**
 * Accepted headers by their encoded segment, plus the last one used: an issuer's tokens almost
 * always share one header, and comparing it in place needs neither a slice nor a string hash.
 */
export class HeaderCache {
  private readonly bySegment = new Map<string, CheckedHeader>();
  private lastSegment = '';
  private lastChecked: CheckedHeader | undefined;

  /** The header of `token`, whose first '.' is at `dot`, when that exact segment passed before. */
  lookup(token: string, dot: number): CheckedHeader | undefined {
    if (this.lastChecked !== undefined && dot === this.lastSegment.length && token.startsWith(this.lastSegment)) return this.lastChecked;
    const hit = this.bySegment.get(token.slice(0, dot));
    if (hit !== undefined) this.remember(token.slice(0, dot), hit);
    return hit;
  }

  add(segment: string, checked: CheckedHeader): void {
    if (this.bySegment.size >= HEADER_CACHE_MAX) this.bySegment.clear();
    this.bySegment.set(segment, checked);
    this.remember(segment, checked);
  }

  private remember(segment: string, checked: CheckedHeader): void {
    this.lastSegment = segment;
    this.lastChecked = checked;
  }
}

const F = {
  base64: failure('JWT_BAD_BASE64', 'a token segment is not strict unpadded base64url'),
  json: failure('JWT_BAD_JSON', 'header is not a JSON object in valid UTF-8'),
  dup: failure('JWT_DUPLICATE_KEY', 'header has a duplicate member name'),
  algType: failure('JWT_BAD_HEADER', 'header alg is missing or not a string'),
  none: failure('JWT_ALG_NOT_ALLOWED', 'unsecured tokens (alg none) are never accepted'),
  alg: failure('JWT_ALG_NOT_ALLOWED', 'header alg is not an allowed signature algorithm'),
  crit: failure('JWT_CRIT_UNSUPPORTED', 'header crit names extensions this verifier does not process'),
  b64: failure('JWT_B64_UNSUPPORTED', 'header b64 (unencoded payload) is not supported for JWTs'),
  jwe: failure('JWT_BAD_HEADER', 'header carries JWE parameters (enc/zip); only JWS compact is accepted'),
  nested: failure('JWT_NESTED_UNSUPPORTED', 'nested JWTs (cty JWT) are not unwrapped'),
  kid: failure('JWT_BAD_HEADER', 'header kid is not a string'),
  typType: failure('JWT_BAD_HEADER', 'header typ is not a string'),
  typ: failure('JWT_TYP_MISMATCH', 'header typ is not the configured type'),
};

/** The checked header of `token`, whose header segment ends at `dot` (its first '.'). */
export function checkHeader(token: string, dot: number, policy: CompiledJwtPolicy): CheckedHeader | VerifyFailure {
  const hit = policy.headerCache.lookup(token, dot);
  if (hit !== undefined) return hit;
  const segment = token.slice(0, dot);
  if (!isStrictBase64url(segment)) return F.base64;
  const parsed = parseStrictJsonObject(decodeBase64url(segment));
  if (!parsed.ok) return parsed.reason === 'duplicate-key' ? F.dup : F.json;
  const h = parsed.value;

  const alg = h['alg'];
  if (typeof alg !== 'string') return F.algType;
  if (alg.toLowerCase() === 'none') return F.none;
  if (ALGORITHMS[alg] === undefined || !policy.algorithms.has(alg)) return F.alg;
  // RFC 7515 §4.1.11: a recipient must reject crit it does not understand; we process no
  // extension, and an empty or registered-name crit is itself invalid.
  if ('crit' in h) return F.crit;
  // RFC 7797 §3/§6: b64 is only meaningful listed in crit; JWTs never use unencoded payloads.
  if ('b64' in h) return F.b64;
  if ('enc' in h || 'zip' in h) return F.jwe;
  const cty = h['cty'];
  // RFC 7519 §5.2 and §7.2 step 8: cty "JWT" means a nested token; never unwrap (reference §6).
  if (typeof cty === 'string' && cty.toUpperCase() === 'JWT') return F.nested;
  const kid = h['kid'];
  if (kid !== undefined && typeof kid !== 'string') return F.kid;
  const typ = h['typ'];
  if (typ !== undefined && typeof typ !== 'string') return F.typType;
  if (policy.typ !== undefined && !typMatches(typ, policy.typ)) return F.typ;
  // jku, x5u, jwk, x5c and x5t are deliberately not read: keys come only from configuration.

  const checked: CheckedHeader = Object.freeze({ alg: alg as JwtAlgorithm, kid, header: deepFreeze(h) });
  policy.headerCache.add(segment, checked);
  return checked;
}

/** RFC 7515 §4.1.9: compare case-insensitively, with "application/" optional. */
function typMatches(typ: string | undefined, want: string): boolean {
  if (typ === undefined) return false;
  const t = typ.toLowerCase();
  return t === want || t === `application/${want}` || `application/${t}` === want;
}
