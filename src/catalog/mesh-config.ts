/** Finds the mesh's MeshConfig and resolves it over the FSM chart defaults. */
import type { BuiltinChainEntry, MeshConfig, MeshConfigSpec, MountPoint, Resource } from '../api/types.js';
import { MOUNT_POINTS } from '../api/types.js';
import { BUILTIN_CHAINS, defaultMeshConfigSpec, mergeMeshConfigSpec } from '../snapshot/defaults.js';
import type { ResolvedMeshConfig } from './types.js';

export function meshConfigName(meshName: string): { namespace: string; name: string } {
  return { namespace: `${meshName}-system`, name: `${meshName}-mesh-config` };
}

/** The MeshConfig of this mesh among all resources, if any. */
export function findMeshConfig(resources: readonly Resource[], meshName: string): MeshConfig | undefined {
  const { namespace, name } = meshConfigName(meshName);
  return resources.find(
    (r) => r.kind === 'MeshConfig' && r.metadata.name === name && r.metadata.namespace === namespace,
  ) as MeshConfig | undefined;
}

function flag(v: unknown, fallback: boolean): boolean {
  return typeof v === 'boolean' ? v : fallback;
}

/**
 * Resolves the effective mesh configuration. A field of the wrong type (validation should have caught
 * it) falls back to its default instead of leaking into a snapshot.
 */
export function resolveMeshConfig(user: MeshConfigSpec | undefined): ResolvedMeshConfig {
  const defaults = defaultMeshConfigSpec();
  const spec = mergeMeshConfigSpec(defaults, user);
  const ff = spec.featureFlags ?? {};
  const traffic = spec.traffic ?? {};
  const sidecar = spec.sidecar ?? {};
  const builtinChains = {} as Record<MountPoint, BuiltinChainEntry[]>;
  for (const mp of MOUNT_POINTS) {
    const list = spec.pluginChains?.[mp];
    builtinChains[mp] = (Array.isArray(list) ? list : BUILTIN_CHAINS[mp]).filter(
      (e) => e && typeof e.plugin === 'string' && typeof e.priority === 'number',
    );
  }
  return {
    spec,
    enablePluginPolicy: flag(ff.enablePluginPolicy, false),
    enableAccessControlPolicy: flag(ff.enableAccessControlPolicy, true),
    enablePermissiveTrafficPolicyMode: flag(traffic.enablePermissiveTrafficPolicyMode, true),
    enableEgress: flag(traffic.enableEgress, true),
    outboundConnectAllowList: Array.isArray(traffic.outboundConnectAllowList) ? traffic.outboundConnectAllowList.filter((e) => typeof e === 'string') : [],
    http1PerRequestLoadBalancing: flag(traffic.http1PerRequestLoadBalancing, false),
    http2PerRequestLoadBalancing: flag(traffic.http2PerRequestLoadBalancing, true),
    enableSidecarActiveHealthChecks: flag(ff.enableSidecarActiveHealthChecks, false),
    enableAutoDefaultRoute: flag(ff.enableAutoDefaultRoute, false),
    enablePluginChainClusterScope: flag(ff.enablePluginChainClusterScope, false),
    sidecarLogLevel: typeof sidecar.logLevel === 'string' && sidecar.logLevel ? sidecar.logLevel : 'error',
    sidecarTimeout:
      typeof sidecar.sidecarTimeout === 'number' && Number.isFinite(sidecar.sidecarTimeout) && sidecar.sidecarTimeout > 0
        ? sidecar.sidecarTimeout
        : 60,
    builtinChains,
  };
}
