/**
 * The sidecar injection decision and patch, as FSM's webhook makes them (pkg/injector/webhook.go):
 * pure functions, so the rules are testable without a process.
 */
import { randomUUID } from 'node:crypto';
import type { Pod } from '../api/types.js';
import { SIDECAR_INJECTION_ANNOTATION } from '../api/types.js';
import { PROXY_UUID_LABEL } from '../local/layout.js';
import { SIDECAR_CONTAINER_NAME, SIDECAR_IMAGE } from '../local/controllers/well-known.js';
import { webhookCoversNamespace } from './namespace-selector.js';
import type { MutationResponse, NamespaceInfo } from './protocol.js';

const ENABLED = new Set(['enabled', 'yes', 'true']);
const DISABLED = new Set(['disabled', 'no', 'false']);

/** FSM refuses the pod when its (or its namespace's) injection annotation is not a yes or a no. */
export class InvalidInjectionAnnotation extends Error {
  constructor(objectKind: 'Pod' | 'Namespace', objectName: string, value: string) {
    super(`invalid annotation value for key "${SIDECAR_INJECTION_ANNOTATION}" specified for ${objectKind} '${objectName}': ${value}`);
    this.name = 'InvalidInjectionAnnotation';
  }
}

/** undefined when the annotation is absent; throws when it is neither a yes nor a no. */
function annotatedForInjection(annotations: Record<string, string> | undefined, kind: 'Pod' | 'Namespace', name: string): boolean | undefined {
  const value = annotations?.[SIDECAR_INJECTION_ANNOTATION];
  if (value === undefined) return undefined;
  const v = value.toLowerCase();
  if (ENABLED.has(v)) return true;
  if (DISABLED.has(v)) return false;
  throw new InvalidInjectionAnnotation(kind, name, value);
}

/**
 * FSM's `mustInject`: host-network pods and namespaces outside the webhook's selector never;
 * otherwise the pod's annotation decides when present, else the namespace's.
 */
export function mustInject(pod: Pod, namespace: NamespaceInfo, meshName: string): boolean {
  if ((pod.spec as { hostNetwork?: boolean } | undefined)?.hostNetwork === true) return false;
  if (!webhookCoversNamespace(namespace, meshName)) return false;
  const podChoice = annotatedForInjection(pod.metadata.annotations, 'Pod', pod.metadata.name);
  if (podChoice !== undefined) return podChoice;
  return annotatedForInjection(namespace.annotations, 'Namespace', namespace.name) === true;
}

/** Returns the pod to create: a copy with the proxy UUID label and the `sidecar` container appended, or the pod unchanged. */
export function mutatePod(pod: Pod, namespace: NamespaceInfo, meshName: string): MutationResponse {
  if (!mustInject(pod, namespace, meshName) || hasSidecar(pod)) return { pod, injected: false };
  const out = structuredClone(pod);
  out.metadata.labels = { ...out.metadata.labels, [PROXY_UUID_LABEL]: randomUUID() };
  out.spec = { ...out.spec!, containers: [...(out.spec?.containers ?? []), { name: SIDECAR_CONTAINER_NAME, image: SIDECAR_IMAGE }] };
  return { pod: out, injected: true };
}

export function hasSidecar(pod: Pod): boolean {
  return (pod.spec?.containers ?? []).some((c) => c.name === SIDECAR_CONTAINER_NAME);
}
