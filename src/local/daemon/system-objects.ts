/**
 * The objects every mesh has (its system namespace, preset MeshConfig, the control-plane components'
 * ServiceAccounts, least-privilege RBAC and Deployments), and the mesh-name guard.
 */
import type { Deployment, Resource } from '../../api/types.js';
import { meshConfigName, presetMeshConfig, systemNamespace } from '../../bootstrap/preset-mesh-config.js';
import { renderInstall } from '../../install/render.js';
import { defaultValues } from '../../install/values.js';
import { RBAC_GROUP, RBAC_KINDS } from '../../kube/auth/types.js';
import { MeshError } from '../../lib/errors.js';
import { BOOTSTRAP_IMAGE, CONTROLLER_IMAGE, INJECTOR_IMAGE } from '../runtime/index.js';
import type { ResourceStore } from '../store/index.js';

export { meshConfigName, systemNamespace };
export const controllerName = (mesh: string) => `${mesh}-controller`;
export const injectorName = (mesh: string) => `${mesh}-injector`;
export const bootstrapName = (mesh: string) => `${mesh}-bootstrap`;

/** One control-plane component: a ServiceAccount and a one-replica Deployment labelled app=<name>. */
function component(namespace: string, app: string, container: string, image: string): Resource[] {
  const deployment: Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: app, namespace, labels: { app } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app } },
      template: {
        metadata: { labels: { app } },
        spec: { serviceAccountName: app, containers: [{ name: container, image }] },
      },
    },
  };
  return [{ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: app, namespace } }, deployment];
}

/**
 * The components' ClusterRoles, Roles and their bindings to the components' ServiceAccounts: exactly
 * what `tessera install` creates on a cluster (src/install/render.ts, one definition for both), so
 * the controller reads the mesh's kinds and writes only its Secrets and trust bundle, the bootstrap
 * only MeshConfigs of `<mesh>-system`, the injector only reads namespaces.
 */
export function componentRbac(mesh: string): Resource[] {
  const values = defaultValues();
  values.fsm.meshName = mesh;
  const kinds: readonly string[] = RBAC_KINDS;
  return renderInstall(values)
    .filter((m) => m.apiVersion === `${RBAC_GROUP}/v1` && kinds.includes(m.kind))
    .map((m) => m as unknown as Resource);
}

export function systemObjects(mesh: string): Resource[] {
  const namespace = systemNamespace(mesh);
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
    presetMeshConfig(mesh),
    ...component(namespace, controllerName(mesh), 'controller', CONTROLLER_IMAGE),
    ...component(namespace, injectorName(mesh), 'injector', INJECTOR_IMAGE),
    ...component(namespace, bootstrapName(mesh), 'bootstrap', BOOTSTRAP_IMAGE),
    ...componentRbac(mesh),
  ];
}

const groupOf = (apiVersion: string): string => (apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '');
const AUTOUPDATE = 'rbac.authorization.kubernetes.io/autoupdate';

/**
 * Creates whichever system objects are missing. Existing ones are left as they are, so a user's
 * MeshConfig changes (or a scaled controller) survive a restart — except the components' roles and
 * bindings, brought back to this version's rules and subjects as kube-apiserver reconciles its
 * bootstrap roles (unless annotated `rbac.authorization.kubernetes.io/autoupdate: "false"`).
 */
export function ensureSystemObjects(store: ResourceStore, mesh: string): string[] {
  const writes: Resource[] = [];
  const changed: string[] = [];
  for (const o of systemObjects(mesh)) {
    const group = groupOf(o.apiVersion);
    const existing = store.get({ kind: o.kind, group, name: o.metadata.name, ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}) });
    if (!existing) {
      writes.push(o);
      changed.push(`${o.kind}/${o.metadata.name}`);
      continue;
    }
    if (group !== RBAC_GROUP || existing.metadata.annotations?.[AUTOUPDATE] === 'false') continue;
    const fields = ['rules', 'roleRef', 'subjects'] as const;
    const want = o as unknown as Record<string, unknown>;
    const have = existing as unknown as Record<string, unknown>;
    if (fields.every((f) => JSON.stringify(want[f]) === JSON.stringify(have[f]))) continue;
    const next: Record<string, unknown> = { ...have };
    for (const f of fields) if (want[f] !== undefined) next[f] = want[f];
    writes.push(next as unknown as Resource);
    changed.push(`${o.kind}/${o.metadata.name} (reconciled)`);
  }
  if (writes.length > 0) store.transact(writes.map((object) => ({ op: 'put' as const, object })));
  return changed;
}

/**
 * The mesh a store already belongs to, judged by its `<name>-mesh-config` in `<name>-system`. A
 * mesh `tessera install` (or the Helm chart) put into this API is not the local one: its MeshConfig
 * carries the install's `app.kubernetes.io/part-of: tessera` and `instance` labels.
 */
export function meshNamesInStore(store: ResourceStore): string[] {
  const names = new Set<string>();
  for (const mc of store.list('MeshConfig')) {
    const labels = mc.metadata.labels ?? {};
    if (labels['app.kubernetes.io/part-of'] === 'tessera' && labels['app.kubernetes.io/instance'] !== undefined) continue;
    const m = mc.metadata.name.match(/^(.+)-mesh-config$/);
    if (m && mc.metadata.namespace === systemNamespace(m[1]!)) names.add(m[1]!);
  }
  return [...names];
}

export function assertSameMesh(stateDir: string, meshName: string, names: (string | undefined)[]): void {
  const other = names.find((n) => n !== undefined && n !== meshName);
  if (other === undefined) return;
  throw new MeshError(
    'MESH_ERR_MESH_NAME_MISMATCH',
    `state directory ${stateDir} holds mesh "${other}", not "${meshName}"; run \`tessera up --mesh-name ${other}\` or use another --state directory`,
  );
}
