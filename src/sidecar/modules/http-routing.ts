/**
 * modules/{inbound,outbound}-http-routing.js: Host → service rule → route → cluster. Outbound also
 * reaches services outside the mesh the way cluster DNS would, and external hosts when egress is on.
 */
import { findRoute, findServiceRule, outsideClientRoute, parseAuthority, type Authority } from '../routing/index.js';
import type { HttpContext, HttpModule } from '../chain/types.js';
import type { ModuleEnv } from './env.js';
import { inboundAuthnAuthz } from './inbound-authn-authz.js';
import type { CompiledServiceRule } from '../routing/tables.js';
import { outsideMeshCluster } from './outside-mesh.js';
import { markHop, refuseReturningRequest, refuseSelfDestination, stripHops } from './loop-guard.js';

export function outboundHttpRouting(env: ModuleEnv): HttpModule {
  const { tables } = env;
  const identity = env.snapshot.Spec.ServiceIdentity;
  const self = env.self;
  return function outboundHttpRouting(ctx, next) {
    // a request that came back round is answered, not routed (loop-guard.ts)
    if (self && refuseReturningRequest(ctx, self)) return next();
    const a = parseAuthority(ctx.request.authority);
    const port = a.port ?? 80;
    const t = tables.outbound.get(port);
    const rule = t ? findServiceRule(t, a, port) : undefined;
    if (rule) selectRoute(ctx, rule, env);
    else routeOutsideMesh(ctx, a, port, env);
    if (self) {
      if (ctx.cluster && refuseSelfDestination(ctx, ctx.cluster, self)) return next();
      markHop(ctx.request.headers, self);
    }
    // FSM's routing module tells the destination who called; inbound never trusts it for authorization.
    ctx.request.headers['serviceidentity'] = identity;
    return next();
  };
}

export function inboundHttpRouting(env: ModuleEnv): HttpModule {
  const { tables } = env;
  const authnAuthz = inboundAuthnAuthz(env); // Istio RequestAuthentication + AuthorizationPolicy, built once per snapshot
  return function inboundHttpRouting(ctx, next) {
    // The app learns who called only from the verified certificate; a header the caller set is dropped.
    const headers = ctx.request.headers;
    if (ctx.source.identity) headers['serviceidentity'] = ctx.source.identity;
    else delete headers['serviceidentity'];
    stripHops(headers);
    const t = tables.inbound.get(ctx.local.port);
    // A client outside the mesh that AccessControl let in goes to its backend whatever the Host, and
    // SMI's identities do not apply to it (it has none); everyone else is routed by Host as below.
    const outside = t ? outsideClientRoute(t, ctx.source, env.mtls) : undefined;
    if (outside?.http) selectRoute(ctx, outside.http, env);
    else if (t) {
      const a = parseAuthority(ctx.request.authority);
      const rule = findServiceRule(t, a, ctx.local.port) ?? t.only;
      if (rule) selectRoute(ctx, rule, env);
      else ctx.routeMiss = 'unknown-host';
    } else ctx.routeMiss = 'unknown-host';
    return authnAuthz(ctx, next);
  };
}

function selectRoute(ctx: HttpContext, rule: CompiledServiceRule, env: ModuleEnv): void {
  ctx.service = rule.service;
  // inbound, SMI's AllowedServices are checked against the identity proven by certificate
  const identity = ctx.direction === 'inbound' ? ctx.source.identity : null;
  const r = findRoute(rule, ctx.request.method, ctx.request.path, ctx.request.headers, identity);
  if (r === undefined || r === 'denied') {
    ctx.routeMiss = r === 'denied' ? 'denied' : 'no-route';
    return;
  }
  ctx.route = r.rule;
  const name = r.pickCluster();
  const c = name ? env.tables.clusters.get(name) : undefined;
  if (c) ctx.cluster = c.routed;
}

/** Not a mesh service: a Service without sidecars (cluster DNS), an external host, or unknown. */
function routeOutsideMesh(ctx: HttpContext, a: Authority, port: number, env: ModuleEnv): void {
  const outside = outsideMeshCluster(env, a.host, port);
  if (typeof outside === 'string') ctx.routeMiss = outside;
  else ctx.cluster = outside;
}
