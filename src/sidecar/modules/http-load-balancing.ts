/**
 * modules/{inbound,outbound}-http-load-balancing.js: round robin over the cluster's endpoints and
 * forwarding over keep-alive pools. With no cluster or no endpoint it hands over to the default
 * module, as FSM's does.
 */
import { rescue } from '../chain/rescue.js';
import type { HttpContext, HttpModule } from '../chain/types.js';
import type { ModuleEnv } from './env.js';
import { clusterRequestOptions, compileUpstreamPolicies, forwardResilient, pickAnother } from './resilient-forward.js';
import { chooseUpstream, type Cursors } from './upstream-choice.js';

/** Set by the engine on Upgrade requests: tunnels the client socket to the endpoint. */
export const kTunnel: unique symbol = Symbol('tessera.tunnel');
export interface Tunnelable {
  [kTunnel]?: (endpoint: string, identities: readonly string[] | undefined) => Promise<void>;
}

export function httpLoadBalancing(env: ModuleEnv): HttpModule {
  const cursors: Cursors = new Map();
  // retries, request timeouts and outlier detection, when the snapshot configures any (docs/traffic-management.md)
  const policies = compileUpstreamPolicies(env);
  // an UpstreamTrafficSetting's connect timeout and requests per connection, by outbound cluster
  const requestOptions = clusterRequestOptions(env.snapshot);
  const h2Ports = appH2Ports(env);
  return async function httpLoadBalancing(ctx: HttpContext, next) {
    let choice = chooseUpstream(ctx, env, cursors);
    if (!choice) return next();
    const { endpoint, identities } = choice;
    ctx.upstream = endpoint;
    const http2 = forwardsAsH2(ctx, h2Ports);
    try {
      const tunnel = (ctx as HttpContext & Tunnelable)[kTunnel];
      if (ctx.upgrade && tunnel) {
        await tunnel(endpoint, identities);
        return;
      }
      if (policies && ctx.direction === 'outbound' && (policies.clusters.has(ctx.cluster!.name) || (ctx.service !== undefined && policies.timeouts.has(ctx.service.name)))) {
        const options = requestOptions.get(ctx.cluster!.name);
        const deps = { env, cursors, policies, requestOptions: http2 ? { ...options, http2 } : options };
        if (policies.clusters.get(ctx.cluster!.name)?.outlier?.isEjected(endpoint, Date.now())) choice = pickAnother(ctx, deps, undefined, policies.clusters.get(ctx.cluster!.name)?.outlier, Date.now()) ?? choice;
        await forwardResilient(ctx, choice, deps);
        return;
      }
      const options = requestOptions.size > 0 && ctx.cluster ? requestOptions.get(ctx.cluster.name) : undefined;
      ctx.response = await env.upstream.request(endpoint, ctx.request, ctx.request.body, identities, http2 ? { ...options, http2 } : options);
    } catch (err) {
      const status = rescue(ctx, err);
      env.log.warn('upstream request failed', { upstream: endpoint, status, error: (err as Error).message });
    }
  };
}

/** Inbound ports whose app speaks HTTP/2 (Service port `appProtocol: grpc`/`h2c`, or a name `grpc`/`http2`). */
function appH2Ports(env: ModuleEnv): ReadonlySet<number> {
  const out = new Set<number>();
  for (const m of Object.values(env.snapshot.Inbound.TrafficMatches)) if (m.Protocol === 'grpc') out.add(m.Port);
  return out;
}

/**
 * HTTP/2 upstream: to the app when its port says it speaks it (h2c); to another sidecar when the
 * request arrived as HTTP/2 (h2 over the mesh's mTLS, h2c when mTLS is off), so gRPC keeps its
 * trailers end to end. Services outside the mesh get HTTP/1.1 as before.
 */
function forwardsAsH2(ctx: HttpContext, h2Ports: ReadonlySet<number>): boolean {
  if (ctx.direction === 'inbound') return h2Ports.has(ctx.local.port);
  return ctx.request.httpVersion === '2.0' && ctx.cluster !== undefined && !ctx.cluster.egress;
}
