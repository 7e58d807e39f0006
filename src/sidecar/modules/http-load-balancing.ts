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
  [kTunnel]?: (endpoint: string) => Promise<void>;
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
    ctx.upstream = endpoint;
    try {
      const tunnel = (ctx as HttpContext & Tunnelable)[kTunnel];
      if (ctx.upgrade && tunnel) {
        await tunnel(endpoint);
        return;
      }
      ctx.response = await env.upstream.request(endpoint, ctx.request, ctx.request.body);
    } catch (err) {
      const status = rescue(ctx, err);
      env.log.warn('upstream request failed', { upstream: endpoint, status, error: (err as Error).message });
    }
  };
}
