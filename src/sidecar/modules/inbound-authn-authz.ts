/**
 * Istio RequestAuthentication then AuthorizationPolicy on inbound HTTP, run by the inbound routing
 * module right after routing (not a Chains entry, so config_dump keeps FSM's module lists).
 * Built once per snapshot. Invalid token: 401; denied: 403 `RBAC: access denied` (security-rules.md §1, §2).
 * CUSTOM policies ask their external authorizer first; its refusal, a timeout or an error is a 403.
 */
import { compilePolicies, customChecks, evaluate, evaluateShadow, groupPolicies, plainIp, type Decision, type RequestFacts } from '../../authz/index.js';
import { istioPrincipal, parseServiceIdentity, identityParts } from '../../identity/service-identity.js';
import { authenticate } from '../authn/authenticate.js';
import { askExtAuthz } from '../authn/ext-authz.js';
import { compileAuthn } from '../authn/jwt-rules.js';
import type { HttpContext, Next } from '../chain/types.js';
import { denialResponse, reasonLine, type DenialFacts } from './denial-response.js';
import type { ModuleEnv } from './env.js';

export type AuthStep = (ctx: HttpContext, next: Next) => Promise<void>;

const pass: AuthStep = (_ctx, next) => next();

/**
 * Istio's principal and namespace from the verified `sa.ns` identity; none for plaintext peers (§9).
 * Shared with the inbound TCP authorization step, so both protocols read identity the same way.
 */
export function peerOf(identity: string | undefined): Peer {
  if (!identity) return NO_PEER;
  // a connection's identity is the same for each of its requests: parse it once, not per request
  if (identity === last.identity) return last.peer;
  let peer: Peer;
  try {
    const id = parseServiceIdentity(identity);
    peer = Object.freeze({ principal: istioPrincipal(id), namespace: identityParts(id).namespace });
  } catch {
    peer = NO_PEER;
  }
  last = { identity, peer };
  return peer;
}

type Peer = Readonly<{ principal?: string; namespace?: string }>;
const NO_PEER: Peer = Object.freeze({});
let last: { identity: string | undefined; peer: Peer } = { identity: undefined, peer: NO_PEER };

