/**
 * modules/{inbound,outbound}-http-load-balancing.js: round robin over the cluster's endpoints and
 * forwarding over keep-alive pools. With no cluster or no endpoint it hands over to the default
 * module, as FSM's does.
 */
import { nextEndpoint } from '../routing/index.js';
import { rescue } from '../chain/rescue.js';
import type { HttpContext, HttpModule } from '../chain/types.js';
import type { ModuleEnv } from './env.js';

/** Set by the engine on Upgrade requests: tunnels the client socket to the endpoint. */
export const kTunnel: unique symbol = Symbol('tessera.tunnel');
export interface Tunnelable {
  [kTunnel]?: (endpoint: string, identities: readonly string[] | undefined) => Promise<void>;
}

/**
 * What the upstream must prove: outbound to another sidecar, one of the destination's identities
 * over mTLS; to the local app or outside the mesh, nothing (undefined). Null when mTLS is on but the
 * cluster lists no identity — the caller refuses rather than connect unverified.
 */
export function expectedIdentities(
  ctx: { direction: string; cluster: { egress: boolean; identities?: readonly string[] } | undefined },
  env: ModuleEnv,
): readonly string[] | undefined | null {
  const c = ctx.cluster;
  if (!env.mtls || ctx.direction !== 'outbound' || !c || c.egress) return undefined;
  return c.identities && c.identities.length > 0 ? c.identities : null;
}

export function httpLoadBalancing(env: ModuleEnv): HttpModule {
  const egressCursor = new Map<string, number>();
  return async function httpLoadBalancing(ctx: HttpContext, next) {
    const c = ctx.cluster;
    if (!c) return next();
    let endpoint: string | undefined;
    const table = env.tables.clusters.get(c.name);
    if (table) endpoint = nextEndpoint(table);
    else if (c.endpoints.length > 0) {
      const i = egressCursor.get(c.name) ?? 0;
      endpoint = c.endpoints[i % c.endpoints.length];
      egressCursor.set(c.name, (i + 1) % c.endpoints.length);
    }
    if (!endpoint) return next();
    const identities = expectedIdentities(ctx, env);
    if (identities === null) {
      env.log.error('no identity known for a mesh cluster; refusing to connect without verifying the server', { cluster: c.name });
      return next();
    }
    ctx.upstream = endpoint;
    try {
      const tunnel = (ctx as HttpContext & Tunnelable)[kTunnel];
      if (ctx.upgrade && tunnel) {
        await tunnel(endpoint, identities);
        return;
      }
      ctx.response = await env.upstream.request(endpoint, ctx.request, ctx.request.body, identities);
    } catch (err) {
      const status = rescue(ctx, err);
      env.log.warn('upstream request failed', { upstream: endpoint, status, error: (err as Error).message });
    }
  };
}
