/** The objects every mesh has (its system namespace, preset MeshConfig, control-plane Deployments), and the mesh-name guard. */
import type { Deployment, Resource } from '../../api/types.js';
import { meshConfigName, presetMeshConfig, systemNamespace } from '../../bootstrap/preset-mesh-config.js';
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

export function systemObjects(mesh: string): Resource[] {
  const namespace = systemNamespace(mesh);
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
    presetMeshConfig(mesh),
    ...component(namespace, controllerName(mesh), 'controller', CONTROLLER_IMAGE),
    ...component(namespace, injectorName(mesh), 'injector', INJECTOR_IMAGE),
    ...component(namespace, bootstrapName(mesh), 'bootstrap', BOOTSTRAP_IMAGE),
  ];
}

/**
 * Creates whichever system objects are missing. Existing ones are left as they are, so a user's
 * MeshConfig changes (or a scaled controller) survive a restart.
 */
export function ensureSystemObjects(store: ResourceStore, mesh: string): string[] {
  const missing = systemObjects(mesh).filter(
    (o) => !store.get({ kind: o.kind, name: o.metadata.name, ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}) }),
  );
  if (missing.length > 0) store.transact(missing.map((object) => ({ op: 'put' as const, object })));
  return missing.map((o) => `${o.kind}/${o.metadata.name}`);
}

/** The mesh a store already belongs to, judged by its `<name>-mesh-config` in `<name>-system`. */
export function meshNamesInStore(store: ResourceStore): string[] {
  const names = new Set<string>();
  for (const mc of store.list('MeshConfig')) {
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
