/**
 * Sidecars on a Kubernetes cluster prove who they are with a ServiceAccount token the kubelet
 * projected into their pod (audience `<mesh>-controller`, bound to the pod; injected by
 * injector/sidecar-spec.ts), as Istio's sidecars do with istiod. The controller asks the API server
 * (TokenReview, `authentication.k8s.io/v1`, `spec.audiences: [<mesh>-controller]`) whether the token
 * authenticates, and accepts it for proxy `uuid` only when:
 *
 *  * the review says authenticated, for the audience, as `system:serviceaccount:<ns>:<sa>`;
 *  * the token is bound to a pod: `extra` carries `authentication.kubernetes.io/pod-name` and
 *    `…/pod-uid` (a legacy Secret token or an unbound TokenRequest token carries neither: refused);
 *  * the pod that carries proxy `uuid` (its `fsm-proxy-uuid` label, in the controller's view) is that
 *    pod: same namespace, name and UID, and its ServiceAccount is the token's.
 *
 * The identity the controller then issues certificates for is the token's ServiceAccount (`sa.ns`).
 * A TokenReview that succeeded is reused for the same token (by its SHA-256) until the token expires
 * or 60 s have passed, whichever is first; a refusal for 10 s; errors are not cached. Any error
 * (API server unreachable, RBAC, a malformed answer) refuses the call: fail closed. The token itself
 * is never logged or put in an error message.
 */
import { createHash } from 'node:crypto';
import type { Pod } from '../api/types.js';
import { POD_NAME_EXTRA, POD_UID_EXTRA } from '../sidecar/config/cluster-bootstrap.js';

export const TOKEN_REVIEW_PATH = '/apis/authentication.k8s.io/v1/tokenreviews';
/** A successful review is reused at most this long (and never past the token's `exp`). */
export const REVIEW_CACHE_MS = 60_000;
/** A refused token is refused again without asking for this long. */
export const REFUSAL_CACHE_MS = 10_000;
const MAX_CACHED = 10_000;
const REVIEW_TIMEOUT_MS = 5_000;

/** What the controller needs of its API client (KubeMeshApi.request). */
export interface ReviewApi {
  request<T = unknown>(method: string, path: string, o?: { body?: unknown; timeoutMs?: number; label?: string }): Promise<T>;
}

/** A token the API server vouched for: the ServiceAccount and the pod it is bound to. */
export interface ReviewedToken {
  authenticated: true;
  namespace: string;
  serviceAccount: string;
  podName: string;
  podUid: string;
  /** ms since the epoch, from the token's `exp` (the API server checked it); undefined when it has none */
  expiresAt?: number;
}

export type Review = ReviewedToken | { authenticated: false; reason: string };

/** The API server could not be asked (or answered nonsense): the caller refuses with 503. */
export class TokenReviewUnavailable extends Error {
  override name = 'TokenReviewUnavailable';
}

interface TokenReviewStatus {
  authenticated?: boolean;
  user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
  audiences?: string[];
  error?: string;
}

/**
 * A ServiceAccount token is a JWT: three base64url segments, the first a JSON header naming its
 * `alg`. A proxy token (`iat.exp.mac`, digits and hex) is not one, so it never goes to a TokenReview.
 */
export function looksLikeJwt(token: string): boolean {
  if (token.length > 16_384 || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token)) return false;
  try {
    const header = JSON.parse(Buffer.from(token.slice(0, token.indexOf('.')), 'base64url').toString('utf8')) as { alg?: unknown };
    return typeof header === 'object' && header !== null && typeof header.alg === 'string';
  } catch {
    return false;
  }
}

/** The `exp` claim (ms), read without verifying: only after the API server authenticated the token. */
function expiryOf(token: string): number | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof payload.exp === 'number' && Number.isFinite(payload.exp) ? payload.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

const SA_USER = /^system:serviceaccount:([^:]+):([^:]+)$/;

