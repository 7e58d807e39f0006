/** Compiles one proxy's snapshot from the catalog, section by section. */
import { isProxyPod, keyOf, podIP } from '../catalog/pods.js';
import type { Catalog } from '../catalog/types.js';
import { buildChains } from './chains.js';
import { buildDns } from './dns.js';
import { buildInbound } from './inbound.js';
import { buildOutbound } from './outbound.js';
import { buildAllowedEndpoints, buildPodIdentity, buildSpec, metricsEnabled } from './spec.js';
import type { ProxySnapshot } from './types.js';

/**
 * The snapshot of the sidecar of pod `namespace/name`. Undefined when the pod is unknown, is not a
 * proxy (no `fsm-proxy-uuid` label), or has no IP yet (its allow-list entry and inbound would be
 * incomplete; the control plane compiles again when the IP arrives).
 */
export function compileProxySnapshot(catalog: Catalog, proxy: { namespace: string; name: string }): ProxySnapshot | undefined {
  const pod = catalog.pods.get(keyOf(proxy.namespace, proxy.name));
  if (!pod || !isProxyPod(pod)) return undefined;
  const ip = podIP(pod);
  if (!ip) return undefined;
  const chains = buildChains(catalog, pod);
  return {
    Metrics: metricsEnabled(catalog, pod),
    Spec: buildSpec(catalog, pod),
    Pod: buildPodIdentity(pod, ip),
    Inbound: buildInbound(catalog, pod, chains),
    Outbound: buildOutbound(catalog, pod, chains),
    AllowedEndpoints: buildAllowedEndpoints(catalog),
    Chains: chains.Chains,
    PluginScripts: chains.PluginScripts,
    Dns: buildDns(catalog),
  };
}
