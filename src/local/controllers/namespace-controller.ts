/**
 * Namespaces: the `default` namespace always exists, every live namespace reports phase Active, and
 * a namespace marked for deletion (Terminating) is emptied, then removed; contents of a namespace
 * that is gone are deleted too (pods last, so their owners go first and nothing re-creates them).
 */
import { KINDS } from '../../api/kinds.js';
import type { Namespace } from '../../api/types.js';
import type { StoreWrite } from '../store/index.js';
import type { ControllerContext } from './context.js';
import { DEFAULT_NAMESPACE } from './well-known.js';

export function reconcileNamespaces(ctx: ControllerContext): void {
  const { store } = ctx;
  if (!store.get({ kind: 'Namespace', name: DEFAULT_NAMESPACE })) {
    store.transact([{ op: 'put', object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: DEFAULT_NAMESPACE } } }]);
  }
  const namespaces = store.list('Namespace') as Namespace[];
  const live = new Set<string>();
  for (const ns of namespaces) {
    if (ns.metadata.deletionTimestamp) continue;
    live.add(ns.metadata.name);
    if (ns.status?.phase !== 'Active') store.updateStatus({ kind: 'Namespace', name: ns.metadata.name }, { ...ns.status, phase: 'Active' });
  }
  deleteContentsOfMissingNamespaces(ctx, live);
  // Emptied namespaces that are being deleted, and hold no finalizer, go away.
  for (const ns of namespaces) {
    if (!ns.metadata.deletionTimestamp || (ns.metadata.finalizers ?? []).length > 0) continue;
    store.transact([{ op: 'delete', key: { kind: 'Namespace', name: ns.metadata.name } }]);
  }
}

function deleteContentsOfMissingNamespaces(ctx: ControllerContext, existing: Set<string>): void {
  const kinds = KINDS.filter((k) => k.namespaced).sort((a, b) => Number(a.kind === 'Pod') - Number(b.kind === 'Pod'));
  const writes: StoreWrite[] = [];
  for (const k of kinds) {
    for (const obj of ctx.store.list(k.kind)) {
      const ns = obj.metadata.namespace;
      if (ns !== undefined && !existing.has(ns)) writes.push({ op: 'delete', key: { kind: k.kind, namespace: ns, name: obj.metadata.name } });
    }
  }
  if (writes.length > 0) ctx.store.transact(writes);
}
