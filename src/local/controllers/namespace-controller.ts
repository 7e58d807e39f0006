/**
 * Namespaces: the `default` namespace always exists, every namespace reports phase Active, and the
 * contents of a deleted namespace are deleted with it (pods last, so their owners go first and
 * nothing re-creates them).
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
  for (const ns of namespaces) {
    if (ns.status?.phase !== 'Active') store.updateStatus({ kind: 'Namespace', name: ns.metadata.name }, { ...ns.status, phase: 'Active' });
  }
  deleteContentsOfMissingNamespaces(ctx, new Set(namespaces.map((n) => n.metadata.name)));
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
