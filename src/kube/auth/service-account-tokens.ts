/**
 * ServiceAccount tokens as kube-apiserver issues and checks them: ES256 JWTs signed with the
 * cluster's service-account key, issuer `https://kubernetes.default.svc.cluster.local`, the claims
 * Kubernetes writes (`kubernetes.io: {namespace, serviceaccount: {name, uid}, pod: {name, uid}}`,
 * `sub: system:serviceaccount:NS:NAME`), verified with the strict JWT verifier (src/authn/jwt), and
 * refused once the ServiceAccount or the bound Pod is gone or was replaced (uid changed). The key's
 * public half is published at `/openid/v1/jwks` with `/.well-known/openid-configuration`.
 */
import { createHash, createPublicKey, randomUUID, sign, type KeyObject } from 'node:crypto';
import type { Resource } from '../../api/types.js';
import { compileJwks, compileJwtPolicy, verifyJwt, type CompiledJwtPolicy } from '../../authn/index.js';
import type { KubeStorage } from '../apiserver/backend.js';
import type { AuthUser } from './types.js';

/** The Secret type the token controller fills with a ServiceAccount's token. */
export const LEGACY_TOKEN_SECRET_TYPE = 'kubernetes.io/service-account-token';
export const DEFAULT_SA_ISSUER = 'https://kubernetes.default.svc.cluster.local';
/** TokenRequest's default lifetime, and the shortest kube-apiserver accepts. */
export const DEFAULT_TOKEN_SECONDS = 3600;
export const MIN_TOKEN_SECONDS = 600;
/** kube-apiserver's ceiling without --service-account-max-token-expiration: 2^32 s; we keep a day-scale bound. */
export const MAX_TOKEN_SECONDS = 2 ** 32;

export interface IssueRequest {
  namespace: string;
  serviceAccount: Resource;
  audiences: string[];
  expirationSeconds: number;
  boundPod?: Resource;
  /**
   * A legacy token Secret (`kubernetes.io/service-account-token`) the token is written into: it
   * authenticates only while that Secret exists, unreplaced, and still holds this very token, as
   * kube-apiserver checks a Secret-based token.
   */
  boundSecret?: Resource;
}

interface KubernetesClaim {
  namespace?: string;
  serviceaccount?: { name?: string; uid?: string };
  pod?: { name?: string; uid?: string };
  secret?: { name?: string; uid?: string };
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

export class ServiceAccountTokens {
  readonly issuer: string;
  /** what the API server accepts as `aud` (kube-apiserver's --api-audiences, defaulting to the issuer) */
  readonly apiAudiences: string[];
  readonly keyId: string;
  private readonly publicJwk: Record<string, string>;
  private readonly policy: CompiledJwtPolicy;
  /** policies for other audiences (TokenReview with `spec.audiences`), by audience list */
  private readonly audiencePolicies = new Map<string, CompiledJwtPolicy>();
  private readonly now: () => number;

  constructor(private readonly privateKey: KeyObject, private readonly storage: Pick<KubeStorage, 'get'>, opts: { issuer?: string; apiAudiences?: string[]; now?: () => number } = {}) {
    this.issuer = opts.issuer ?? DEFAULT_SA_ISSUER;
    this.apiAudiences = opts.apiAudiences ?? [this.issuer];
    this.now = opts.now ?? Date.now;
    const pub = createPublicKey(privateKey);
    // kube-apiserver's key id: the base64url SHA-256 of the public key's DER (keyIDFromPublicKey).
    this.keyId = b64url(createHash('sha256').update(pub.export({ type: 'spki', format: 'der' })).digest());
    const jwk = pub.export({ format: 'jwk' }) as Record<string, string>;
    if (jwk['kty'] !== 'EC' || jwk['crv'] !== 'P-256') throw new Error('the service-account key must be an EC P-256 key');
    this.publicJwk = { use: 'sig', kty: 'EC', kid: this.keyId, crv: 'P-256', alg: 'ES256', x: jwk['x']!, y: jwk['y']! };
    this.policy = compileJwtPolicy({
      issuer: this.issuer, audiences: this.apiAudiences, keys: compileJwks({ keys: [this.publicJwk] }),
      algorithms: ['ES256'], requireExpiration: true, cache: false,
    });
  }

