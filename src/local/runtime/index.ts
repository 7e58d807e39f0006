/** The local pod runtime (our kubelet): runs pods' containers as local processes. The only way into this folder. */
export { startSupervisor, type Supervisor, type SupervisorOptions } from './supervisor.js';
export { checkPodImages, registerImageRuntime, runtimeFor, imageRuntimeNames } from './images.js';
import './pipy-runtime.js'; // registers the flomesh/pipy image runtime
export { reapStale, isOurs } from './reap.js';
export { startTokenSecretController } from './token-secrets.js';
export { SIDECAR_IMAGE, CONTROLLER_IMAGE, INJECTOR_IMAGE, BOOTSTRAP_IMAGE, SIDECAR_CONTAINER, imageName } from './builtin-runtimes.js';
export { STATE_DIR_ENV } from './processes.js';
export { httpOk } from './readiness.js';
export type { ContainerCommand, ContainerContext, ImageRuntime, PodShape, ReadinessCheck } from './types.js';
export { SandboxHost, runsOnHost, podInterceptionRules, serviceCidr } from './sandbox-host.js';
export {
  decidePodNetwork, podNetworkChoice, parsePodNetwork, loadPodSandbox, loadMeshNetwork, withoutProxyVariables, LOOPBACK_WARNINGS,
  POD_NETWORK_ENV, APP_UID, SIDECAR_UID, type PodNetwork, type PodNetworkChoice, type PodNetworkDecision,
} from './pod-network.js';
