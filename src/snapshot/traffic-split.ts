/**
 * SMI TrafficSplit on the outbound side: the root service's routes send to its backends' clusters by
 * weight instead of to its own cluster (FSM's apex service: TargetClusters lists the backends), and
 * each backend's cluster is compiled from the backend Service's endpoints.
 */
import { keyOf } from '../catalog/pods.js';
import type { Catalog, ServiceInfo, ServicePortInfo } from '../catalog/types.js';
import { outboundClusterName } from './names.js';
import type { ServiceRoutes } from './traffic-policy.js';

/** backend cluster → the backend's port and weight */
export type SplitBackends = Map<string, { port: ServicePortInfo; weight: number }>;

/**
 * The backends of the split whose root is `svc`, on the root's service port `port`: each backend's
 * port of the same number, or its only port. Backends that are not Services of the split's namespace,
 * or have no such port, or weigh 0, are left out; undefined when no split applies or none is left
 * (the root then keeps its own cluster, as FSM does with no usable backend).
 */
export function splitBackends(catalog: Catalog, svc: ServiceInfo, port: ServicePortInfo): SplitBackends | undefined {
  const split = catalog.traffic.splitByRoot.get(keyOf(svc.namespace, svc.name));
  if (!split?.spec) return undefined;
  const out: SplitBackends = new Map();
  for (const b of split.spec.backends) {
    if (b.weight <= 0) continue;
    const backend = catalog.meshServices.find((s) => s.namespace === svc.namespace && s.name === b.service);
    if (!backend) continue;
    const same = backend.ports.find((p) => p.port === port.port && p.protocol === port.protocol);
    const bp = same ?? (backend.ports.length === 1 ? backend.ports[0] : undefined);
    if (!bp) continue;
    out.set(outboundClusterName(bp.namespace, bp.name, bp.port), { port: bp, weight: b.weight });
  }
  return out.size > 0 ? out : undefined;
}

/** The root's routes with its own cluster replaced by the weighted backends (routes that deny stay empty). */
export function applySplit(routes: ServiceRoutes, rootCluster: string, backends: SplitBackends): ServiceRoutes {
  const weights: Record<string, number> = {};
  for (const [cluster, b] of backends) weights[cluster] = b.weight;
  const swap = (targets: Record<string, number>): Record<string, number> => (rootCluster in targets ? { ...weights } : targets);
  return {
    ...routes,
    http: routes.http.map((r) => ({ ...r, TargetClusters: swap(r.TargetClusters) })),
    tcpTargets: swap(routes.tcpTargets),
  };
}
