/**
 * Local pods as sandboxes: the mesh's private network, per-pod network and mount namespaces,
 * FSM's interception rules and the original destination of redirected connections.
 */
export {
  interceptionRules,
  annotationsToInterception,
  SIDECAR_ADMIN_PORT,
  SIDECAR_INBOUND_PORT,
  SIDECAR_OUTBOUND_PORT,
  SIDECAR_HEALTH_PORTS,
  ANNOTATION_INBOUND_PORT_EXCLUSION,
  ANNOTATION_OUTBOUND_PORT_EXCLUSION,
  ANNOTATION_OUTBOUND_PORT_INCLUSION,
  ANNOTATION_OUTBOUND_IP_RANGE_EXCLUSION,
  ANNOTATION_OUTBOUND_IP_RANGE_INCLUSION,
  type InterceptionOptions,
  type InterceptionAnnotations,
} from './interception.js';
export {
  sandboxSupport,
  meshSubnet,
  createMeshNetwork,
  destroyMeshNetwork,
  createPodSandbox,
  destroyPodSandbox,
  serviceHostEntries,
  writePodHosts,
  runInPod,
  runInMesh,
  dialInPod,
  ChildStream,
  applyInterception,
  SANDBOX_TOOLS,
  type SandboxMode,
  type SandboxSupport,
  type MeshNetwork,
  type MeshNetworkOptions,
  type PodSandbox,
  type PodSandboxOptions,
  type HostEntry,
  type VolumeMount,
  type RunOptions,
} from './network.js';
export { originalDestination, originalDestinationAvailable, addonPath, type OriginalDestination } from './original-dst.js';
export { initContainer, initRules, initScript, parseInitScript, INIT_CONTAINER_NAME, SIDECAR_PROXY_UID, type InitRules } from './init-step.js';
