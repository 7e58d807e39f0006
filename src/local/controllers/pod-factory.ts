/**
 * Builds the Pod a Deployment asks for (name, labels, owner, address) and admits it: pods of
 * namespaces the injector webhook covers go through `<mesh>-injector`, as Kubernetes calls a
 * mutating webhook with failurePolicy Fail — no answer, no pod.
 */
import type { Deployment, Namespace, Pod } from '../../api/types.js';
import { hasSidecar } from '../../injector/mutation.js';
import { webhookCoversNamespace } from '../../injector/namespace-selector.js';
import type { NamespaceInfo } from '../../injector/protocol.js';
import { localIPFor } from '../layout.js';
import { podIPAllocator } from './address-allocation.js';
import type { InjectorClient } from './injector-client.js';
import { APP_ADDRESS_ANNOTATION, POD_TEMPLATE_HASH_LABEL } from './well-known.js';

export interface PodRequest {
  deployment: Deployment;
  name: string;
  hash: string;
  /** absent when the pod is created through the API, which gives it its address when it stores it */
  podIP?: string;
}

/** The pod as its template describes it, before admission. */
export function buildPod(req: PodRequest): Pod {
  const { deployment, hash, podIP } = req;
  const template = structuredClone(deployment.spec!.template);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: req.name,
      namespace: deployment.metadata.namespace,
      labels: { ...template.metadata?.labels, [POD_TEMPLATE_HASH_LABEL]: hash },
      annotations: { ...template.metadata?.annotations },
      ownerReferences: [{
        apiVersion: deployment.apiVersion, kind: 'Deployment', name: deployment.metadata.name, uid: deployment.metadata.uid!, controller: true, blockOwnerDeletion: true,
      }],
    },
    // Kubernetes defaults the service account; the pod's identity (sa.ns) depends on it.
    spec: { ...template.spec, serviceAccountName: template.spec.serviceAccountName ?? 'default' },
    status: podIP ? { phase: 'Pending', podIP, podIPs: [{ ip: podIP }] } : { phase: 'Pending' },
  };
}

export function namespaceInfo(namespace: Namespace): NamespaceInfo {
  const { name, labels, annotations } = namespace.metadata;
  return { name, labels, annotations };
}

/** Whether creating a pod in this namespace calls the injector (its namespace selector). */
export function needsInjectorWebhook(namespace: Namespace, meshName: string): boolean {
  return webhookCoversNamespace(namespaceInfo(namespace), meshName);
}

/** With a sidecar in front, the app listens on the private twin address and the sidecar owns the pod IP. */
export function placeApp(pod: Pod): Pod {
  const podIP = pod.status!.podIP!;
  pod.metadata.annotations = { ...pod.metadata.annotations, [APP_ADDRESS_ANNOTATION]: hasSidecar(pod) ? localIPFor(podIP) : podIP };
  return pod;
}

/**
 * Sends the pod through the webhook and returns the pod it answered. What the pod is — name,
 * namespace, owner, status — stays ours: a webhook may add to a pod, not move it.
 */
export async function injectThroughInjector(
  pod: Pod, namespace: Namespace, meshName: string, injector: InjectorClient | undefined, signal?: AbortSignal,
): Promise<Pod> {
  if (!injector) throw new Error('no injector webhook is configured for this mesh');
  const { pod: mutated } = await injector.mutate({ pod, namespace: namespaceInfo(namespace), meshName }, signal);
  if (mutated.metadata?.name !== pod.metadata.name || mutated.metadata.namespace !== pod.metadata.namespace) {
    throw new Error(`the webhook returned pod ${mutated.metadata?.namespace}/${mutated.metadata?.name} for ${pod.metadata.namespace}/${pod.metadata.name}`);
  }
  const out: Pod = { ...mutated, metadata: { ...mutated.metadata, ownerReferences: pod.metadata.ownerReferences } };
  if (pod.status) out.status = pod.status;
  else delete out.status;
  return out;
}

/** The pod through the webhook, placed at its (already allocated) address. */
export async function admitThroughInjector(
  pod: Pod, namespace: Namespace, meshName: string, injector: InjectorClient | undefined, signal?: AbortSignal,
): Promise<Pod> {
  return placeApp(await injectThroughInjector(pod, namespace, meshName, injector, signal));
}

/**
 * The pod as it is stored: the lowest free address of the block, the app placed behind its sidecar
 * (the part a CNI plugin plays on a cluster, done when the pod object is created).
 */
export function withPodAddress(pod: Pod, pods: Pod[], block: number): Pod {
  if (pod.status?.podIP) return placeApp(pod);
  const podIP = podIPAllocator(pods, block).take();
  return placeApp({ ...pod, status: { ...pod.status, podIP, podIPs: [{ ip: podIP }] } });
}
