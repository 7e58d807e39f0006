/** Which pods a Deployment owns (by uid, so a re-created Deployment of the same name owns none). */
import type { Deployment, Pod, Resource } from '../../api/types.js';

export function controllerOf(obj: Resource): { kind: string; name: string; uid: string } | undefined {
  return (obj.metadata.ownerReferences ?? []).find((r) => r.controller);
}

export function ownedBy(pod: Pod, deployment: Deployment): boolean {
  const owner = controllerOf(pod);
  return owner?.kind === 'Deployment' && owner.uid === deployment.metadata.uid;
}
