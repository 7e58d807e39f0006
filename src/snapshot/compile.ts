/** Compiles one proxy's snapshot from the catalog, section by section. */
import { isProxyPod, keyOf, podIP, podNamespace, serviceIdentityOf } from '../catalog/pods.js';
import type { Catalog } from '../catalog/types.js';
import { buildAccessLog } from './access-log.js';
import { buildChains } from './chains.js';
import { buildDns, buildServiceIPs } from './dns.js';
import { buildInbound } from './inbound.js';
import { buildOutbound } from './outbound.js';
import { outboundIdentityKey, type OutboundClient } from './outbound.js';
import { cachedSection, setKey } from './section-cache.js';
import { buildAllowedEndpoints, buildPodIdentity, buildSpec, metricsEnabled } from './spec.js';
import type { ProxySnapshot } from './types.js';

/**
 * What a proxy's shared sections are looked up by. The control plane keeps it beside the snapshot:
 * when a change leaves the proxy's own sections alone (see control-plane/affected.ts), its new
 * snapshot is its old one with the shared sections of the new catalog (sharedSections), without
 * compiling the proxy again.
 */
export interface SharedSectionKeys {
  outboundKey: string;
  client: OutboundClient;
}

/** The sections many proxies share, memoized per catalog: Outbound by the client's key, the others per catalog. */
export function sharedSections(catalog: Catalog, keys: SharedSectionKeys): Pick<ProxySnapshot, 'Outbound' | 'AllowedEndpoints' | 'Dns' | 'ServiceIPs'> {
  return {
    Outbound: cachedSection(catalog, keys.outboundKey, () => buildOutbound(catalog, keys.client)),
    AllowedEndpoints: cachedSection(catalog, 'allowed-endpoints', () => buildAllowedEndpoints(catalog)),
    Dns: cachedSection(catalog, 'dns', () => buildDns(catalog)),
    ServiceIPs: cachedSection(catalog, 'service-ips', () => buildServiceIPs(catalog)),
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
  const client: OutboundClient = {
    namespace: podNamespace(pod),
    identity: serviceIdentityOf(pod),
    mounted: { 'outbound-http': chains.mounted['outbound-http'], 'outbound-tcp': chains.mounted['outbound-tcp'] },
  };
  // Outbound depends on the client's namespace (the bare service names it may use), its mounted
  // plugins and, only with SMI or a Retry from it, its identity: clients alike in these share one
  // Outbound. Inbound is not cached, UDP's IdentityByIP is per catalog.
  const outboundKey = ['outbound', client.namespace, outboundIdentityKey(catalog, client.identity), setKey(client.mounted['outbound-http']), setKey(client.mounted['outbound-tcp'])].join('\u0000');
  const shared = { outboundKey, client };
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
