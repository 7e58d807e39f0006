/** Builds the Pod a Deployment asks for: name, labels, owner, sidecar, address. */
import type { Deployment, Namespace, Pod } from '../../api/types.js';
import { localIPFor } from '../layout.js';
import { injectSidecar, wantsSidecar } from './sidecar-injection.js';
import { APP_ADDRESS_ANNOTATION, POD_TEMPLATE_HASH_LABEL } from './well-known.js';

export interface PodRequest {
  deployment: Deployment;
  namespace: Namespace | undefined;
  meshName: string;
  name: string;
  hash: string;
  podIP: string;
}

export function buildPod(req: PodRequest): Pod {
  const { deployment, hash, podIP } = req;
  const template = structuredClone(deployment.spec!.template);
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: req.name,
      namespace: deployment.metadata.namespace,
      labels: { ...template.metadata?.labels, [POD_TEMPLATE_HASH_LABEL]: hash },
      annotations: { ...template.metadata?.annotations },
      ownerReferences: [{
        apiVersion: deployment.apiVersion, kind: 'Deployment', name: deployment.metadata.name, uid: deployment.metadata.uid!, controller: true,
      }],
    },
    // Kubernetes defaults the service account; the pod's identity (sa.ns) depends on it.
    spec: { ...template.spec, serviceAccountName: template.spec.serviceAccountName ?? 'default' },
    status: { phase: 'Pending', podIP, podIPs: [{ ip: podIP }] },
  };
  const sidecar = wantsSidecar(req.namespace, template.metadata?.annotations, req.meshName);
  if (sidecar) injectSidecar(pod);
  // With a sidecar in front, the app listens on the private twin address and the sidecar owns the pod IP.
  pod.metadata.annotations![APP_ADDRESS_ANNOTATION] = sidecar ? localIPFor(podIP) : podIP;
  return pod;
}
