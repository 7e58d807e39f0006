/** Compiles one proxy's snapshot from the catalog, section by section. */
import { isProxyPod, keyOf, podIP, podNamespace, serviceIdentityOf } from '../catalog/pods.js';
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
 * The snapshot of the sidecar of pod `namespace/name`. Undefined when the pod is unknown, is not a
 * proxy (no `fsm-proxy-uuid` label), or has no IP yet (its allow-list entry and inbound would be
 * incomplete; the control plane compiles again when the IP arrives).
 *
 * Sections shared between proxies (Outbound, AllowedEndpoints, Dns) are computed once per catalog and
 * frozen; treat a snapshot as read-only.
 */
export function compileProxySnapshot(catalog: Catalog, proxy: { namespace: string; name: string }): ProxySnapshot | undefined {
  const pod = catalog.pods.get(keyOf(proxy.namespace, proxy.name));
  if (!pod || !isProxyPod(pod)) return undefined;
  const ip = podIP(pod);
  if (!ip) return undefined;
  const chains = buildChains(catalog, pod);
  const identity = serviceIdentityOf(pod);
  const scope = outboundScope(catalog, pod, identity);
  const client: OutboundClient = {
    namespace: podNamespace(pod),
    identity,
    mounted: { 'outbound-http': chains.mounted['outbound-http'], 'outbound-tcp': chains.mounted['outbound-tcp'] },
    ...(scope ? { scope } : {}),
  };
  // Outbound depends on the client's namespace (the bare service names it may use), its mounted
  // plugins, its scope (what decided it: the Sidecar, with SMI the identity) and, only with SMI or
  // a Retry from it, its identity: clients alike in these share one Outbound. Dns depends on the
  // scope alone. Inbound is not cached, UDP's IdentityByIP is per catalog.
  const scopeKey = scope?.key ?? 'all';
  const outboundKey = ['outbound', client.namespace, outboundIdentityKey(catalog, identity), scopeKey, setKey(client.mounted['outbound-http']), setKey(client.mounted['outbound-tcp'])].join('\u0000');
  const accessLog = buildAccessLog(catalog, pod);
  return {
    Metrics: metricsEnabled(catalog, pod),
    Spec: buildSpec(catalog, pod),
    Pod: buildPodIdentity(pod, ip),
    Inbound: buildInbound(catalog, pod, chains),
    Outbound: cachedSection(catalog, outboundKey, () => buildOutbound(catalog, client)),
    AllowedEndpoints: cachedSection(catalog, 'allowed-endpoints', () => buildAllowedEndpoints(catalog)),
    Chains: chains.Chains,
    PluginScripts: chains.PluginScripts,
    Dns: scope ? cachedSection(catalog, `dns\u0000${scope.key}`, () => buildDns(catalog, scope.services)) : cachedSection(catalog, 'dns', () => buildDns(catalog)),
    // Whole even when scoped: it is how the sidecar tells a Service's address outside the scope
    // from an external one it would send out as egress. With egress off an unknown address is
    // refused anyway, so then it follows the scope too.
    ServiceIPs:
      scope && !catalog.meshConfig.enableEgress
        ? cachedSection(catalog, `service-ips\u0000${scope.key}`, () => buildServiceIPs(catalog, scope.services))
        : cachedSection(catalog, 'service-ips', () => buildServiceIPs(catalog)),
    ...(accessLog ? { AccessLog: accessLog } : {}),
  };
}
