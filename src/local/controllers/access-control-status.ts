/**
 * AccessControl status (FSM's `currentStatus` / `reason`, judged by catalog/access-control-status.ts
 * from the same catalog the control plane compiles). FSM's controller writes it through the status
 * subresource; here the daemon writes it, as it does the Deployment and Namespace status.
 *
 * No loop: a write emits a store event, which runs one more pass; that pass computes the same status,
 * and updateStatus stores nothing (and emits nothing) for an unchanged status. The control plane
 * ignores status-only changes of AccessControls (control-plane/controller.ts).
 */
import type { AccessControl } from '../../api/policy-types.js';
import { accessControlStatuses, buildCatalog } from '../../catalog/index.js';
import type { ControllerContext } from './context.js';

/** The kinds the status depends on: what the backends and Service sources resolve against, and the feature flag. */
const INPUT_KINDS = ['Namespace', 'Pod', 'Service', 'MeshConfig'] as const;

export function reconcileAccessControlStatus(ctx: ControllerContext): void {
  const acls = ctx.store.list('AccessControl') as AccessControl[];
  if (acls.length === 0) return;
  const resources = [...INPUT_KINDS.flatMap((k) => ctx.store.list(k)), ...acls];
  const catalog = buildCatalog({ meshName: ctx.meshName, resources, pluginSources: new Map() });
  const statuses = accessControlStatuses(catalog, acls);
  for (const acl of acls) {
    const status = statuses.get(`${acl.metadata.namespace ?? ''}/${acl.metadata.name}`);
    if (status) ctx.store.updateStatus({ kind: 'AccessControl', namespace: acl.metadata.namespace, name: acl.metadata.name }, status);
  }
}