  /** Signs a token for `req` (the caller checked the objects exist); returns it with its expiry. */
  issue(req: IssueRequest): { token: string; expirationTimestamp: string } {
    const nowSec = Math.floor(this.now() / 1000);
    const exp = nowSec + req.expirationSeconds;
    const sa = req.serviceAccount.metadata;
    const k8s: Record<string, unknown> = { namespace: req.namespace };
    if (req.boundPod) k8s['pod'] = { name: req.boundPod.metadata.name, uid: req.boundPod.metadata.uid };
    if (req.boundSecret) k8s['secret'] = { name: req.boundSecret.metadata.name, uid: req.boundSecret.metadata.uid };
    k8s['serviceaccount'] = { name: sa.name, uid: sa.uid };
    const claims = {
      aud: req.audiences, exp, iat: nowSec, iss: this.issuer, jti: randomUUID(),
      'kubernetes.io': k8s, nbf: nowSec, sub: `system:serviceaccount:${req.namespace}:${sa.name}`,
    };
    const signingInput = `${b64url(JSON.stringify({ alg: 'ES256', kid: this.keyId }))}.${b64url(JSON.stringify(claims))}`;
    const sig = sign('sha256', Buffer.from(signingInput), { key: this.privateKey, dsaEncoding: 'ieee-p1363' });
    return { token: `${signingInput}.${b64url(sig)}`, expirationTimestamp: new Date(exp * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') };
  }

  /**
   * The user a token names, or undefined: a bad signature, issuer, audience or expiry, or a
   * ServiceAccount or bound Pod that is gone, replaced, or being deleted.
   */
  authenticate(token: string, audiences?: string[]): AuthUser | undefined {
    const r = verifyJwt(token, audiences === undefined ? this.policy : this.policyFor(audiences), this.now());
    if (!r.ok) return undefined;
    const c = r.claims;
    const k8s = c['kubernetes.io'] as KubernetesClaim | undefined;
    const ns = k8s?.namespace;
    const saName = k8s?.serviceaccount?.name;
    const saUid = k8s?.serviceaccount?.uid;
    if (typeof ns !== 'string' || typeof saName !== 'string' || typeof saUid !== 'string') return undefined;
    if (c.sub !== `system:serviceaccount:${ns}:${saName}`) return undefined;
    const sa = this.storage.get({ group: '', kind: 'ServiceAccount', namespace: ns, name: saName });
    if (!sa || sa.metadata.uid !== saUid || sa.metadata.deletionTimestamp) return undefined;
    const extra: Record<string, string[]> = {};
    if (k8s?.pod !== undefined) {
      const { name, uid } = k8s.pod;
      if (typeof name !== 'string' || typeof uid !== 'string') return undefined;
      const pod = this.storage.get({ group: '', kind: 'Pod', namespace: ns, name });
      if (!pod || pod.metadata.uid !== uid || pod.metadata.deletionTimestamp) return undefined;
      extra['authentication.kubernetes.io/pod-name'] = [name];
      extra['authentication.kubernetes.io/pod-uid'] = [uid];
    }
    if (k8s?.secret !== undefined) {
      const { name, uid } = k8s.secret;
      if (typeof name !== 'string' || typeof uid !== 'string') return undefined;
      const secret = this.storage.get({ group: '', kind: 'Secret', namespace: ns, name }) as (Resource & { type?: string; data?: Record<string, string> }) | undefined;
      if (!secret || secret.metadata.uid !== uid || secret.metadata.deletionTimestamp || secret.type !== LEGACY_TOKEN_SECRET_TYPE) return undefined;
      if (Buffer.from(secret.data?.['token'] ?? '', 'base64').toString('utf8') !== token) return undefined;
    }
    if (typeof c['jti'] === 'string') extra['authentication.kubernetes.io/credential-id'] = [`JTI=${c['jti']}`];
    return { username: c.sub, uid: saUid, groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'], extra };
  }

  /** The verifier for tokens meant for `audiences` (any of them) instead of the API's. */
  private policyFor(audiences: string[]): CompiledJwtPolicy {
    const key = JSON.stringify([...audiences].sort());
    let policy = this.audiencePolicies.get(key);
    if (!policy) {
      policy = compileJwtPolicy({
        issuer: this.issuer, audiences, keys: compileJwks({ keys: [this.publicJwk] }), algorithms: ['ES256'], requireExpiration: true, cache: false,
      });
      if (this.audiencePolicies.size > 100) this.audiencePolicies.clear();
      this.audiencePolicies.set(key, policy);
    }
    return policy;
  }

  /** `/.well-known/openid-configuration` of the service-account issuer. */
  discovery(jwksUri: string): object {
    return {
      issuer: this.issuer, jwks_uri: jwksUri, response_types_supported: ['id_token'],
      subject_types_supported: ['public'], id_token_signing_alg_values_supported: ['ES256'],
    };
  }

  /** `/openid/v1/jwks`. */
  jwks(): { keys: Record<string, string>[] } {
    return { keys: [{ ...this.publicJwk }] };
  }
}
