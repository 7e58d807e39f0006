/** Builds the catalog: indexes over one store revision, computed once and shared by every proxy's compile. */
import type { AccessControl } from '../api/policy-types.js';
import type { Namespace, Plugin, PluginChain, PluginConfig, Pod, Resource, Service } from '../api/types.js';
import { MONITORED_BY_LABEL } from '../api/types.js';
import { findMeshConfig, resolveMeshConfig } from './mesh-config.js';
import { PodIndex } from './pod-index.js';
import { indexPluginConfigs } from './plugin-index.js';
import { PROXY_UUID_LABEL, byString, isProxyPod, keyOf, podIP, podKey, podNamespace } from './pods.js';
import { buildServiceInfo } from './services.js';
import { buildIstioPolicies } from './istio.js';
import { indexUpstreamTrafficSettings } from './upstream-traffic.js';
import { buildSmiPolicy } from './smi.js';
import { buildTrafficPolicies } from './traffic.js';
import type { Catalog, CompileInput, NamespaceInfo, ProxyRef, ServiceInfo } from './types.js';

function byKey(a: { metadata: { namespace?: string; name: string } }, b: { metadata: { namespace?: string; name: string } }): number {
  return byString(keyOf(a.metadata.namespace ?? '', a.metadata.name), keyOf(b.metadata.namespace ?? '', b.metadata.name));
}

export function buildCatalog(input: CompileInput): Catalog {
  const { meshName } = input;
  const namespaceObjs: Namespace[] = [];
  const podObjs: Pod[] = [];
  const serviceObjs: Service[] = [];
  const pluginObjs: Plugin[] = [];
  const chains: PluginChain[] = [];
  const configs: PluginConfig[] = [];
  const accessControls: AccessControl[] = [];
  // one pass over the input: each kind the catalog indexes into its list, in input order
  const byKind = new Map<string, Resource[]>([
    ['Namespace', namespaceObjs],
    ['Pod', podObjs],
    ['Service', serviceObjs],
    ['Plugin', pluginObjs],
    ['PluginChain', chains],
    ['PluginConfig', configs],
    ['AccessControl', accessControls],
  ]);
  for (const r of input.resources) byKind.get(r.kind)?.push(r);
  // by name; a later Plugin of the same name replaces an earlier one
  const plugins = new Map<string, Plugin>();
  for (const p of pluginObjs) plugins.set(p.metadata.name, p);

  const namespaces = new Map<string, NamespaceInfo>();
  for (const ns of namespaceObjs) {
    const labels = ns.metadata.labels ?? {};
    namespaces.set(ns.metadata.name, {
      name: ns.metadata.name,
      labels,
      annotations: ns.metadata.annotations ?? {},
      meshed: labels[MONITORED_BY_LABEL] === meshName,
    });
  }

  const pods = new Map<string, Pod>();
  for (const pod of podObjs) pods.set(podKey(pod), pod);

  const index = new PodIndex(pods.values());
  const services: ServiceInfo[] = [];
  const meshServicesByPod = new Map<string, ServiceInfo[]>();
  for (const svc of [...serviceObjs].sort(byKey)) {
    const ns = svc.metadata.namespace ?? 'default';
    const meshed = namespaces.get(ns)?.meshed ?? false;
    const selected = index.select(ns, svc.spec?.selector);
    const info = buildServiceInfo(svc, selected, meshed);
    services.push(info);
    if (!meshed) continue;
    for (const key of info.selectedPods) {
      let list = meshServicesByPod.get(key);
      if (!list) meshServicesByPod.set(key, (list = []));
      list.push(info);
    }
  }

  const proxies: ProxyRef[] = [];
  for (const pod of [...pods.values()].sort(byKey)) {
    if (!isProxyPod(pod)) continue;
    // Meshes may share an API (one installed beside the local mesh): another mesh's sidecars are
    // its controller's, neither served nor trusted by this mesh's.
    const owner = namespaces.get(podNamespace(pod))?.labels[MONITORED_BY_LABEL];
    if (owner !== undefined && owner !== meshName) continue;
    const ref: ProxyRef = {
      namespace: podNamespace(pod),
      name: pod.metadata.name,
      uuid: pod.metadata.labels![PROXY_UUID_LABEL]!,
    };
    const ip = podIP(pod);
    if (ip) ref.ip = ip;
    proxies.push(ref);
  }

  const meshConfig = resolveMeshConfig(findMeshConfig(input.resources, meshName)?.spec);
  return {
    meshName,
    meshConfig,
    namespaces,
    pods,
    services,
    meshServices: services.filter((s) => s.meshed),
    meshServicesByPod,
    plugins,
    pluginChains: chains.sort(byKey),
    pluginConfigByTarget: indexPluginConfigs(configs),
    pluginSources: input.pluginSources,
    proxies,
    smi: buildSmiPolicy(input.resources),
    accessControls: meshConfig.enableAccessControlPolicy ? accessControls.sort(byKey) : [],
    istio: buildIstioPolicies(input.resources),
    upstreamTrafficSettings: indexUpstreamTrafficSettings(input.resources),
    traffic: buildTrafficPolicies(input.resources),
  };
}

/** Every meshed pod (label `fsm-proxy-uuid`), sorted by namespace then name. */
export function listProxies(catalog: Catalog): ProxyRef[] {
  return catalog.proxies.map((p) => ({ ...p }));
}
