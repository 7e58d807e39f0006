/** Small facts about a Pod resource: its key, IP, readiness, service account and identity. */
import type { Pod, PodSpec } from '../api/types.js';
import { PROXY_UUID_LABEL } from '../local/layout.js';

export { PROXY_UUID_LABEL };

/**
 * Pod annotation naming the address the pod's apps listen on, in local mode (each pod has its own
 * loopback address pair, see local/layout.ts). On Kubernetes the app shares the sidecar's network
 * namespace and the annotation is absent, so the inbound cluster targets 127.0.0.1.
 */
export const APP_ADDRESS_ANNOTATION = 'local.tessera.dev/app-address';

export function keyOf(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

export function podKey(pod: Pod): string {
  return keyOf(pod.metadata.namespace ?? 'default', pod.metadata.name);
}

export function podNamespace(pod: Pod): string {
  return pod.metadata.namespace ?? 'default';
}

export function podIP(pod: Pod): string | undefined {
  return pod.status?.podIP || pod.status?.podIPs?.[0]?.ip || undefined;
}

export function isPodReady(pod: Pod): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Succeeded and Failed pods no longer own their IP: it may already belong to a new pod. */
export function isPodTerminated(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

export function serviceAccountOf(pod: Pod): string {
  return (pod.spec as PodSpec | undefined)?.serviceAccountName || 'default';
}

/** FSM's service identity `sa.ns`. */
export function serviceIdentityOf(pod: Pod): string {
  return `${serviceAccountOf(pod)}.${podNamespace(pod)}`;
}

export function isProxyPod(pod: Pod): boolean {
  return Object.prototype.hasOwnProperty.call(pod.metadata.labels ?? {}, PROXY_UUID_LABEL);
}

/** The containerPort named `name` in this pod, as Kubernetes resolves a named targetPort. */
export function namedContainerPort(pod: Pod, name: string, protocol: 'TCP' | 'UDP' = 'TCP'): number | undefined {
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) {
      if (p.name === name && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
    }
  }
  return undefined;
}

export function byString(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
