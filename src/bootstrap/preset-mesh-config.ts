/**
 * The mesh's preset MeshConfig — the one place its defaults live. The daemon creates it at start;
 * the bootstrap process puts it back whenever it is deleted (FSM's bootstrap owns the preset config).
 */
import type { MeshConfig } from '../api/types.js';

export const MESH_CONFIG_API_VERSION = 'config.flomesh.io/v1alpha3';

export const systemNamespace = (mesh: string): string => `${mesh}-system`;
export const meshConfigName = (mesh: string): string => `${mesh}-mesh-config`;

export function presetMeshConfig(mesh: string): MeshConfig {
  return {
    apiVersion: MESH_CONFIG_API_VERSION,
    kind: 'MeshConfig',
    metadata: { name: meshConfigName(mesh), namespace: systemNamespace(mesh) },
    spec: {
      featureFlags: { enablePluginPolicy: false },
      traffic: { enablePermissiveTrafficPolicyMode: true, enableEgress: true },
      sidecar: { logLevel: 'error' },
    },
  };
}

/** True for the mesh's own MeshConfig (not any other MeshConfig a user applied). */
export function isPresetMeshConfig(r: { kind: string; metadata: { name: string; namespace?: string } }, mesh: string): boolean {
  return r.kind === 'MeshConfig' && r.metadata.name === meshConfigName(mesh) && r.metadata.namespace === systemNamespace(mesh);
}
