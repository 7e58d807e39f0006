/**
 * The part both load balancers (HTTP and TCP) share: pick the next endpoint of the routed cluster
 * by round robin, and decide what the upstream must prove — refusing a mesh cluster that lists no
 * identity rather than connecting to it unverified.
 */
import { nextEndpoint } from '../routing/index.js';
import type { Direction, RoutedCluster } from '../chain/types.js';
import type { ModuleEnv } from './env.js';

export interface UpstreamChoice {
  endpoint: string;
  /** identities the upstream must prove over mTLS; undefined for plaintext (the app, or outside the mesh) */
  identities: readonly string[] | undefined;
}

/** Round robin for clusters outside the routing tables (services outside the mesh, egress). */
export type Cursors = Map<string, number>;

export function chooseUpstream(ctx: { direction: Direction; cluster: RoutedCluster | undefined }, env: ModuleEnv, cursors: Cursors): UpstreamChoice | undefined {
  const c = ctx.cluster;
  if (!c) return undefined;
  let endpoint: string | undefined;
  const table = env.tables.clusters.get(c.name);
  if (table) endpoint = nextEndpoint(table);
  else if (c.endpoints.length > 0) {
    const i = cursors.get(c.name) ?? 0;
    endpoint = c.endpoints[i % c.endpoints.length];
    cursors.set(c.name, (i + 1) % c.endpoints.length);
  }
  if (!endpoint) return undefined;
  const identities = expectedIdentities(ctx, env);
  if (identities === null) {
    env.log.error('no identity known for a mesh cluster; refusing to connect without verifying the server', { cluster: c.name });
    return undefined;
  }
  return { endpoint, identities };
}

/**
 * What the upstream must prove: outbound to another sidecar, one of the destination's identities
 * over mTLS; to the local app or outside the mesh, nothing (undefined). Null when mTLS is on but the
 * cluster lists no identity.
 */
export function expectedIdentities(
  ctx: { direction: Direction; cluster: { egress: boolean; identities?: readonly string[] } | undefined },
  env: ModuleEnv,
): readonly string[] | undefined | null {
  const c = ctx.cluster;
  if (!env.mtls || ctx.direction !== 'outbound' || !c || c.egress) return undefined;
  return c.identities && c.identities.length > 0 ? c.identities : null;
}
