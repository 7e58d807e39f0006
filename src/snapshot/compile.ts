/** Compiles one proxy's snapshot from the catalog, section by section. */
import { isProxyPod, keyOf, podIP, podNamespace, serviceIdentityOf } from '../catalog/pods.js';
import type { Pod } from '../api/types.js';
import type { Catalog } from '../catalog/types.js';
import { buildAccessLog } from './access-log.js';
import { buildChains } from './chains.js';
import { buildDns, buildServiceIPs } from './dns.js';
import { buildInbound } from './inbound.js';
import { buildOutbound } from './outbound.js';
import { outboundIdentityKey, type OutboundClient } from './outbound.js';
import { outboundScope } from './scope.js';
import { cachedSection, setKey } from './section-cache.js';
import { buildAllowedEndpoints, buildPodIdentity, buildSpec, metricsEnabled } from './spec.js';
import type { ProxySnapshot } from './types.js';

/**
 * What a proxy's shared sections are looked up by. The control plane keeps it beside the snapshot:
 * when a change leaves the proxy's own sections alone (see control-plane/affected.ts), its new
 * snapshot is its old one with the shared sections of the new catalog (sharedSections), without
 * compiling the proxy again. The pod is kept, not its scope: what a Sidecar's egress hosts or the
 * SMI targets reach is looked up again in each catalog (a new Service in `./*` joins the scope).
 */
export interface SharedSectionKeys {
  pod: Pod;
  client: Omit<OutboundClient, 'scope'>;
}

/**
 * The sections many proxies share, memoized per catalog: Outbound by the client's namespace,
 * plugins, scope and (only with SMI or a Retry from it) identity; Dns by the scope; the others per
 * catalog.
 */
export function sharedSections(catalog: Catalog, keys: SharedSectionKeys): Pick<ProxySnapshot, 'Outbound' | 'AllowedEndpoints' | 'Dns' | 'ServiceIPs'> {
  const scope = outboundScope(catalog, keys.pod, keys.client.identity);
  const client: OutboundClient = { ...keys.client, ...(scope ? { scope } : {}) };
  const outboundKey = [
    'outbound', client.namespace, outboundIdentityKey(catalog, client.identity), scope?.key ?? 'all',
    setKey(client.mounted['outbound-http']), setKey(client.mounted['outbound-tcp']),
  ].join('\u0000');
  return {
    Outbound: cachedSection(catalog, outboundKey, () => buildOutbound(catalog, client)),
    AllowedEndpoints: cachedSection(catalog, 'allowed-endpoints', () => buildAllowedEndpoints(catalog)),
    Dns: scope ? cachedSection(catalog, `dns\u0000${scope.key}`, () => buildDns(catalog, scope.services)) : cachedSection(catalog, 'dns', () => buildDns(catalog)),
    // Whole even when scoped: it is how the sidecar tells a Service's address outside the scope
    // from an external one it would send out as egress. With egress off an unknown address is
    // refused anyway, so then it follows the scope too.
    ServiceIPs:
      scope && !catalog.meshConfig.enableEgress
        ? cachedSection(catalog, `service-ips\u0000${scope.key}`, () => buildServiceIPs(catalog, scope.services))
        : cachedSection(catalog, 'service-ips', () => buildServiceIPs(catalog)),
  };
}

/**
 * The snapshot of the sidecar of pod `namespace/name`. Undefined when the pod is unknown, is not a
 * proxy (no `fsm-proxy-uuid` label), or has no IP yet (its allow-list entry and inbound would be
 * incomplete; the control plane compiles again when the IP arrives).
 *
 * Sections shared between proxies (Outbound, AllowedEndpoints, Dns) are computed once per catalog and
 * frozen; treat a snapshot as read-only.
 */
export function compileProxySnapshot(catalog: Catalog, proxy: { namespace: string; name: string }): ProxySnapshot | undefined {
  return compileProxy(catalog, proxy)?.snapshot;
}

/** compileProxySnapshot, with the keys its shared sections were looked up by. */
export function compileProxy(catalog: Catalog, proxy: { namespace: string; name: string }): { snapshot: ProxySnapshot; shared: SharedSectionKeys } | undefined {
  const pod = catalog.pods.get(keyOf(proxy.namespace, proxy.name));
  if (!pod || !isProxyPod(pod)) return undefined;
  const ip = podIP(pod);
  if (!ip) return undefined;
  const chains = buildChains(catalog, pod);
  // Outbound depends on the client's namespace (the bare service names it may use), its mounted
  // plugins, its scope and, only with SMI or a Retry from it, its identity (sharedSections).
  // Inbound is not cached, UDP's IdentityByIP is per catalog.
  const shared: SharedSectionKeys = {
    pod,
    client: {
      namespace: podNamespace(pod),
      identity: serviceIdentityOf(pod),
      mounted: { 'outbound-http': chains.mounted['outbound-http'], 'outbound-tcp': chains.mounted['outbound-tcp'] },
    },
  };
  const { Outbound, AllowedEndpoints, Dns, ServiceIPs } = sharedSections(catalog, shared);
  const accessLog = buildAccessLog(catalog, pod);
  const snapshot: ProxySnapshot = {
    Metrics: metricsEnabled(catalog, pod),
    Spec: buildSpec(catalog, pod),
    Pod: buildPodIdentity(pod, ip),
    Inbound: buildInbound(catalog, pod, chains),
    Outbound,
    AllowedEndpoints,
    Chains: chains.Chains,
    PluginScripts: chains.PluginScripts,
    Dns,
    ServiceIPs,
    ...(accessLog ? { AccessLog: accessLog } : {}),
  };
  return { snapshot, shared };
}
