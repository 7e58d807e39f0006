/** Deletes pods whose owning Deployment is gone (Kubernetes' garbage collector, foreground-free). */
import type { Pod } from '../../api/types.js';
import type { StoreWrite } from '../store/index.js';
import type { ControllerContext } from './context.js';
import { controllerOf } from './ownership.js';

export function collectOrphanPods(ctx: ControllerContext): void {
  const writes: StoreWrite[] = [];
  for (const pod of ctx.store.list('Pod') as Pod[]) {
    const owner = controllerOf(pod);
    if (owner?.kind !== 'Deployment') continue; // pods nobody owns (e.g. the control plane's) stay
    const deployment = ctx.store.get({ kind: 'Deployment', namespace: pod.metadata.namespace, name: owner.name });
    if (deployment?.metadata.uid !== owner.uid) {
      writes.push({ op: 'delete', key: { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name } });
    }
  }
  if (writes.length > 0) ctx.store.transact(writes);
}
