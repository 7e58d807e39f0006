/** One usable verification key: its identity, the algorithms it may verify, and a verifier prepared once. */

import type { JwtAlgorithm, KeyFamily } from './algorithms.js';

/**
 * Checks the signature of a compact JWS in place: `token` up to `dot` (the last '.') is the signing
 * input, already checked to be ASCII; after it comes the signature segment, which the check itself
 * validates (length, strict base64url). Never throws.
 */
export type SignatureCheck = (token: string, dot: number) => boolean;

export interface KeyEntry {
  /** JWK `kid`; undefined when the JWK has none */
  readonly kid: string | undefined;
  readonly kty: KeyFamily;
  /** JWK `alg` when given: then it is the only algorithm this key verifies (reference §6, alg pin row) */
  readonly alg: JwtAlgorithm | undefined;
  readonly use: string | undefined;
  /** RSA modulus bits, EC/OKP curve bits, or HMAC secret bits */
  readonly bits: number;
  /** RFC 7638 thumbprint, so identical key sets compare equal */
  readonly thumbprint: string;
  /** per algorithm this key may verify, the check prepared at compile time */
  readonly verifiers: ReadonlyMap<JwtAlgorithm, SignatureCheck>;
}
