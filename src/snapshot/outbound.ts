/** Builds the Outbound section: traffic matches per service port, and the upstream clusters with their endpoints. */
import { byString } from '../catalog/pods.js';
import type { AppProtocol, Catalog, ServiceInfo, ServicePortInfo } from '../catalog/types.js';
import { hostCidr, hostPort } from './addresses.js';
import { hostnamesWithPorts, mountPointFor, outboundClusterName, qualifiedHostnames, ruleName } from './names.js';
import { pluginsFor } from './plugin-configs.js';
import { backingIdentities, podIdentity, reachableIdentities } from './smi-outbound.js';
import { retryEnabled, retryPolicyFor } from './retry.js';
import { cachedSection } from './section-cache.js';
import type { OutboundScope } from './scope.js';
import { applySplit, splitBackends } from './traffic-split.js';
import { referencedClusters, routesFor } from './traffic-policy.js';
import { outlierDetectionFor, requestTimeoutsFor } from './upstream-policies.js';
import type { ClusterConfig, OutboundTrafficMatch, ProxySnapshot } from './types.js';
import { connectionSettingsFor } from './upstream-traffic.js';

/**
 * The names a client in `clientNamespace` may use for a service. The bare `svc` resolves through the
 * cluster DNS search path only inside the service's own namespace, so it is offered only there; every
 * other name carries the namespace, so names of different services on one port never collide.
 */
export function outboundHostnames(svc: ServiceInfo, clientNamespace: string): string[] {
  const names = qualifiedHostnames(svc.namespace, svc.name);
  return svc.namespace === clientNamespace ? [svc.name, ...names] : names;
}

/**
 * The upstream cluster of a service port. With `reachable` (SMI mode), only endpoints whose pod holds
 * a reachable identity are kept (FSM §2.5 intersects the service's endpoints with the allowed
 * identities'). `ServiceIdentities` lists the identities of the kept endpoints' pods, so outbound mTLS
 * can check the server holds one of them.
 */
function clusterConfigFor(catalog: Catalog, port: ServicePortInfo, reachable: ReadonlySet<string> | undefined): ClusterConfig {
  const Endpoints: ClusterConfig['Endpoints'] = {};
  const identities = new Set<string>();
  for (const ep of port.endpoints) {
    const identity = podIdentity(catalog, port.namespace, ep.podName);
    if (identity === undefined || (reachable && !reachable.has(identity))) continue;
    Endpoints[hostPort(ep.ip, ep.port)] = { Weight: 100 };
    identities.add(identity);
  }
  const settings = connectionSettingsFor(catalog, port.namespace, port.name);
  return { Endpoints, ServiceIdentities: [...identities].sort(byString), ...(settings ? { ConnectionSettings: settings } : {}) };
}

const PROTOCOL_ORDER: Record<AppProtocol, number> = { http: 0, grpc: 1, tcp: 2 };

/** Matches that name destination ranges first (more specific), then http, grpc, tcp, then by rule name. */
function compareMatches(a: OutboundTrafficMatch, b: OutboundTrafficMatch): number {
  const ar = a.DestinationIPRanges ? 0 : 1;
  const br = b.DestinationIPRanges ? 0 : 1;
  return (
    ar - br ||
    PROTOCOL_ORDER[a.Protocol] - PROTOCOL_ORDER[b.Protocol] ||
    byString(firstRule(a), firstRule(b))
  );
}

function firstRule(m: OutboundTrafficMatch): string {
  return Object.keys(m.TcpServiceRouteRules ?? m.HttpServiceRouteRules ?? {}).sort(byString)[0] ?? '';
}

/** Everything about the client proxy the Outbound section depends on (and is cached by). */
export interface OutboundClient {
  namespace: string;
  /** `sa.ns` */
  identity: string;
  mounted: Record<'outbound-http' | 'outbound-tcp', ReadonlySet<string>>;
  /** the Services this proxy gets config for (scope.ts); absent: every mesh service */
  scope?: OutboundScope;
}

/**
 * The client identity as far as its Outbound depends on it, for the section cache key (compile.ts):
 * with SMI its reachable identities pick routes and endpoints, and a Retry naming it as source adds
 * retry policies; otherwise (permissive mode, no Retry from it) nothing in Outbound reads the
 * identity, so every client of one namespace and one set of mounted plugins shares one Outbound.
 */
export function outboundIdentityKey(catalog: Catalog, identity: string): string {
  const retries = retryEnabled(catalog) && (catalog.traffic.retriesBySource.get(identity)?.length ?? 0) > 0;
  return !catalog.meshConfig.enablePermissiveTrafficPolicyMode || retries ? `id:${identity}` : 'any';
}

/**
 * Permissive mode covers every mesh service (FSM's ListOutboundServicesForIdentity), or those of the
 * client's scope (scope.ts: with SMI, services backed by a reachable identity; with a networking
 * Sidecar, those its egress hosts name). A service outside the scope has no match: the sidecar
 * refuses it as an unknown destination, and `Dns` lacks it too, so it never leaves as egress. All HTTP
 * services on one port share one match and the Host header picks the service (gRPC likewise, in a match of its
 * own); each TCP service gets its own match, picked by destination IP.
 */
