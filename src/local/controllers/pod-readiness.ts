/** What "ready" means for a pod and a Deployment, shared by the deployment controller and `wait`. */
import type { Deployment, Pod, PodStatus, Resource } from '../../api/types.js';
import type { LocalDeploymentStatus } from './deployment-controller.js';

export function isPodReady(pod: Resource): boolean {
  const status = (pod as Pod).status as PodStatus | undefined;
  return (status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** True when a Deployment's rollout is complete and every desired replica is available. */
export function deploymentAvailable(d: Deployment): boolean {
  const status = (d.status ?? {}) as LocalDeploymentStatus;
  const desired = d.spec?.replicas ?? 1;
  return (status.observedGeneration ?? 0) >= (d.metadata.generation ?? 1)
    && (status.availableReplicas ?? 0) >= desired
    && (status.updatedReplicas ?? 0) >= desired
    && status.conditions?.find((c) => c.type === 'Available')?.status === 'True';
}
