/** Builds the Inbound section: one traffic match per targetPort the proxy's own services listen on. */
import type { Pod } from '../api/types.js';
import { APP_ADDRESS_ANNOTATION, podKey, serviceIdentityOf } from '../catalog/pods.js';
import { targetPortOnPod } from '../catalog/services.js';
import type { Catalog } from '../catalog/types.js';
import { accessControlRanges, admitOutsideClients } from './access-control.js';
import { hostPort } from './addresses.js';
import { buildAuth } from './auth.js';
import type { ProxyChains } from './chains.js';
import { hostnamesWithPorts, inboundClusterName, mountPointFor, qualifiedHostnames, ruleName } from './names.js';
import { pluginsFor } from './plugin-configs.js';
import { referencedClusters, routesFor } from './traffic-policy.js';
import type { InboundTrafficMatch, ProxySnapshot } from './types.js';
import { udpAccess } from './udp.js';
import { inboundHttpLimits, inboundTcpLimit } from './upstream-traffic.js';

/**
 * Where the pod's apps listen. In local mode each pod's apps bind to their own loopback address,
 * named by an annotation; on Kubernetes the app shares the sidecar's network namespace.
 */
export function appAddressOf(pod: Pod): string {
  return pod.metadata.annotations?.[APP_ADDRESS_ANNOTATION] || '127.0.0.1';
}

/**
 * Matches are keyed by targetPort, the port the sidecar actually receives traffic on (FSM keys by
 * service port, which only works when the two agree; fsm-design.md §2.2). Several services (or
 * several ports of one service) on the same targetPort share the match; when their protocols
 * disagree, the first service port (by namespace, name, then spec order) decides the protocol and
 * the others are left out, since one listener cannot speak both.
 */
export function buildInbound(catalog: Catalog, pod: Pod, chains: ProxyChains): ProxySnapshot['Inbound'] {
  const TrafficMatches: Record<string, InboundTrafficMatch> = {};
  const ClustersConfigs: Record<string, Record<string, number>> = {};
  const appAddress = appAddressOf(pod);
  const identity = serviceIdentityOf(pod);
  for (const svc of catalog.meshServicesByPod.get(podKey(pod)) ?? []) {
    const rule = ruleName(svc.namespace, svc.name);
    const names = [svc.name, ...qualifiedHostnames(svc.namespace, svc.name)];
    for (const port of svc.ports) {
      const targetPort = targetPortOnPod(port, pod);
      if (targetPort === undefined) continue; // a named port this pod does not declare
      const key = String(targetPort);
      const match = (TrafficMatches[key] ??= { Port: targetPort, Protocol: port.protocol });
      if (match.Protocol !== port.protocol) continue;
      const cluster = inboundClusterName(svc.namespace, svc.name, targetPort);
      const ranges = accessControlRanges(catalog, svc, targetPort);
      if (ranges && admitOutsideClients(match, ranges, { rule, cluster })) {
        ClustersConfigs[cluster] = { [hostPort(appAddress, targetPort)]: 100 };
      }
      const routes = routesFor(catalog, { direction: 'inbound', identity, service: port, cluster, targetPort });
      const plugins = pluginsFor(catalog, chains.mounted[mountPointFor('inbound', port.protocol)], svc.namespace, svc.name);
      if (port.protocol === 'tcp') {
        const tcpRules = (match.TcpServiceRouteRules ??= {});
        tcpRules[rule] ??= {
          TargetClusters: routes.tcpTargets,
          ...(routes.tcpAllowedServices ? { AllowedServices: routes.tcpAllowedServices } : {}),
          ...(plugins ? { Plugins: plugins } : {}),
        };
        const tcpLimit = inboundTcpLimit(catalog, svc.namespace, svc.name);
        if (tcpLimit) match.RateLimit ??= tcpLimit;
      } else {
        const hosts = (match.HttpHostPort2Service ??= {});
        for (const host of hostnamesWithPorts(names, port.port)) hosts[host] = { RuleName: rule };
        const httpRules = (match.HttpServiceRouteRules ??= {});
        // Two ports of one service on the same targetPort give the same rule; keep the first.
        httpRules[rule] ??= { RouteRules: routes.http, ...(plugins ? { Plugins: plugins } : {}), ...inboundHttpLimits(catalog, svc.namespace, svc.name) };
      }
      for (const c of referencedClusters(routes)) {
        if (c === cluster) ClustersConfigs[c] = { [hostPort(appAddress, targetPort)]: 100 };
      }
    }
  }
  const inbound: ProxySnapshot['Inbound'] = { TrafficMatches, ClustersConfigs };
  if (!catalog.meshConfig.enablePermissiveTrafficPolicyMode) Object.assign(inbound, udpAccess(catalog, pod));
  // Istio policies apply in every traffic mode (security-rules.md §1).
  Object.assign(inbound, buildAuth(catalog, pod));
  return inbound;
}