/** The review's answer as a Review; throws TokenReviewUnavailable when it is not a TokenReview answer. */
export function interpretReview(status: TokenReviewStatus | undefined, audience: string, token: string): Review {
  if (!status || typeof status !== 'object') throw new TokenReviewUnavailable('the API server\'s TokenReview answer has no status');
  if (status.authenticated !== true) {
    // status.error is the API server's reason; it never contains the token
    return { authenticated: false, reason: `the API server does not authenticate the token${status.error ? ` (${status.error})` : ''}` };
  }
  if (!(status.audiences ?? []).includes(audience)) return { authenticated: false, reason: `the token is not for the audience ${audience}` };
  const m = SA_USER.exec(status.user?.username ?? '');
  if (!m) return { authenticated: false, reason: `the token is not a ServiceAccount's (user ${JSON.stringify(status.user?.username ?? '')})` };
  const podName = status.user?.extra?.[POD_NAME_EXTRA]?.[0];
  const podUid = status.user?.extra?.[POD_UID_EXTRA]?.[0];
  if (!podName || !podUid) return { authenticated: false, reason: 'the token is not bound to a pod (no pod-name/pod-uid in the review): use the projected token the injector mounts' };
  const expiresAt = expiryOf(token);
  return { authenticated: true, namespace: m[1]!, serviceAccount: m[2]!, podName, podUid, ...(expiresAt !== undefined ? { expiresAt } : {}) };
}

export class ServiceAccountTokenReviewer {
  private readonly cache = new Map<string, { review: Review; until: number }>();
  private readonly now: () => number;

  constructor(private readonly opts: { api: ReviewApi; audience: string; now?: () => number }) {
    this.now = opts.now ?? Date.now;
  }

  get audience(): string {
    return this.opts.audience;
  }

  /** Whether the API server authenticates `token` for the controller's audience, and as which pod. */
  async review(token: string): Promise<Review> {
    const key = createHash('sha256').update(token).digest('hex');
    const now = this.now();
    const hit = this.cache.get(key);
    if (hit && hit.until > now) return hit.review;
    if (hit) this.cache.delete(key);
    let answer: { status?: TokenReviewStatus } | undefined;
    try {
      answer = await this.opts.api.request<{ status?: TokenReviewStatus }>('POST', TOKEN_REVIEW_PATH, {
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences: [this.opts.audience] } },
        timeoutMs: REVIEW_TIMEOUT_MS,
        label: 'TokenReview',
      });
    } catch (e) {
      throw new TokenReviewUnavailable(`cannot review the ServiceAccount token with the API server (POST ${TOKEN_REVIEW_PATH}): ${(e as Error).message}`);
    }
    const review = interpretReview(answer?.status, this.opts.audience, token);
    const until = review.authenticated
      ? Math.min(review.expiresAt ?? Infinity, now + REVIEW_CACHE_MS)
      : now + REFUSAL_CACHE_MS;
    if (until > now) {
      if (this.cache.size >= MAX_CACHED) {
        for (const [k, v] of this.cache) if (v.until <= now) this.cache.delete(k);
        if (this.cache.size >= MAX_CACHED) this.cache.clear();
      }
      this.cache.set(key, { review, until });
    }
    return review;
  }
}

/**
 * Whether the reviewed token may speak for the proxy whose pod is `pod`: the error (for a 403)
 * naming what differs, or undefined. The token's pod must be the proxy's pod, by UID.
 */
export function tokenPodMismatch(review: ReviewedToken, uuid: string, pod: Pod): string | undefined {
  const ns = pod.metadata.namespace ?? 'default';
  const sa = pod.spec?.serviceAccountName || 'default';
  const tokenPod = `${review.namespace}/${review.podName}`;
  if (pod.metadata.uid !== review.podUid || ns !== review.namespace || pod.metadata.name !== review.podName) {
    return `the ServiceAccount token is bound to pod ${tokenPod} (uid ${review.podUid}), not to pod ${ns}/${pod.metadata.name}${pod.metadata.uid ? ` (uid ${pod.metadata.uid})` : ''}, which carries proxy ${uuid}`;
  }
  if (sa !== review.serviceAccount) {
    return `the ServiceAccount token is for ${review.namespace}/${review.serviceAccount}, but pod ${tokenPod} runs as ServiceAccount ${sa}`;
  }
  return undefined;
}
