/**
 * The token service's signing keys. Three generations are published at once: the next key (so
 * verifiers that refresh early already hold it), the current one (signing), and retired ones
 * until every token they signed has expired (lifetime plus the verifiers' 60 s clock skew).
 */
import { generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

export type StsAlgorithm = 'RS256' | 'ES256';

interface Key {
  kid: string;
  privateKey: KeyObject;
  publicJwk: Record<string, unknown>;
  /** ms; a retired key is dropped from the JWKS after this */
  retireAfter?: number;
}

export interface KeyRingOptions {
  alg: StsAlgorithm;
  /** how often the signing key changes */
  rotateEveryMs: number;
  /** longest lifetime of a token this service issues */
  maxTokenLifetimeMs: number;
  /** verifiers' tolerance on exp (Envoy's and Istio's 60 s) */
  verifierSkewMs?: number;
  clock?: () => number;
}

export class KeyRing {
  private current: Key;
  private next: Key;
  private retired: Key[] = [];
  private rotatedAt: number;
  private readonly clock: () => number;

  constructor(private readonly opts: KeyRingOptions) {
    this.clock = opts.clock ?? Date.now;
    this.current = this.generate();
    this.next = this.generate();
    this.rotatedAt = this.clock();
  }

  get alg(): StsAlgorithm {
    return this.opts.alg;
  }

  private generate(): Key {
    const pair =
      this.opts.alg === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const kid = randomBytes(9).toString('base64url');
    const publicJwk = { ...(pair.publicKey.export({ format: 'jwk' }) as Record<string, unknown>), kid, alg: this.opts.alg, use: 'sig' };
    return { kid, privateKey: pair.privateKey, publicJwk };
  }

  /** Rotates when due; called before signing and before publishing, so no timer is needed. */
  tick(): void {
    const now = this.clock();
    if (now - this.rotatedAt >= this.opts.rotateEveryMs) this.rotate();
    this.retired = this.retired.filter((k) => (k.retireAfter as number) > now);
  }

  /** Current becomes retired (kept while its tokens can still be valid), next becomes current. */
  rotate(): void {
    const now = this.clock();
    this.retired.push({ ...this.current, retireAfter: now + this.opts.maxTokenLifetimeMs + (this.opts.verifierSkewMs ?? 60_000) });
    this.current = this.next;
    this.next = this.generate();
    this.rotatedAt = now;
  }

  get signingKid(): string {
    this.tick();
    return this.current.kid;
  }

  jwks(): { keys: Record<string, unknown>[] } {
    this.tick();
    return { keys: [this.current, this.next, ...this.retired].map((k) => k.publicJwk) };
  }

  sign(claims: Record<string, unknown>): string {
    this.tick();
    const k = this.current;
    const b64 = (v: object): string => Buffer.from(JSON.stringify(v)).toString('base64url');
    const input = `${b64({ alg: this.opts.alg, typ: 'JWT', kid: k.kid })}.${b64(claims)}`;
    const sig = sign('sha256', Buffer.from(input), this.opts.alg === 'ES256' ? { key: k.privateKey, dsaEncoding: 'ieee-p1363' } : k.privateKey);
    return `${input}.${sig.toString('base64url')}`;
  }
}
