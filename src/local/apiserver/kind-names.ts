/** Resolves what a caller typed for a kind and fills in the namespace the way kubectl does. */
import { resolveKindName, type KindInfo } from '../../api/kinds.js';
import { MeshError } from '../../lib/errors.js';
import type { StoreKey } from '../store/index.js';

export function resolveKind(name: string): KindInfo {
  const info = resolveKindName(name);
  if (!info) throw new MeshError('MESH_ERR_KIND_UNKNOWN', `the server doesn't have a resource type "${name}"`);
  return info;
}

/** Namespaced kinds default to `default`; cluster-scoped kinds ignore any namespace. */
export function keyFor(info: KindInfo, name: string, namespace: string | undefined): StoreKey {
  return info.namespaced ? { kind: info.kind, namespace: namespace || 'default', name } : { kind: info.kind, name };
}

/** `Kind ns/name` as error messages name a resource. */
export function describeKey(key: StoreKey): string {
  return key.namespace ? `${key.kind} ${key.namespace}/${key.name}` : `${key.kind} ${key.name}`;
}
