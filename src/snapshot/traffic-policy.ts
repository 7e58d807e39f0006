/** Decides which routes a service port gets: permissive mode allows everyone, otherwise the SMI seam. */
import type { Catalog, ServicePortInfo } from '../catalog/types.js';
import type { RouteRule } from './types.js';

export interface RouteQuery {
  direction: 'inbound' | 'outbound';
  /**
   * the service identity (`sa.ns`) of the proxy being compiled: the source on outbound, the
   * destination on inbound. Deliberately not the whole pod: outbound sections are shared by every
   * proxy with the same identity and plugins (see section-cache.ts), so routes may depend on nothing else.
   */
  identity: string;
  /** the destination service port (the proxy's own on inbound, the upstream on outbound) */
  service: ServicePortInfo;
  /** the cluster allowed traffic goes to */
  cluster: string;
}

export interface ServiceRoutes {
  /** HTTP and gRPC: route rules of the service's rule set */
  http: RouteRule[];
  /** TCP: cluster → weight */
  tcpTargets: Record<string, number>;
}

/** Permissive mode: one catch-all route to the service's cluster, with no AllowedServices (anyone). */
export function permissiveRoutes(cluster: string): ServiceRoutes {
  return {
    http: [{ Path: '.*', Type: 'Regex', TargetClusters: { [cluster]: 100 } }],
    tcpTargets: { [cluster]: 100 },
  };
}

/**
 * Routes granted by SMI TrafficTargets (with HTTPRouteGroup / TCPRoute rules) when permissive mode is
 * off. TODO(SMI): implement access.smi-spec.io/v1alpha3 TrafficTarget per fsm-design.md §2.5 (another
 * issue). Until then it grants nothing, so with permissive mode off every request is denied: the
 * traffic matches still exist, so the sidecar catches the traffic and refuses it instead of letting
 * it out as egress (fail closed).
 */
export function applyTrafficTargets(_catalog: Catalog, _query: RouteQuery): ServiceRoutes {
  return { http: [], tcpTargets: {} };
}

export function routesFor(catalog: Catalog, query: RouteQuery): ServiceRoutes {
  return catalog.meshConfig.enablePermissiveTrafficPolicyMode
    ? permissiveRoutes(query.cluster)
    : applyTrafficTargets(catalog, query);
}

/** Every cluster some route or TCP rule sends traffic to; only those get a ClustersConfigs entry. */
export function referencedClusters(routes: ServiceRoutes): string[] {
  const out = new Set<string>(Object.keys(routes.tcpTargets));
  for (const r of routes.http) for (const c of Object.keys(r.TargetClusters)) out.add(c);
  return [...out];
}
