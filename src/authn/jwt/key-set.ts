/** A compiled, immutable set of verification keys with exact-kid and per-algorithm lookup. */

import type { JwtAlgorithm } from './algorithms.js';
import { JwksError, type KeyProblem } from './errors.js';
import { compileJwk } from './jwk.js';
import type { KeyEntry } from './key-entry.js';

export interface CompileJwksOptions {
  /** accept `kty: oct` HMAC secrets (default true for configured sets; RemoteJwks passes false) */
  allowSymmetric?: boolean;
  /**
   * 'strict' (default): any JWK that is not a valid verification key fails the whole set, so a
   * configuration mistake is loud. 'skip': such keys are left out and listed in `skipped` (for
   * fetched sets, where providers also publish encryption keys).
   */
  invalidKeys?: 'strict' | 'skip';
}

let nextVersion = 1;

/** Where a policy gets its keys: a fixed KeySet, or a RemoteJwks that swaps in fresh ones. */
export interface KeySource {
  /** The key set to verify with now; undefined when none was ever loaded (then every token fails). */
  current(): KeySet | undefined;
  /**
   * Present on sources that can fetch: called after a token named an unknown kid (or no set is
   * loaded). Rate-limited by the source; resolves true when a different key set is now current.
   */
  refreshForUnknownKey?(): Promise<boolean>;
}

export class KeySet implements KeySource {
  /** Changes whenever the usable keys change; verified-token cache entries are bound to it. */
  readonly version: number;
  readonly keys: readonly KeyEntry[];
  /** JWKs left out in 'skip' mode, with why (never key material) */
  readonly skipped: readonly KeyProblem[];
  /** equal for two sets with the same keys (thumbprints, kids, pinned algs) */
  readonly fingerprint: string;
  private readonly byKid = new Map<string, KeyEntry>();
  private readonly byAlg = new Map<JwtAlgorithm, KeyEntry[]>();

  constructor(keys: readonly KeyEntry[], skipped: readonly KeyProblem[] = []) {
    if (keys.length === 0) throw new JwksError('JWKS_EMPTY', 'the key set has no usable verification key');
    this.version = nextVersion++;
    this.keys = Object.freeze([...keys]);
    this.skipped = Object.freeze([...skipped]);
    this.fingerprint = keys.map((k) => `${k.kid ?? ''}|${k.alg ?? ''}|${k.thumbprint}`).join(',');
    for (const k of keys) {
      if (k.kid !== undefined) this.byKid.set(k.kid, k);
      for (const alg of k.verifiers.keys()) {
        let list = this.byAlg.get(alg);
        if (list === undefined) this.byAlg.set(alg, (list = []));
        list.push(k);
      }
    }
  }

  current(): KeySet {
    return this;
  }

  /** Exact, opaque kid lookup (reference §6: never a path, pattern or prefix). */
  byKeyId(kid: string): KeyEntry | undefined {
    return this.byKid.get(kid);
  }

  /** Keys able to verify `alg`, in set order. */
  forAlgorithm(alg: JwtAlgorithm): readonly KeyEntry[] {
    return this.byAlg.get(alg) ?? EMPTY;
  }

  /** Algorithms at least one key in the set may verify. */
  algorithms(): JwtAlgorithm[] {
    return [...this.byAlg.keys()];
  }
}

const EMPTY: readonly KeyEntry[] = Object.freeze([]);

/**
 * Compile a JWKS document (RFC 7517 §5) into a KeySet. Every member of `keys` is validated;
 * duplicate kids are refused because they would make the kid lookup ambiguous.
 */
export function compileJwks(jwks: unknown, options: CompileJwksOptions = {}): KeySet {
  const allowSymmetric = options.allowSymmetric ?? true;
  const mode = options.invalidKeys ?? 'strict';
  if (typeof jwks !== 'object' || jwks === null || Array.isArray(jwks)) {
    throw new JwksError('JWKS_INVALID', 'a JWKS must be a JSON object with a "keys" array');
  }
  const list = (jwks as Record<string, unknown>)['keys'];
  if (!Array.isArray(list)) throw new JwksError('JWKS_INVALID', 'a JWKS must be a JSON object with a "keys" array');
  if (list.length === 0) throw new JwksError('JWKS_EMPTY', 'the JWKS "keys" array is empty');

  const entries: KeyEntry[] = [];
  const problems: KeyProblem[] = [];
  const kids = new Set<string>();
  list.forEach((jwk, index) => {
    const r = compileJwk(jwk, { allowSymmetric });
    if (!r.ok) {
      problems.push({ index, message: r.message });
      return;
    }
    if (r.entry.kid !== undefined) {
      if (kids.has(r.entry.kid)) {
        problems.push({ index, message: 'duplicate kid' });
        return;
      }
      kids.add(r.entry.kid);
    }
    entries.push(r.entry);
  });
  if (mode === 'strict' && problems.length > 0) {
    const first = problems[0] as KeyProblem;
    throw new JwksError('JWK_INVALID', `keys[${first.index}]: ${first.message}`, { problems });
  }
  if (entries.length === 0) {
    throw new JwksError('JWKS_EMPTY', 'the JWKS has no usable verification key', { problems });
  }
  return new KeySet(entries, problems);
}
