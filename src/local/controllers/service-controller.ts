/** Services: default spec.type to ClusterIP and give each one a stable cluster IP (lowest free). */
import type { Service } from '../../api/types.js';
import type { StoreWrite } from '../store/index.js';
import { clusterIPAllocator } from './address-allocation.js';
import type { ControllerContext } from './context.js';

export function reconcileServices(ctx: ControllerContext): void {
  const services = ctx.store.list('Service') as Service[];
  const addresses = clusterIPAllocator(services, ctx.block);
  const writes: StoreWrite[] = [];
  for (const svc of services) {
    const spec = { ...svc.spec };
    if (spec.type && spec.clusterIP) continue;
    spec.type ??= 'ClusterIP';
    // `None` (headless) stays as the user wrote it: no virtual address.
    if (!spec.clusterIP) spec.clusterIP = addresses.take();
    writes.push({ op: 'put', object: { ...svc, spec } });
  }
  if (writes.length > 0) ctx.store.transact(writes);
}
