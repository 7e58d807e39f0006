/**
 * Istio RequestAuthentication then AuthorizationPolicy on inbound HTTP, run by the inbound routing
 * module right after routing (not a Chains entry, so config_dump keeps FSM's module lists).
 * Built once per snapshot. Invalid token: 401; denied: 403 `RBAC: access denied` (security-rules.md §1, §2).
 * CUSTOM policies ask their external authorizer first; its refusal, a timeout or an error is a 403.
 */
import { compilePolicies, customChecks, evaluate, groupPolicies, plainIp, type RequestFacts } from '../../authz/index.js';
import { istioPrincipal, parseServiceIdentity, identityParts } from '../../identity/service-identity.js';
import { authenticate } from '../authn/authenticate.js';
import { askExtAuthz } from '../authn/ext-authz.js';
import { compileAuthn } from '../authn/jwt-rules.js';
import { makeResponse } from '../chain/context.js';
import type { HttpContext, Next } from '../chain/types.js';
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
        return deny(ctx, next, makeResponse(401, 'Jwt verification fails', { 'www-authenticate': 'Bearer realm="tessera", error="invalid_token"', 'content-type': 'text/plain' }), `authentication: ${r.reason}`);
      }
      principal = r.principal;
      claims = r.claims;
      spaceDelimitedClaims = r.spaceDelimitedClaims;
    }
    const peer = peerOf(ctx.source.identity);
    const facts: RequestFacts = {
      method: ctx.request.method,
      path: pathOnly(ctx.request.path),
      host: ctx.request.authority,
      port: ctx.local.port,
      sourceIp: plainIp(ctx.source.address),
      destinationIp: plainIp(ctx.local.address),
      ...(peer.principal !== undefined ? { sourcePrincipal: peer.principal, sourceNamespace: peer.namespace } : {}),
      ...(principal !== undefined ? { requestPrincipal: principal, claims, spaceDelimitedClaims } : {}),
      headers: ctx.request.headers,
      sni: ctx.source.sni,
    };
    const custom = customChecks(authz, facts);
    if (!Array.isArray(custom)) {
      env.log.warn('request denied by CUSTOM authorization policy', { policy: custom.policy, reason: custom.reason, method: facts.method, path: facts.path });
      return deny(ctx, next, forbidden(), `custom: ${custom.policy ?? ''} ${custom.reason}`.trim());
    }
    for (const c of custom) {
      const v = await askExtAuthz(c.provider, ctx.request, facts.sourceIp, { tables: env.tables, upstream: env.upstream, mtls: env.mtls });
      if (!v.allow) {
        env.log.info('request denied by external authorizer', { policy: c.policy, reason: v.reason, method: facts.method, path: facts.path });
        return deny(ctx, next, forbidden(), `custom: ${c.policy} ${v.reason}`);
      }
      // Envoy's ext_authz filter runs before RBAC, so DENY/ALLOW header conditions see these too.
      for (const [k, val] of Object.entries(v.headers)) ctx.request.headers[k] = val;
    }
    const d = evaluate(authz, facts);
    if (!d.allow) {
      env.log.info('request denied by authorization policy', { policy: d.policy, reason: d.reason, method: facts.method, path: facts.path, source: facts.sourcePrincipal ?? facts.sourceIp });
      return deny(ctx, next, forbidden(), `authorization: ${d.policy ? `${d.policy} ` : ''}${d.reason}`);
    }
    return next();
  };
}

const forbidden = () => makeResponse(403, 'RBAC: access denied', { 'content-type': 'text/plain' });

/** Records the refusal and lets the chain go on, so observability sees it; nothing is forwarded. */
function deny(ctx: HttpContext, next: Next, response: HttpContext['response'] & object, reason: string): Promise<void> {
  ctx.denial = { response, reason };
  ctx.cluster = undefined;
  ctx.route = undefined;
  return next();
}
