/** Builds the proxy-wide sections: Spec, Metrics, Pod and the AllowedEndpoints allow-list. */
import { PATH_NORMALIZATION_MODES, type MeshConfigSpec, type Pod } from '../api/types.js';
import { isPodTerminated, podIP, podNamespace, serviceAccountOf, serviceIdentityOf } from '../catalog/pods.js';
import type { Catalog } from '../catalog/types.js';
import type { ProxyIdentity, ProxySnapshot } from './types.js';

export const METRICS_ANNOTATION = 'flomesh.io/metrics';

export function buildSpec(catalog: Catalog, pod: Pod): ProxySnapshot['Spec'] {
  const mc = catalog.meshConfig;
  return {
    ServiceIdentity: serviceIdentityOf(pod),
    SidecarLogLevel: mc.sidecarLogLevel,
    SidecarTimeout: mc.sidecarTimeout,
    Traffic: {
      EnableEgress: mc.enableEgress,
      // only when set, so the snapshots of meshes that never name a tunnel keep their shape
      ...(mc.outboundConnectAllowList.length > 0 ? { OutboundConnectAllowList: [...mc.outboundConnectAllowList].sort() } : {}),
      HTTP1PerRequestLoadBalancing: mc.http1PerRequestLoadBalancing,
      HTTP2PerRequestLoadBalancing: mc.http2PerRequestLoadBalancing,
    },
    FeatureFlags: {
      EnableSidecarActiveHealthChecks: mc.enableSidecarActiveHealthChecks,
      EnableAutoDefaultRoute: mc.enableAutoDefaultRoute,
      EnablePluginPolicy: mc.enablePluginPolicy,
    },
    SidecarDisabledMTLS: mc.spec.sidecar?.['sidecarDisabledMTLS'] === true,
    ...pathNormalization(mc.spec.pathNormalization),
  };
}

/** Only when the MeshConfig sets it, so snapshots of meshes that do not stay as they were. */
function pathNormalization(pn: MeshConfigSpec['pathNormalization']): Pick<ProxySnapshot['Spec'], 'PathNormalization'> {
  if (pn === undefined || pn === null || typeof pn !== 'object') return {};
  const mode = pn.normalization;
  return {
    PathNormalization: {
      Normalization: mode !== undefined && mode !== 'DEFAULT' && (PATH_NORMALIZATION_MODES as readonly string[]).includes(mode) ? mode : 'DECODE_AND_MERGE_SLASHES',
      LowerCase: pn.caseInsensitive === true,
      StripPathParameters: pn.stripPathParameters === true,
      ...(pn.stripTrailingSlash === true ? { StripTrailingSlash: true as const } : {}),
    },
  };
}

/** True when the pod's namespace is annotated `flomesh.io/metrics: enabled`, as in FSM. */
export function metricsEnabled(catalog: Catalog, pod: Pod): boolean {
  return catalog.namespaces.get(podNamespace(pod))?.annotations[METRICS_ANNOTATION] === 'enabled';
}

export function buildPodIdentity(pod: Pod, ip: string): ProxyIdentity {
  return {
    Name: pod.metadata.name,
    Namespace: podNamespace(pod),
    ServiceAccount: serviceAccountOf(pod),
    IP: ip,
    UID: pod.metadata.uid ?? '',
    Labels: { ...(pod.metadata.labels ?? {}) },
  };
}

/**
 * The inbound allow-list: pod IP → `ns.podName` of every meshed pod with an IP. Terminated pods are
 * left out because their IP may already be handed to a new pod; if two live pods claim one IP, the
 * first by namespace/name keeps it.
 */
export function buildAllowedEndpoints(catalog: Catalog): ProxySnapshot['AllowedEndpoints'] {
  const out: ProxySnapshot['AllowedEndpoints'] = {};
  for (const ref of catalog.proxies) {
    const pod = catalog.pods.get(`${ref.namespace}/${ref.name}`);
    const ip = pod && podIP(pod);
    if (!pod || !ip || isPodTerminated(pod) || ip in out) continue;
    out[ip] = `${ref.namespace}.${ref.name}`;
  }
  return out;
}
