/** The JWS algorithms we verify (RFC 7518 §3, RFC 8037 §3.1) and the key type each one is bound to. */

export type JwtAlgorithm =
  | 'RS256' | 'RS384' | 'RS512'
  | 'PS256' | 'PS384' | 'PS512'
  | 'ES256' | 'ES384' | 'ES512'
  | 'EdDSA' | 'Ed25519'
  | 'HS256' | 'HS384' | 'HS512';

export type KeyFamily = 'RSA' | 'EC' | 'OKP' | 'oct';

export interface AlgorithmSpec {
  readonly name: JwtAlgorithm;
  readonly kty: KeyFamily;
  /** node:crypto digest name; null for EdDSA (the hash is part of the scheme) */
  readonly hash: 'sha256' | 'sha384' | 'sha512' | null;
  /** EC: the only curve this alg may use (RFC 7518 §3.4); OKP: Ed25519 */
  readonly crv?: string;
  /** exact signature length in bytes where the alg fixes it (ES: r||s, RFC 7518 §3.4; EdDSA: 64) */
  readonly signatureBytes?: number;
  /** PS*: RSASSA-PSS with MGF1 of the same hash and salt length = hash length (RFC 7518 §3.5) */
  readonly pss?: boolean;
  /** HS*: a key of at least the hash output size (RFC 7518 §3.2) */
  readonly minSecretBytes?: number;
}

const table: AlgorithmSpec[] = [
  { name: 'RS256', kty: 'RSA', hash: 'sha256' },
  { name: 'RS384', kty: 'RSA', hash: 'sha384' },
  { name: 'RS512', kty: 'RSA', hash: 'sha512' },
  { name: 'PS256', kty: 'RSA', hash: 'sha256', pss: true },
  { name: 'PS384', kty: 'RSA', hash: 'sha384', pss: true },
  { name: 'PS512', kty: 'RSA', hash: 'sha512', pss: true },
  { name: 'ES256', kty: 'EC', hash: 'sha256', crv: 'P-256', signatureBytes: 64 },
  { name: 'ES384', kty: 'EC', hash: 'sha384', crv: 'P-384', signatureBytes: 96 },
  { name: 'ES512', kty: 'EC', hash: 'sha512', crv: 'P-521', signatureBytes: 132 },
  // 'EdDSA' (RFC 8037) and its fully specified successor name 'Ed25519' (RFC 9864); Ed448 is not offered.
  { name: 'EdDSA', kty: 'OKP', hash: null, crv: 'Ed25519', signatureBytes: 64 },
  { name: 'Ed25519', kty: 'OKP', hash: null, crv: 'Ed25519', signatureBytes: 64 },
  { name: 'HS256', kty: 'oct', hash: 'sha256', signatureBytes: 32, minSecretBytes: 32 },
  { name: 'HS384', kty: 'oct', hash: 'sha384', signatureBytes: 48, minSecretBytes: 48 },
  { name: 'HS512', kty: 'oct', hash: 'sha512', signatureBytes: 64, minSecretBytes: 64 },
];

/** Null-prototype map so header values like `__proto__` or `toString` never resolve to something. */
export const ALGORITHMS: Readonly<Record<string, AlgorithmSpec | undefined>> = Object.freeze(
  Object.assign(Object.create(null) as Record<string, AlgorithmSpec>, Object.fromEntries(table.map((a) => [a.name, a]))),
);

export const ALL_ALGORITHMS: readonly JwtAlgorithm[] = Object.freeze(table.map((a) => a.name));

/** Smallest RSA modulus we accept (RFC 7518 §3.3 requires 2048 bits). */
export const MIN_RSA_BITS = 2048;
/** Largest RSA modulus we accept: bigger keys only make verification a CPU-exhaustion lever. */
export const MAX_RSA_BITS = 8192;
