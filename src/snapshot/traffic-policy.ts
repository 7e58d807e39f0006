/** Decides which routes a service port gets: permissive mode allows everyone, otherwise SMI TrafficTargets. */
import type { Catalog, ServicePortInfo } from '../catalog/types.js';
import { inboundAccess } from './smi-inbound.js';
import { reachableIdentities } from './smi-outbound.js';
import type { RouteRule } from './types.js';

export interface RouteQuery {
  direction: 'inbound' | 'outbound';
  /**
   * the service identity (`sa.ns`) of the proxy being compiled: the source on outbound, the
   * destination on inbound. Deliberately not the whole pod: outbound sections are shared by every
   * proxy with the same namespace and plugins, and the same identity unless permissive (see
   * outbound.ts outboundIdentityKey), so routes may depend on nothing else, and on the identity only
   * when permissive mode is off.
   */
  identity: string;
  /** the destination service port (the proxy's own on inbound, the upstream on outbound) */
  service: ServicePortInfo;
  /** the cluster allowed traffic goes to */
  cluster: string;
  /** inbound: the port this pod receives the service port on (its targetPort) */
  targetPort?: number;
  /** outbound: identities of the pods backing the destination service (smi-outbound.ts backingIdentities) */
  destinationIdentities?: readonly string[];
}

export interface ServiceRoutes {
  /** HTTP and gRPC: route rules of the service's rule set */
  http: RouteRule[];
  /** TCP: cluster → weight */
  tcpTargets: Record<string, number>;
  /** inbound TCP with SMI: identities allowed to connect (TcpServiceRule.AllowedServices); absent means anyone */
  tcpAllowedServices?: string[];
}

/** Permissive mode: one catch-all route to the service's cluster, with no AllowedServices (anyone). */
export function permissiveRoutes(cluster: string): ServiceRoutes {
  return {
    http: [{ Path: '.*', Type: 'Regex', TargetClusters: { [cluster]: 100 } }],
    tcpTargets: { [cluster]: 100 },
  };
}

const NOTHING: () => ServiceRoutes = () => ({ http: [], tcpTargets: {} });

/**
 * Routes granted by SMI TrafficTargets when permissive mode is off (security-rules.md §7,
 * fsm-design.md §2.5). Inbound: exactly what TrafficTargets naming this proxy's identity as
 * destination allow (smi-inbound.ts). Outbound: a catch-all route when some pod behind the service
 * holds an identity this source may reach, nothing otherwise; enforcement is at the destination.
 * A port nothing allows keeps its traffic match with no routes, so the sidecar catches the traffic
 * and refuses it (403, or a closed connection) instead of letting it out as egress (fail closed).
 */
export function applyTrafficTargets(catalog: Catalog, query: RouteQuery): ServiceRoutes {
  if (query.direction === 'inbound') {
    const access = inboundAccess(catalog, {
      identity: query.identity,
      service: query.service,
      targetPort: query.targetPort ?? query.service.targetPort ?? query.service.port,
      cluster: query.cluster,
    });
    if (query.service.protocol !== 'tcp') return { http: access.http, tcpTargets: {} };
    const allowed = access.tcpAllowedServices;
    return { http: [], tcpTargets: allowed.length > 0 ? { [query.cluster]: 100 } : {}, tcpAllowedServices: allowed };
  }
  const reachable = reachableIdentities(catalog, query.identity);
  return (query.destinationIdentities ?? []).some((id) => reachable.has(id)) ? permissiveRoutes(query.cluster) : NOTHING();
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
