/**
 * Which namespaces the webhook covers — the namespaceSelector FSM registers in its
 * MutatingWebhookConfiguration. The caller (API server / daemon) uses it to decide whether to call
 * the webhook at all; the handler re-checks it, as FSM's handler refuses its own namespace too.
 */
import { MONITORED_BY_LABEL } from '../api/types.js';
import { IGNORE_NAMESPACE_LABEL } from '../local/controllers/well-known.js';
import type { NamespaceInfo } from './protocol.js';

/** Kubernetes' own namespaces: FSM never injects there. */
const NEVER_INJECTED = new Set(['kube-system', 'kube-public']);
/** Label FSM's selector excludes (the control plane's namespaces carry it). */
const CONTROL_PLANE_LABEL = 'control-plane';

export const controlPlaneNamespace = (meshName: string): string => `${meshName}-system`;

/** Monitored by this mesh, not ignored, not the control plane's own and not Kubernetes' own. */
export function webhookCoversNamespace(namespace: NamespaceInfo, meshName: string): boolean {
  if (namespace.name === controlPlaneNamespace(meshName) || NEVER_INJECTED.has(namespace.name)) return false;
  const labels = namespace.labels ?? {};
  return labels[MONITORED_BY_LABEL] === meshName && !(IGNORE_NAMESPACE_LABEL in labels) && !(CONTROL_PLANE_LABEL in labels);
}
