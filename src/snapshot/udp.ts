/** Inbound UDP under SMI UDPRoutes: which of the pod's UDP ports accept datagrams from which identities, and how a sender's address maps to an identity. */
import type { Pod } from '../api/types.js';
import { byString, isPodTerminated, podIP, podKey, serviceIdentityOf } from '../catalog/pods.js';
import { udpTargetPortOnPod } from '../catalog/services.js';
import type { Catalog, SmiPorts } from '../catalog/types.js';
import { cachedSection } from './section-cache.js';
import type { ProxySnapshot } from './types.js';

/** The pod's UDP Service ports: Service port → the port this pod receives it on. */
function podUdpPorts(catalog: Catalog, pod: Pod): { port: number; targetPort: number }[] {
  const out: { port: number; targetPort: number }[] = [];
  for (const svc of catalog.meshServicesByPod.get(podKey(pod)) ?? []) {
    for (const p of svc.udpPorts) {
      const targetPort = udpTargetPortOnPod(p, pod);
      if (targetPort !== undefined) out.push({ port: p.port, targetPort });
    }
  }
  return out;
}

/**
 * The pod ports a UDPRoute's ports stand for. Like TCPRoutes (smi-inbound.ts portsCover), a listed
 * port may be a Service port or the pod's own; a listed port no Service names is taken as the pod's
 * own port, since SMI destinations are service accounts, not Services. `all` (no ports listed) is
 * every UDP port of the pod's Services.
 */
function podPortsFor(ports: SmiPorts, servicePorts: { port: number; targetPort: number }[]): number[] {
  if (ports === 'all') return servicePorts.map((p) => p.targetPort);
  return ports.flatMap((listed) => {
    const viaService = servicePorts.filter((p) => p.port === listed || p.targetPort === listed).map((p) => p.targetPort);
    return viaService.length > 0 ? viaService : [listed];
  });
}

/**
 * Live meshed pod IP → identity, for every pod with a sidecar. An IP claimed by two live pods is
 * dropped rather than attributed to either: UDP has no certificate, the address is all there is.
 * Shared by every proxy of the catalog.
 */
function identityByIP(catalog: Catalog): ReadonlyMap<string, string> {
  return cachedSection(catalog, 'identity-by-ip', () => {
    const out = new Map<string, string>();
    const claimed = new Set<string>();
    for (const ref of catalog.proxies) {
      const pod = catalog.pods.get(`${ref.namespace}/${ref.name}`);
      const ip = pod && podIP(pod);
      if (!pod || !ip || isPodTerminated(pod)) continue;
      if (claimed.has(ip)) out.delete(ip);
      else out.set(ip, serviceIdentityOf(pod));
      claimed.add(ip);
    }
    return out;
  });
}

/**
 * `UdpAllowed` and `IdentityByIP` for the destination pod, from the UDPRoute rules of TrafficTargets
 * naming its identity (security-rules.md §7; the seed's L4 example allows UDP to 8301/8302 and not
 * 8300). Empty when no UDPRoute applies, so the sidecar forwards no UDP at all.
 */
export function udpAccess(catalog: Catalog, pod: Pod): Pick<ProxySnapshot['Inbound'], 'UdpAllowed' | 'IdentityByIP'> {
  const byPort = new Map<number, Set<string>>();
  const servicePorts = podUdpPorts(catalog, pod);
  for (const t of catalog.smi.byDestination.get(serviceIdentityOf(pod)) ?? []) {
    if (t.udpPorts === undefined) continue;
    for (const port of podPortsFor(t.udpPorts, servicePorts)) {
      let set = byPort.get(port);
      if (!set) byPort.set(port, (set = new Set()));
      for (const s of t.sources) set.add(s);
    }
  }
  if (byPort.size === 0) return {};
  const UdpAllowed: Record<string, string[]> = {};
  const identities = new Set<string>();
  for (const [port, set] of [...byPort].sort((a, b) => a[0] - b[0])) {
    UdpAllowed[String(port)] = [...set].sort(byString);
    for (const id of set) identities.add(id);
  }
  const IdentityByIP: Record<string, string> = {};
  for (const [ip, id] of [...identityByIP(catalog)].sort((a, b) => byString(a[0], b[0]))) {
    if (identities.has(id)) IdentityByIP[ip] = id;
  }
  return { UdpAllowed, IdentityByIP };
}
