/**
 * The local mesh's Kubernetes API: the generic server (src/kube/apiserver) over the local store,
 * the mesh's admission and the pod runtime, with the mesh kinds present as CRD objects.
 */
import type { IncomingMessage } from 'node:http';
import { createKubeApi, type KubeApi, type UserInfo } from '../../kube/apiserver/index.js';
import { crdObjectFor, isMeshKind, OPEN_OBJECT_SCHEMA, ResourceRegistry } from '../../kube/registry/index.js';
import type { ApiContext } from '../apiserver/context.js';
import { kubeTimestamp } from '../store/index.js';
import { localAdmission } from './admission.js';
import { localPodConnector } from './pods.js';
import { storeBackedStorage } from './storage.js';
import { KUBE_VERSION } from './version.js';
import { startLifecycleControllers } from '../../kube/controllers/index.js';

export interface LocalKubeApiOptions {
  ctx: ApiContext;
  serverAddress: string;
  authenticate(req: IncomingMessage): UserInfo | undefined;
  log?: (line: string) => void;
}

/** Creates (once) a CRD object for each mesh kind, as installing the mesh on a cluster would. */
export function ensureMeshCrds(ctx: ApiContext, registry: ResourceRegistry): string[] {
  const created: string[] = [];
  const now = kubeTimestamp();
  for (const t of registry.all().filter(isMeshKind)) {
    const crd = crdObjectFor(t, () => OPEN_OBJECT_SCHEMA, now);
    const key = { group: 'apiextensions.k8s.io', kind: 'CustomResourceDefinition', name: crd.metadata.name };
    if (ctx.store.get(key)) continue;
    ctx.store.transact([{ op: 'create', object: crd }]);
    created.push(crd.metadata.name);
  }
  return created;
}

/**
 * The API plus what kube-controller-manager would run beside it for the API's own objects: the
 * garbage collector and the namespace and CRD lifecycles.
 */
export function createLocalKubeApi(opts: LocalKubeApiOptions): KubeApi {
  const registry = new ResourceRegistry();
  ensureMeshCrds(opts.ctx, registry);
  const storage = storeBackedStorage(opts.ctx.store);
  const api = createKubeApi({
    registry,
    storage,
    admission: localAdmission(opts.ctx),
    pods: localPodConnector(opts.ctx),
    now: () => new Date(),
    serverAddress: opts.serverAddress,
    version: KUBE_VERSION,
    authenticate: opts.authenticate,
  });
  const controllers = startLifecycleControllers({ storage, registry, log: opts.log ?? ((line) => console.error(line)) });
  return {
    handle: (req, res) => api.handle(req, res),
    upgrade: (req, socket, head) => api.upgrade(req, socket, head),
    close() {
      controllers.stop();
      api.close();
    },
  };
}
