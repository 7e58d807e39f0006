/** One Kubernetes object as the install renders it (any kind: RBAC and webhook kinds have no spec). */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/**
 * The order objects are created in, after Helm's InstallOrder: a namespace before what lives in it,
 * ServiceAccounts before their token Secrets, RBAC and the controller's Secret policy before the
 * workloads they constrain, the webhook last so it never points at a Service that does not exist yet.
 * Uninstall goes the other way.
 */
export const INSTALL_ORDER = [
  'Namespace', 'CustomResourceDefinition', 'ServiceAccount', 'Secret', 'ConfigMap', 'ClusterRole', 'ClusterRoleBinding',
  'Role', 'RoleBinding', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding', 'Service', 'Deployment', 'MeshConfig',
  'MutatingWebhookConfiguration',
];

function rank(m: Manifest): number {
  const i = INSTALL_ORDER.indexOf(m.kind);
  return i < 0 ? INSTALL_ORDER.length : i;
}

/** A stable sort by install order, then namespace and name. */
export function sortForInstall(list: Manifest[]): Manifest[] {
  return [...list].sort(
    (a, b) => rank(a) - rank(b) || (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') || a.metadata.name.localeCompare(b.metadata.name),
  );
}

export function apiGroupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}
