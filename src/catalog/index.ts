/** The catalog: pure indexed views (services, endpoints, identities, plugin policy) over one store revision. */
export { buildCatalog, listProxies } from './build.js';
export { ACCESS_CONTROL_COMMITTED, accessControlStatuses } from './access-control-status.js';
export { findMeshConfig, meshConfigName, resolveMeshConfig } from './mesh-config.js';
export { detectProtocol, targetPortForPod } from './services.js';
export { pluginTargetKey, winningPluginConfigs } from './plugin-index.js';
export {
  APP_ADDRESS_ANNOTATION,
  PROXY_UUID_LABEL,
  isPodReady,
  isProxyPod,
  podIP,
  serviceAccountOf,
  serviceIdentityOf,
} from './pods.js';
export type * from './types.js';
