/** The objects every mesh has (its system namespace, MeshConfig, control-plane Deployment), and the mesh-name guard. */
import type { Resource } from '../../api/types.js';
import { MeshError } from '../../lib/errors.js';
import type { ResourceStore } from '../store/index.js';

export const CONTROLLER_IMAGE = 'tessera/controller';

export const systemNamespace = (mesh: string) => `${mesh}-system`;
export const meshConfigName = (mesh: string) => `${mesh}-mesh-config`;
export const controllerName = (mesh: string) => `${mesh}-controller`;

export function systemObjects(mesh: string): Resource[] {
  const namespace = systemNamespace(mesh);
  const app = controllerName(mesh);
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
    {
      apiVersion: 'config.flomesh.io/v1alpha3',
      kind: 'MeshConfig',
      metadata: { name: meshConfigName(mesh), namespace },
      spec: {
        featureFlags: { enablePluginPolicy: false },
        traffic: { enablePermissiveTrafficPolicyMode: true, enableEgress: true },
        sidecar: { logLevel: 'error' },
      },
    },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: app, namespace } },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: app, namespace, labels: { app } },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app } },
        template: {
          metadata: { labels: { app } },
          spec: { serviceAccountName: app, containers: [{ name: 'controller', image: CONTROLLER_IMAGE }] },
        },
      },
    },
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
