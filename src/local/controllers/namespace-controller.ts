/**
 * Namespaces: the `default` namespace always exists and every live namespace reports phase Active.
 * A namespace marked for deletion is the namespace lifecycle controller's (src/kube/controllers):
 * it empties the namespace, then removes it.
 */
import type { Namespace } from '../../api/types.js';
import type { ControllerContext } from './context.js';
import { DEFAULT_NAMESPACE } from './well-known.js';

export function reconcileNamespaces(ctx: ControllerContext): void {
  const { store } = ctx;
  if (!store.get({ kind: 'Namespace', name: DEFAULT_NAMESPACE })) {
    store.transact([{ op: 'put', object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: DEFAULT_NAMESPACE } } }]);
  }
  const namespaces = store.list('Namespace') as Namespace[];
  for (const ns of namespaces) {
    if (ns.metadata.deletionTimestamp) continue;
    if (ns.status?.phase !== 'Active') store.updateStatus({ kind: 'Namespace', name: ns.metadata.name }, { ...ns.status, phase: 'Active' });
  }
}
