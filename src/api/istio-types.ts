/**
 * Istio security resource shapes (security.istio.io/v1 and v1beta1, one schema: RequestAuthentication and
 * AuthorizationPolicy) as Tessera stores them after validation (security-rules.md §1, §2).
 */
import type { Resource } from './types.js';

/** Istio's WorkloadSelector: only `matchLabels` (no expressions). */
export interface WorkloadSelector {
  matchLabels?: Record<string, string>;
}

export interface JwtHeader {
  name: string;
  /** must match exactly when set, e.g. `Bearer ` */
  prefix?: string;
}

export interface ClaimToHeader {
  header: string;
  /** a claim name; `a.b` reads a nested claim */
  claim: string;
}

export interface JwtRule {
  issuer: string;
  audiences?: string[];
  /** inline JWKS as a JSON string; wins over jwksUri (§2) */
  jwks?: string;
  jwksUri?: string;
  fromHeaders?: JwtHeader[];
  fromParams?: string[];
  outputPayloadToHeader?: string;
  forwardOriginalToken?: boolean;
  outputClaimToHeaders?: ClaimToHeader[];
  /** JWKS fetch timeout, a Go duration (default 5s) */
  timeout?: string;
  /**
   * Tessera extension (Envoy's clock_skew_seconds; istio/api#3710 proposes it): the exp/nbf/iat
   * tolerance, a Go duration of whole seconds up to 10m (default 60s). Short-lived re-issued tokens
   * need a small one, or a 5 s token lives 65 s.
   */
  clockSkew?: string;
  /**
   * Istio 1.28+: claims whose string value is a space-separated list for `request.auth.claims[...]`
   * (besides `scope` and `permission`, always split); nested claims as `a.b`
   */
  spaceDelimitedClaims?: string[];
  /**
   * Tessera extension: top-level claims a token must carry, e.g. `exp` (Istio and Envoy accept a
   * token without `exp`, which never expires); a token without one is refused with 401
   */
  requiredClaims?: string[];
  /** Tessera extension: the largest token accepted, in bytes (default 8192, at most 65536) */
  maxTokenBytes?: number;
}

export interface RequestAuthenticationSpec {
  selector?: WorkloadSelector;
  jwtRules?: JwtRule[];
}
export type RequestAuthentication = Resource<RequestAuthenticationSpec>;

export const AUTHZ_ACTIONS = ['ALLOW', 'DENY', 'AUDIT', 'CUSTOM'] as const;
export type AuthzAction = (typeof AUTHZ_ACTIONS)[number];

export interface AuthzSource {
  principals?: string[];
  notPrincipals?: string[];
  requestPrincipals?: string[];
  notRequestPrincipals?: string[];
  namespaces?: string[];
  notNamespaces?: string[];
  ipBlocks?: string[];
  notIpBlocks?: string[];
  remoteIpBlocks?: string[];
  notRemoteIpBlocks?: string[];
}

export interface AuthzOperation {
  hosts?: string[];
  notHosts?: string[];
  ports?: string[];
  notPorts?: string[];
  methods?: string[];
  notMethods?: string[];
  paths?: string[];
  notPaths?: string[];
}

export interface AuthzCondition {
  key: string;
  values?: string[];
  notValues?: string[];
}

export interface AuthzRule {
  from?: { source: AuthzSource }[];
  to?: { operation: AuthzOperation }[];
  when?: AuthzCondition[];
}

export interface AuthorizationPolicySpec {
  selector?: WorkloadSelector;
  /** default ALLOW */
  action?: AuthzAction;
  /** CUSTOM only: the extension provider */
  provider?: { name: string };
  /** absent: the policy never matches (§1 "rules") */
  rules?: AuthzRule[];
}
export type AuthorizationPolicy = Resource<AuthorizationPolicySpec>;
