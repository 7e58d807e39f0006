/**
 * Istio AuthorizationPolicy on inbound TCP connections (security-rules.md §1 "TCP traffic", §11
 * rule 3): the same policies as the HTTP step (the snapshot's `Inbound.Authz.Policies`), compiled for
 * TCP once per snapshot and decided once per connection, right after inbound TCP routing and before
 * the load balancer opens anything upstream. Like the HTTP step it is not a Chains entry, so
 * config_dump keeps FSM's module lists.
 *
 * A denied connection is closed without a byte forwarded either way (Envoy's RBAC network filter
 * closes it), counted in `tessera_tcp_connections_denied_total`, written to the access log with the
 * deciding policy (`"denied"`, as refused HTTP requests are) and logged at warn. Nothing the client
 * sent is read, so no payload can reach a log.
 */
import { authorizeConnection, compileConnectionAuthz, connectionFacts, plainIp, type CompiledAuthz, type Decision } from '../../authz/index.js';
import type { TcpContext, TcpModule } from '../chain/types.js';
import type { ModuleEnv } from './env.js';
import { peerOf } from './inbound-authn-authz.js';
import { inboundTcpRouting } from './tcp.js';
import { denyConnection } from './deny-connection.js';

/** modules/inbound-tcp-routing.js followed by the authorization step (the routing module alone when no policy applies). */
export function inboundTcpRoutingWithAuthz(env: ModuleEnv): TcpModule {
  const routing = inboundTcpRouting(env);
  const authorize = inboundTcpAuthz(env);
  if (!authorize) return routing;
  return function inboundTcpRoutingThenAuthz(ctx, next) {
    return routing(ctx, async () => authorize(ctx, next));
  };
}

/** The per-connection step, or undefined when no AuthorizationPolicy applies to the workload. */
export function inboundTcpAuthz(env: ModuleEnv): TcpModule | undefined {
  const policies = Array.isArray(env.snapshot.Inbound.Authz?.Policies) ? env.snapshot.Inbound.Authz.Policies : [];
  if (policies.length === 0) return undefined;
  // Rules that cannot be compiled are reported once by the HTTP step, which compiles the same policies.
  const authz = compileConnectionAuthz(policies);
  warnAboutCustom(env, authz);

  return function inboundTcpAuthz(ctx, next) {
    const peer = peerOf(ctx.source.identity);
    const decision = authorizeConnection(
      authz,
      connectionFacts({
        port: ctx.local.port,
        sourceIp: plainIp(ctx.source.address),
        destinationIp: plainIp(ctx.local.address),
        sourcePrincipal: peer.principal,
        sourceNamespace: peer.namespace,
        sni: ctx.source.sni,
      }),
    );
    // A refusal does not run the rest of the chain: its load balancer would connect upstream and its
    // default module would report the refusal a second time, with a routing reason.
    if (!decision.allow) return refuse(env, ctx, decision);
    return next();
  };
}

/** Once per snapshot: CUSTOM policies deny the TCP connections their rules match (see src/authz/tcp.ts). */
function warnAboutCustom(env: ModuleEnv, authz: CompiledAuthz): void {
  if (authz.custom.length === 0) return;
  const tcpPorts = Object.values(env.snapshot.Inbound.TrafficMatches).filter((m) => m.Protocol === 'tcp').map((m) => m.Port);
  if (tcpPorts.length === 0) return;
  env.log.warn('CUSTOM AuthorizationPolicy cannot ask its HTTP authorizer about TCP connections: the connections its rules match are denied', {
    policies: authz.custom.map((p) => p.name),
    ports: tcpPorts,
  });
}

function refuse(env: ModuleEnv, ctx: TcpContext, d: Decision): void {
  const reason = `authorization: ${d.policy ? `${d.policy} ` : ''}${d.reason}`;
  env.log.warn('connection denied by authorization policy', {
    policy: d.policy,
    reason: d.reason,
    source: ctx.source.identity ?? ctx.source.address,
    port: ctx.local.port,
  });
  denyConnection(env, ctx, reason);
}
