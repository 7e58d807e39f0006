/** The pure control-plane core: catalog in, one canonical, versioned snapshot per proxy out. */
export type * from './types.js';
export type {
  Catalog,
  CompileInput,
  PluginSource,
  ProxyRef,
  ResolvedMeshConfig,
  ServiceInfo,
  ServicePortInfo,
} from '../catalog/types.js';
export { buildCatalog, listProxies } from '../catalog/build.js';
export { compileProxySnapshot } from './compile.js';
export { canonicalJson, contentHash, snapshotVersion } from './canonical.js';
export { snapshotJson, versionedSnapshotJson } from './wire-json.js';
export { BUILTIN_CHAINS, defaultMeshConfigSpec, mergeMeshConfigSpec } from './defaults.js';
export { applyTrafficTargets } from './traffic-policy.js';
export { compileProxy, sharedSections, type SharedSectionKeys } from './compile.js';
export { treeHash, versionOfSectionHashes } from './canonical.js';
export { applyDelta, buildHashTree, DELTAS_HEADER, DeltaError, encodeDelta, holdSnapshot, parseDelta, type HeldSnapshot, type SnapshotDelta } from './delta.js';
