/** The sidecar injection decision and patch, as FSM's mutating webhook makes them at pod creation. */
import { randomUUID } from 'node:crypto';
import type { Namespace, Pod } from '../../api/types.js';
import { MONITORED_BY_LABEL, SIDECAR_INJECTION_ANNOTATION } from '../../api/types.js';
import { PROXY_UUID_LABEL } from '../layout.js';
import { IGNORE_NAMESPACE_LABEL, SIDECAR_CONTAINER_NAME, SIDECAR_IMAGE } from './well-known.js';

const ENABLED = new Set(['enabled', 'yes', 'true']);
const NEVER_INJECTED = new Set(['kube-system', 'kube-public']);

/**
 * FSM's rule: only namespaces monitored by this mesh (not ignored, not the control plane's own);
 * a pod annotation decides when present, otherwise the namespace annotation does.
 */
export function wantsSidecar(namespace: Namespace | undefined, podAnnotations: Record<string, string> | undefined, meshName: string): boolean {
  if (!namespace) return false;
  const nsName = namespace.metadata.name;
  if (nsName === `${meshName}-system` || NEVER_INJECTED.has(nsName)) return false;
  const labels = namespace.metadata.labels ?? {};
  if (labels[MONITORED_BY_LABEL] !== meshName || IGNORE_NAMESPACE_LABEL in labels) return false;
  const podChoice = podAnnotations?.[SIDECAR_INJECTION_ANNOTATION];
  if (podChoice !== undefined) return ENABLED.has(podChoice.toLowerCase());
  return ENABLED.has((namespace.metadata.annotations?.[SIDECAR_INJECTION_ANNOTATION] ?? '').toLowerCase());
}

/** Adds the proxy UUID label and the sidecar container (mutates the pod being built). */
export function injectSidecar(pod: Pod): void {
  pod.metadata.labels = { ...pod.metadata.labels, [PROXY_UUID_LABEL]: randomUUID() };
  pod.spec!.containers = [...pod.spec!.containers, { name: SIDECAR_CONTAINER_NAME, image: SIDECAR_IMAGE }];
}

export function hasSidecar(pod: Pod): boolean {
  return (pod.spec?.containers ?? []).some((c) => c.name === SIDECAR_CONTAINER_NAME);
}