function pathOnly(target: string): string {
  const q = target.search(/[?#]/);
  return q < 0 ? target : target.slice(0, q);
}

/** What a request looks like to the policies: shared with `tessera policy check`, so both see the same facts. */
export interface RequestView {
  method: string;
  /** the request target, query included (removed here) */
  path: string;
  authority: string;
  headers: RequestFacts['headers'];
  localPort: number;
  localAddress: string;
  sourceAddress: string;
  /** the verified mTLS peer identity `sa.ns`, if any */
  sourceIdentity?: string | undefined;
  sni?: string | undefined;
}

export function requestFacts(v: RequestView, authn: { principal?: string | undefined; claims?: RequestFacts['claims']; spaceDelimitedClaims?: RequestFacts['spaceDelimitedClaims'] }): RequestFacts {
  const peer = peerOf(v.sourceIdentity);
  return {
    method: v.method,
    path: pathOnly(v.path),
    host: v.authority,
    port: v.localPort,
    sourceIp: plainIp(v.sourceAddress),
    destinationIp: plainIp(v.localAddress),
    ...(peer.principal !== undefined ? { sourcePrincipal: peer.principal, sourceNamespace: peer.namespace } : {}),
    ...(authn.principal !== undefined ? { requestPrincipal: authn.principal, claims: authn.claims, spaceDelimitedClaims: authn.spaceDelimitedClaims } : {}),
    headers: v.headers,
    sni: v.sni,
  };
}

/** The caller as a denial names it: the mTLS principal, else the verified token's `iss/sub`. */
const principalOfFacts = (f: RequestFacts): string | undefined => f.sourcePrincipal ?? f.requestPrincipal;

/** The facts a denial carries, from an authorization decision. */
export function denialFactsOf(d: Decision, facts: RequestFacts): DenialFacts {
  // "no ALLOW policy matched" is explained by the ALLOW rule that came closest and the condition it failed
  return {
    reason: `authorization: ${d.reason}`,
    policy: d.policy ?? d.closest?.policy,
    rule: d.rule ?? d.closest?.rule,
    principal: principalOfFacts(facts),
    condition: d.closest?.condition,
  };
}

export function inboundAuthnAuthz(env: ModuleEnv): AuthStep {
  const inbound = env.snapshot.Inbound;
  const jwtRules = Array.isArray(inbound.Authn?.JwtRules) ? inbound.Authn.JwtRules : [];
  const policies = Array.isArray(inbound.Authz?.Policies) ? inbound.Authz.Policies : [];
  if (jwtRules.length === 0 && policies.length === 0) return pass;
  const authn = jwtRules.length > 0 ? compileAuthn(jwtRules, { tables: env.tables, upstream: env.upstream, mtls: env.mtls }) : undefined;
  for (const r of authn?.rules ?? []) if (r.setupError) env.log.warn('RequestAuthentication rule cannot verify tokens (failing closed)', { policy: r.policy, issuer: r.issuer, error: r.setupError });
  const compiled = compilePolicies(policies, 'http', { caseInsensitivePaths: env.snapshot.Spec.PathNormalization?.LowerCase === true });
  for (const p of compiled) for (const problem of p.problems) env.log.warn('AuthorizationPolicy rule cannot be evaluated (failing closed)', { policy: p.name, problem });
  const authz = groupPolicies(compiled);

  return async function inboundAuthnAuthz(ctx, next) {
    let principal: string | undefined;
    let claims: RequestFacts['claims'];
    let spaceDelimitedClaims: RequestFacts['spaceDelimitedClaims'];
    if (authn) {
      const r = await authenticate(authn, ctx.request, Date.now());
      if (!r.ok) {
        env.log.warn('request authentication failed', { reason: r.reason, method: ctx.request.method, authority: ctx.request.authority, source: ctx.source.address });
        const why: DenialFacts = { reason: `authentication: ${r.reason}` };
        env.metrics.recordPolicyDecision('', 'REQUEST_AUTHENTICATION', 'denied');
        return deny(ctx, next, denialResponse(401, 'Jwt verification fails', why, ctx.request.headers, { 'www-authenticate': 'Bearer realm="tessera", error="invalid_token"' }), why);
      }
      principal = r.principal;
      claims = r.claims;
      spaceDelimitedClaims = r.spaceDelimitedClaims;
    }
    const facts = requestFacts(
      { method: ctx.request.method, path: ctx.request.path, authority: ctx.request.authority, headers: ctx.request.headers, localPort: ctx.local.port, localAddress: ctx.local.address, sourceAddress: ctx.source.address, sourceIdentity: ctx.source.identity, sni: ctx.source.sni },
      { principal, claims, spaceDelimitedClaims },
    );
    const custom = customChecks(authz, facts);
    if (!Array.isArray(custom)) {
      env.log.warn('request denied by CUSTOM authorization policy', { policy: custom.policy, reason: custom.reason, method: facts.method, path: facts.path });
      env.metrics.recordPolicyDecision(custom.policy ?? '', 'CUSTOM', 'denied');
      return deny(ctx, next, ...forbidden(ctx, { ...denialFactsOf(custom, facts), reason: `custom: ${custom.reason}` }));
    }
    for (const c of custom) {
      const v = await askExtAuthz(c.provider, ctx.request, facts.sourceIp, { tables: env.tables, upstream: env.upstream, mtls: env.mtls });
      if (!v.allow) {
        env.log.info('request denied by external authorizer', { policy: c.policy, reason: v.reason, method: facts.method, path: facts.path });
        env.metrics.recordPolicyDecision(c.policy, 'CUSTOM', 'denied');
        return deny(ctx, next, ...forbidden(ctx, { reason: `custom: ${v.reason}`, policy: c.policy, principal: principalOfFacts(facts) }));
      }
      // Envoy's ext_authz filter runs before RBAC, so DENY/ALLOW header conditions see these too.
      for (const [k, val] of Object.entries(v.headers)) ctx.request.headers[k] = val;
    }
    const shadow = evaluateShadow(authz, facts);
    if (shadow) {
      // Istio's dry-run: reported (access log, metric, log) as the decision it would have been, never enforced
      const by = shadow.policy ?? shadow.closest?.policy;
      ctx.shadow = { allow: shadow.allow, policy: by, rule: shadow.rule ?? shadow.closest?.rule };
      env.metrics.recordPolicyDecision(by ?? '', shadow.action ?? 'ALLOW', shadow.allow ? 'shadow_allowed' : 'shadow_denied');
      if (!shadow.allow) env.log.info('dry-run authorization policy would deny the request (not enforced)', { policy: by, rule: ctx.shadow.rule, reason: shadow.reason, condition: shadow.closest?.condition, method: facts.method, path: facts.path });
    }
    const d = evaluate(authz, facts);
    const decidedBy = d.policy ?? d.closest?.policy;
    if (decidedBy !== undefined) env.metrics.recordPolicyDecision(decidedBy, d.action ?? 'ALLOW', d.allow ? 'allowed' : 'denied');
    if (!d.allow) {
      const why = denialFactsOf(d, facts);
      env.log.info('request denied by authorization policy', { policy: why.policy, rule: why.rule, reason: d.reason, condition: why.condition, method: facts.method, path: facts.path, source: facts.sourcePrincipal ?? facts.sourceIp });
      return deny(ctx, next, ...forbidden(ctx, why));
    }
    return next();
  };
}

const forbidden = (ctx: HttpContext, why: DenialFacts): [HttpContext['response'] & object, DenialFacts] => [denialResponse(403, 'RBAC: access denied', why, ctx.request.headers), why];

/** Records the refusal and lets the chain go on, so observability sees it; nothing is forwarded. */
function deny(ctx: HttpContext, next: Next, response: HttpContext['response'] & object, why: DenialFacts): Promise<void> {
  ctx.denial = { response, reason: reasonLine(why), policy: why.policy, rule: why.rule };
  ctx.cluster = undefined;
  ctx.route = undefined;
  return next();
}
