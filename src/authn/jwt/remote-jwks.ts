/** A JWKS fetched from jwksUri (or found by OpenID discovery), cached, refreshed with rate limits, never empty. */

import { discoverJwksUri, isHttpUrl } from './discovery.js';
import { JwksError } from './errors.js';
import { fetchJsonObject, type FetchJsonOptions } from './fetch-json.js';
import { compileJwks, type KeySet, type KeySource } from './key-set.js';

export interface RemoteJwksOptions {
  /** where the JWKS is; when absent, `issuer` is used for OpenID discovery */
  jwksUri?: string;
  issuer?: string;
  /** per fetch (default 5000 ms, jose's and Istio's newer default; reference §2) */
  timeoutMs?: number;
  /** a loaded set older than this is refreshed in the background (default 10 min, Envoy/jose; reference §11 rule 7) */
  cacheMaxAgeMs?: number;
  /** at most one fetch per this interval triggered by unknown kids (default 30 s; reference §6) */
  cooldownMs?: number;
  /** while no set was ever loaded, how often a request may trigger a new attempt (default 1 s, Envoy failed_refetch_duration) */
  retryWhenEmptyMs?: number;
  /** largest accepted document (default 512 KiB) */
  maxBytes?: number;
  /** ms since epoch; injectable for tests */
  clock?: () => number;
  fetch?: typeof fetch;
}

export interface RemoteJwksStatus {
  version: number | undefined;
  loadedAt: number | undefined;
  lastAttemptAt: number | undefined;
  lastError: { code: string; message: string } | undefined;
}

export class RemoteJwks implements KeySource {
  private readonly jwksUri: string | undefined;
  private readonly issuer: string | undefined;
  private readonly cacheMaxAgeMs: number;
  private readonly cooldownMs: number;
  private readonly retryWhenEmptyMs: number;
  private readonly clock: () => number;
  private readonly fetchOptions: FetchJsonOptions;
  private set: KeySet | undefined;
  private discovered: string | undefined;
  private loadedAt: number | undefined;
  private lastAttemptAt: number | undefined;
  private lastError: JwksError | undefined;
  private inFlight: Promise<boolean> | undefined;

  constructor(options: RemoteJwksOptions) {
    if (options.jwksUri !== undefined && !isHttpUrl(options.jwksUri)) throw new JwksError('JWT_POLICY_INVALID', 'jwksUri must be an http(s) URL');
    if (options.jwksUri === undefined && (typeof options.issuer !== 'string' || !isHttpUrl(options.issuer))) {
      throw new JwksError('JWT_POLICY_INVALID', 'without jwksUri, issuer must be an http(s) URL for OpenID discovery');
    }
    this.jwksUri = options.jwksUri;
    this.issuer = options.issuer;
    this.cacheMaxAgeMs = options.cacheMaxAgeMs ?? 10 * 60_000;
    this.cooldownMs = options.cooldownMs ?? 30_000;
    this.retryWhenEmptyMs = options.retryWhenEmptyMs ?? 1_000;
    this.clock = options.clock ?? Date.now;
    this.fetchOptions = { timeoutMs: options.timeoutMs ?? 5_000, maxBytes: options.maxBytes ?? 512 * 1024, fetch: options.fetch };
  }

  /** The last good key set (possibly stale while a background refresh runs); undefined: fail closed. */
  current(): KeySet | undefined {
    const set = this.set;
    if (set !== undefined && this.inFlight === undefined && this.clock() - (this.loadedAt as number) >= this.cacheMaxAgeMs) {
      // Stale: refresh in the background, keep serving the last good set meanwhile.
      this.startFetch().catch(() => undefined);
    }
    return set;
  }

  /**
   * Fetch now (single flight) and resolve to the current set; rejects with a JwksError when the
   * fetch fails or yields no usable key, and the last good set stays current.
   */
  async refresh(): Promise<KeySet> {
    await (this.inFlight ?? this.startFetch());
    return this.set as KeySet;
  }

  /** Rate-limited refresh after an unknown kid; true when a different key set is now current. */
  async refreshForUnknownKey(): Promise<boolean> {
    if (this.inFlight !== undefined) return this.inFlight.catch(() => false);
    const wait = this.set === undefined ? this.retryWhenEmptyMs : this.cooldownMs;
    if (this.lastAttemptAt !== undefined && this.clock() - this.lastAttemptAt < wait) return false;
    return this.startFetch().catch(() => false);
  }

  status(): RemoteJwksStatus {
    return {
      version: this.set?.version,
      loadedAt: this.loadedAt,
      lastAttemptAt: this.lastAttemptAt,
      lastError: this.lastError ? { code: this.lastError.code, message: this.lastError.message } : undefined,
    };
  }

  /** One fetch; resolves true if the usable keys changed. Failures keep the last good set. */
  private startFetch(): Promise<boolean> {
    this.lastAttemptAt = this.clock();
    const p = this.load().then(
      (next) => {
        this.lastError = undefined;
        this.loadedAt = this.clock();
        if (this.set !== undefined && this.set.fingerprint === next.fingerprint) return false;
        this.set = next;
        return true;
      },
      (e: unknown) => {
        this.lastError = e instanceof JwksError ? e : new JwksError('JWKS_FETCH_FAILED', String(e), { cause: e });
        // A discovered jwks_uri may have moved; discover again next time.
        this.discovered = undefined;
        throw this.lastError;
      },
    );
    this.inFlight = p;
    const clear = (): void => {
      if (this.inFlight === p) this.inFlight = undefined;
    };
    p.then(clear, clear);
    return p;
  }

  private async load(): Promise<KeySet> {
    let uri = this.jwksUri ?? this.discovered;
    if (uri === undefined) uri = this.discovered = await discoverJwksUri(this.issuer as string, this.fetchOptions);
    const doc = await fetchJsonObject(uri, 'JWKS', this.fetchOptions);
    // Fetched sets: never HMAC secrets; providers also publish encryption keys, so skip what is
    // not a verification key, but an empty result is an error (reference §11 rule 7).
    return compileJwks(doc, { allowSymmetric: false, invalidKeys: 'skip' });
  }
}
