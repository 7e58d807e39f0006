/** Builds the Dns and ServiceIPs sections: what cluster DNS would answer for each Service with ready endpoints. */
import { byString } from '../catalog/pods.js';
import type { Catalog, ServiceInfo } from '../catalog/types.js';
import { hostPort } from './addresses.js';
import type { ProxySnapshot } from './types.js';

/**
 * Every Service, meshed or not, so a local-mode sidecar can resolve non-mesh destinations too; with
 * `services` (a proxy's outbound scope, scope.ts), only those.
 */
export function buildDns(catalog: Catalog, services: readonly ServiceInfo[] = catalog.services): ProxySnapshot['Dns'] {
  const out: ProxySnapshot['Dns'] = {};
  for (const svc of services) {
    const byPort: Record<string, string[]> = {};
    for (const port of svc.ports) {
      if (port.endpoints.length === 0) continue;
      byPort[String(port.port)] = [...new Set(port.endpoints.map((e) => hostPort(e.ip, e.port)))].sort(byString);
    }
    if (Object.keys(byPort).length > 0) out[`${svc.name}.${svc.namespace}.svc.cluster.local`] = byPort;
  }
  return out;
}

/**
 * Cluster IP → fqdn for the Services `buildDns` answers for (headless ones have no address); with
 * `services`, only those (compile.ts narrows it to the scope only when egress is off, where an
 * unknown address is refused anyway).
 */
export function buildServiceIPs(catalog: Catalog, services: readonly ServiceInfo[] = catalog.services): ProxySnapshot['ServiceIPs'] {
  const out: ProxySnapshot['ServiceIPs'] = {};
  for (const svc of services) {
    if (!svc.clusterIP || !svc.ports.some((p) => p.endpoints.length > 0)) continue;
    out[svc.clusterIP] = `${svc.name}.${svc.namespace}.svc.cluster.local`;
  }
  return out;
}
