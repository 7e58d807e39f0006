/** Stable failure codes for token verification and key-set handling; messages never carry token bytes. */

/**
 * Why a token was rejected. Stable: the sidecar logs them and tests match on them.
 * Messages are fixed strings chosen by the verifier, never built from token content, because a
 * token (or its kid/iss/alg) may be a credential or an injection payload (reference §6, kid row).
 */
export type JwtFailureCode =
  | 'JWT_TOO_LARGE'
  | 'JWT_MALFORMED'
  | 'JWT_BAD_BASE64'
  | 'JWT_BAD_JSON'
  | 'JWT_DUPLICATE_KEY'
  | 'JWT_BAD_HEADER'
  | 'JWT_ALG_NOT_ALLOWED'
  | 'JWT_CRIT_UNSUPPORTED'
  | 'JWT_B64_UNSUPPORTED'
  | 'JWT_NESTED_UNSUPPORTED'
  | 'JWT_TYP_MISMATCH'
  | 'JWT_KEY_NOT_FOUND'
  | 'JWT_KEYS_UNAVAILABLE'
  | 'JWT_BAD_SIGNATURE'
  | 'JWT_ISSUER_MISMATCH'
  | 'JWT_AUDIENCE_MISMATCH'
  | 'JWT_CLAIM_INVALID'
  | 'JWT_MISSING_EXP'
  | 'JWT_MISSING_CLAIM'
  | 'JWT_EXPIRED'
  | 'JWT_NOT_YET_VALID'
  | 'JWT_ISSUED_IN_FUTURE';

export interface VerifyFailure {
  readonly ok: false;
  readonly code: JwtFailureCode;
  /** Why, in words fixed by the verifier; safe to log. */
  readonly message: string;
}

/** Failures are immutable singletons per (code, message): the reject path allocates nothing. */
const failures = new Map<string, VerifyFailure>();
export function failure(code: JwtFailureCode, message: string): VerifyFailure {
  const id = code + '\0' + message;
  let f = failures.get(id);
  if (f === undefined) {
    f = Object.freeze({ ok: false as const, code, message });
    failures.set(id, f);
  }
  return f;
}

/** Configuration and key-set errors (thrown at compile/fetch time, never on the request path). */
export type JwksErrorCode =
  | 'JWK_INVALID'
  | 'JWKS_INVALID'
  | 'JWKS_EMPTY'
  | 'JWKS_FETCH_FAILED'
  | 'JWKS_TIMEOUT'
  | 'JWKS_DISCOVERY_FAILED'
  | 'JWT_POLICY_INVALID';

export interface KeyProblem {
  /** index of the JWK in `keys` */
  index: number;
  message: string;
}

export class JwksError extends Error {
  readonly code: JwksErrorCode;
  readonly problems: readonly KeyProblem[];
  constructor(code: JwksErrorCode, message: string, options: { cause?: unknown; problems?: KeyProblem[] } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'JwksError';
    this.code = code;
    this.problems = options.problems ?? [];
  }
}