export function buildOutbound(catalog: Catalog, client: OutboundClient): ProxySnapshot['Outbound'] {
  const { namespace: clientNamespace, identity, mounted, scope } = client;
  const byPort = new Map<number, OutboundTrafficMatch[]>();
  const shared = new Map<string, OutboundTrafficMatch>(); // `${port}/${protocol}` → http or grpc match
  const ClustersConfigs: Record<string, ClusterConfig> = {};
  // Depends only on the client identity, which is part of the section cache key in this mode (compile.ts).
  const reachable = catalog.meshConfig.enablePermissiveTrafficPolicyMode ? undefined : reachableIdentities(catalog, identity);
  for (const svc of scope ? scope.meshServices : catalog.meshServices) {
    const rule = ruleName(svc.namespace, svc.name);
    const destinationIdentities = reachable ? backingIdentities(catalog, svc) : undefined;
    for (const port of svc.ports) {
      let match: OutboundTrafficMatch;
      if (port.protocol === 'tcp') {
        match = { Port: port.port, Protocol: 'tcp' };
        push(byPort, port.port, match);
      } else {
        const key = `${port.port}/${port.protocol}`;
        let m = shared.get(key);
        if (!m) {
          m = { Port: port.port, Protocol: port.protocol };
          shared.set(key, m);
          push(byPort, port.port, m);
        }
        match = m;
      }
      if (svc.clusterIP) (match.DestinationIPRanges ??= {})[hostCidr(svc.clusterIP)] = null;
      const cluster = outboundClusterName(svc.namespace, svc.name, port.port);
      const granted = routesFor(catalog, {
        direction: 'outbound',
        identity,
        service: port,
        cluster,
        ...(destinationIdentities ? { destinationIdentities } : {}),
      });
      const backends = splitBackends(catalog, svc, port);
      const routes = backends ? applySplit(granted, cluster, backends) : granted;
      const plugins = pluginsFor(catalog, mounted[mountPointFor('outbound', port.protocol)], svc.namespace, svc.name);
      if (port.protocol === 'tcp') {
        match.TcpServiceRouteRules = { [rule]: { TargetClusters: routes.tcpTargets, ...(plugins ? { Plugins: plugins } : {}) } };
      } else {
        const hosts = (match.HttpHostPort2Service ??= {});
        for (const host of hostnamesWithPorts(outboundHostnames(svc, clientNamespace), port.port)) hosts[host] = { RuleName: rule };
        const timeouts = requestTimeoutsFor(catalog, svc.namespace, svc.name);
        (match.HttpServiceRouteRules ??= {})[rule] = { RouteRules: routes.http, ...(plugins ? { Plugins: plugins } : {}), ...(timeouts ? { RequestTimeouts: timeouts } : {}) };
      }
      for (const c of referencedClusters(routes)) {
        const backing = c === cluster ? port : backends?.get(c)?.port;
        if (!backing) continue;
        ClustersConfigs[c] = reachable ? clientClusterConfig(catalog, backing, identity, reachable) : sharedClusterConfig(catalog, c, backing, identity);
      }
    }
  }
  const TrafficMatches: Record<string, OutboundTrafficMatch[]> = {};
  for (const [port, matches] of [...byPort].sort((a, b) => a[0] - b[0])) TrafficMatches[String(port)] = matches.sort(compareMatches);
  return { TrafficMatches, ClustersConfigs, ...(scope ? { Scope: scope.marker } : {}) };
}

/** A cluster whose endpoints are filtered by what this client may reach (SMI): built per client. */
function clientClusterConfig(catalog: Catalog, backing: ServicePortInfo, identity: string, reachable: ReadonlySet<string>): ClusterConfig {
  const config = clusterConfigFor(catalog, backing, reachable);
  // HTTP only: retries and ejections act on requests and their answers
  if (backing.protocol !== 'tcp') Object.assign(config, upstreamPolicies(catalog, identity, backing.namespace, backing.name));
  return config;
}

/**
 * A cluster every client sees alike (endpoints unfiltered): built once per catalog and shared, frozen,
 * by every Outbound naming it; only a client's own retry policy makes a copy. The cluster name
 * determines the backing service port, so it is the whole key.
 */
function sharedClusterConfig(catalog: Catalog, cluster: string, backing: ServicePortInfo, identity: string): ClusterConfig {
  const shared = cachedSection(catalog, `cluster\u0000${cluster}`, (): ClusterConfig => {
    const config = clusterConfigFor(catalog, backing, undefined);
    const outlier = backing.protocol !== 'tcp' ? outlierDetectionFor(catalog, backing.namespace, backing.name) : undefined;
    return outlier ? { ...config, OutlierDetection: outlier } : config;
  });
  const retry = backing.protocol !== 'tcp' ? retryPolicyFor(catalog, identity, backing.namespace, backing.name) : undefined;
  return retry ? { ...shared, RetryPolicy: retry } : shared;
}

/** Retry (per client) and outlier detection of the cluster of Service `namespace/name`; only what applies. */
function upstreamPolicies(catalog: Catalog, client: string, namespace: string, name: string): Partial<ClusterConfig> {
  const retry = retryPolicyFor(catalog, client, namespace, name);
  const outlier = outlierDetectionFor(catalog, namespace, name);
  return { ...(outlier ? { OutlierDetection: outlier } : {}), ...(retry ? { RetryPolicy: retry } : {}) };
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
