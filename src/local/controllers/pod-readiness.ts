/** What "ready" means for a pod, shared by the deployment controller and `wait`. */
import type { Pod, PodStatus, Resource } from '../../api/types.js';

export function isPodReady(pod: Resource): boolean {
  const status = (pod as Pod).status as PodStatus | undefined;
  return (status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}
