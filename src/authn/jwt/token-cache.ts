/** Bounded LRU of verified tokens, keyed by the exact token string, bound to the token's lifetime and key-set version. */

export interface CachedVerdict<T> {
  readonly value: T;
  /** ms since epoch from which the token is acceptable (nbf/iat minus skew), for clocks that move back */
  readonly validFrom: number;
  /** ms since epoch at which the token stops being acceptable (exp plus skew, or the TTL cap) */
  readonly validUntil: number;
  readonly keySetVersion: number;
}

export class VerifiedTokenCache<T> {
  private readonly entries = new Map<string, CachedVerdict<T>>();
  readonly maxEntries: number;

  constructor(maxEntries = 10_000) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be a positive integer');
    this.maxEntries = maxEntries;
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * The verdict for `token` if it is still valid at `now` under `keySetVersion`; stale entries are
   * dropped on sight. Only the exact string hits: strict base64url makes that string canonical.
   */
  get(token: string, now: number, keySetVersion: number): T | undefined {
    const e = this.entries.get(token);
    if (e === undefined) return undefined;
    if (now >= e.validUntil || now < e.validFrom || e.keySetVersion !== keySetVersion) {
      this.entries.delete(token);
      return undefined;
    }
    // Refresh recency: Map iteration order is insertion order, so the first key is the LRU one.
    this.entries.delete(token);
    this.entries.set(token, e);
    return e.value;
  }

  set(token: string, verdict: CachedVerdict<T>): void {
    if (verdict.validUntil <= verdict.validFrom) return;
    this.entries.delete(token);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(token, verdict);
  }

  clear(): void {
    this.entries.clear();
  }
}
