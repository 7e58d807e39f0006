/** Names of labels, annotations and containers the local controllers set, shared with the runtime and API. */
import type { Pod } from '../../api/types.js';

/** Where a pod's app containers bind: its private local IP when a sidecar fronts it, else the pod IP. */
export const APP_ADDRESS_ANNOTATION = 'local.tessera.dev/app-address';
/** Set on a Deployment's pod template by `rollout restart` (kubectl's name), which forces a rollout. */
export const RESTARTED_AT_ANNOTATION = 'kubectl.kubernetes.io/restartedAt';
/** Kubernetes' label tying a pod to one version of its Deployment's template. */
export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';
/** FSM's label that excludes a namespace from the mesh. */
export const IGNORE_NAMESPACE_LABEL = 'flomesh.io/ignore';
export const SIDECAR_CONTAINER_NAME = 'sidecar';
export const SIDECAR_IMAGE = 'tessera/sidecar';
/** Namespace every cluster has, created by the namespace controller. */
export const DEFAULT_NAMESPACE = 'default';

/** The pod has a sidecar container (injected, or declared by hand). */
export function hasSidecar(pod: Pod): boolean {
  return (pod.spec?.containers ?? []).some((c) => c.name === SIDECAR_CONTAINER_NAME);
}
