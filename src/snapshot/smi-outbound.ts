/** Outbound SMI access (permissive mode off): which destination identities a source may reach, and the identities behind endpoints. */
import { byString, keyOf, serviceIdentityOf } from '../catalog/pods.js';
import type { Catalog, ServiceInfo } from '../catalog/types.js';

/**
 * The destination identities `source` may open connections to: those of every TrafficTarget that lists
 * it as a source with an HTTPRouteGroup or TCPRoute rule (a UDPRoute-only target grants no stream
 * traffic). FSM §2.5: the source only learns these services and endpoints; routes and ports are
 * enforced at the destination.
 */
export function reachableIdentities(catalog: Catalog, source: string): Set<string> {
  const out = new Set<string>();
  for (const t of catalog.smi.bySource.get(source) ?? []) {
    if (t.http !== undefined || t.tcpPorts !== undefined) out.add(t.destination);
  }
  return out;
}

/** Identity `sa.ns` of the pod `namespace/podName`, if the catalog knows it. */
export function podIdentity(catalog: Catalog, namespace: string, podName: string): string | undefined {
  const pod = catalog.pods.get(keyOf(namespace, podName));
  return pod ? serviceIdentityOf(pod) : undefined;
}

/** Identities of every pod the service selects (ready or not), sorted: the service's backing identities. */
export function backingIdentities(catalog: Catalog, svc: ServiceInfo): string[] {
  const out = new Set<string>();
  for (const key of svc.selectedPods) {
    const pod = catalog.pods.get(key);
    if (pod) out.add(serviceIdentityOf(pod));
  }
  return [...out].sort(byString);
}
