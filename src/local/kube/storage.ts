/** The Kubernetes API server's storage over the local SQLite store. */
import { isMeshError } from '../../lib/errors.js';
import type { KubeStorage, ObjectKey, StoredEvent } from '../../kube/apiserver/index.js';
import { StatusError, conflict, notFound, alreadyExists } from '../../kube/apiserver/index.js';
import type { Resource } from '../../api/types.js';
import type { ResourceStore, StoreKey } from '../store/index.js';

function storeKey(k: ObjectKey): StoreKey {
  const key: StoreKey = { group: k.group, kind: k.kind, name: k.name };
  if (k.namespace !== undefined) key.namespace = k.namespace;
  return key;
}

function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/** Plural names are only for messages; the store's errors are re-worded as kube-apiserver words them. */
function translate(e: unknown, group: string, kind: string, name: string): never {
  if (isMeshError(e)) {
    const code = (e as { code: string }).code;
    const plural = `${kind.toLowerCase()}s`;
    if (code === 'MESH_ERR_CONFLICT') throw conflict(group, plural, name);
    if (code === 'MESH_ERR_NOT_FOUND') throw notFound(group, plural, name);
    if (code === 'MESH_ERR_ALREADY_EXISTS') throw alreadyExists(group, plural, name);
    if (code === 'MESH_ERR_GONE') throw new StatusError('Expired', (e as Error).message);
  }
  throw e;
}

export interface StorageHooks {
  /** the object as it is stored, given as it was admitted (e.g. a pod gets its address here) */
  prepareCreate?: (obj: Resource) => Resource;
}

export function storeBackedStorage(store: ResourceStore, hooks: StorageHooks = {}): KubeStorage {
  return {
    get revision() {
      return store.revision;
    },
    get(key) {
      return store.get(storeKey(key));
    },
    list(group, kind, namespace) {
      return store.listWithRevision(kind, namespace, group);
    },
    create(obj) {
      try {
        const object = hooks.prepareCreate ? hooks.prepareCreate(obj) : obj;
        return store.transact([{ op: 'create', object }])[0]!.object;
      } catch (e) {
        return translate(e, groupOf(obj.apiVersion), obj.kind, obj.metadata.name);
      }
    },
    update(obj, opts = {}) {
      try {
        const write: Parameters<ResourceStore['transact']>[0][number] = { op: 'put', object: obj, replaceStatus: true };
        if (opts.expectResourceVersion !== undefined) write.expectResourceVersion = opts.expectResourceVersion;
        const [r] = store.transact([write]);
        return { object: r!.object, changed: r!.change !== 'unchanged' };
      } catch (e) {
        return translate(e, groupOf(obj.apiVersion), obj.kind, obj.metadata.name);
      }
    },
    delete(key, opts = {}) {
      try {
        const write: Parameters<ResourceStore['transact']>[0][number] = { op: 'delete', key: storeKey(key) };
        if (opts.expectResourceVersion !== undefined) write.expectResourceVersion = opts.expectResourceVersion;
        if (opts.expectUid !== undefined) write.expectUid = opts.expectUid;
        return store.transact([write])[0]!.object;
      } catch (e) {
        return translate(e, key.group, key.kind, key.name);
      }
    },
    watch(handler: (e: StoredEvent) => void, fromRevision?: number) {
      try {
        return store.watch(handler as (e: { type: StoredEvent['type']; object: Resource; revision: number }) => void, fromRevision);
      } catch (e) {
        if (isMeshError(e) && (e as { code: string }).code === 'MESH_ERR_GONE') {
          throw new StatusError('Expired', `too old resource version: ${fromRevision} (${store.compactedRevision})`);
        }
        throw e;
      }
    },
  };
}
