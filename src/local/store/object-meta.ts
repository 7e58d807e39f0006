/** How the store stamps server-owned metadata (uid, resourceVersion, generation, timestamps). */
import { randomUUID } from 'node:crypto';
import type { Resource } from '../../api/types.js';
import { kindInfo } from '../../api/kinds.js';
import type { StoreKey } from './types.js';
import { jsonEqual } from './canonical.js';

/** Kubernetes timestamps are RFC 3339 in UTC without fractional seconds. */
export function kubeTimestamp(date: Date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Cluster-scoped kinds never carry a namespace, whatever the caller passed. */
export function normalizeKey(key: StoreKey): StoreKey {
  const namespaced = kindInfo(key.kind)?.namespaced ?? key.namespace !== undefined;
  return namespaced ? { kind: key.kind, namespace: key.namespace ?? 'default', name: key.name } : { kind: key.kind, name: key.name };
}

export function keyOf(r: Resource): StoreKey {
  return normalizeKey({ kind: r.kind, namespace: r.metadata.namespace, name: r.metadata.name });
}

export function keyString(key: StoreKey): string {
  const k = normalizeKey(key);
  return `${k.kind}/${k.namespace ?? ''}/${k.name}`;
}

/** kubectl's wording for a missing object: `pods "x" not found`. */
export function notFoundMessage(key: StoreKey): string {
  const plural = kindInfo(key.kind)?.plural ?? `${key.kind.toLowerCase()}s`;
  return `${plural} "${key.name}" not found`;
}

/**
 * The object a put stores. On create the caller's status is kept (controllers create pods with a
 * status); on update status, uid and creationTimestamp stay the store's, everything else is the
 * object as given (apply semantics). Returns undefined when the put changes nothing.
 */
export function stampPut(given: Resource, existing: Resource | undefined, revision: number): Resource | undefined {
  const obj = structuredClone(given);
  const key = keyOf(obj);
  obj.metadata = { ...obj.metadata, name: key.name, namespace: key.namespace };
  if (obj.metadata.namespace === undefined) delete obj.metadata.namespace;
  delete obj.metadata.resourceVersion;
  if (!existing) {
    obj.metadata.uid = randomUUID();
    obj.metadata.creationTimestamp = kubeTimestamp();
    obj.metadata.generation = 1;
    obj.metadata.resourceVersion = String(revision);
    return obj;
  }
  obj.metadata.uid = existing.metadata.uid;
  obj.metadata.creationTimestamp = existing.metadata.creationTimestamp;
  const previousGeneration = existing.metadata.generation ?? 1;
  obj.metadata.generation = jsonEqual(obj.spec, existing.spec) ? previousGeneration : previousGeneration + 1;
  if (existing.status === undefined) delete obj.status;
  else obj.status = structuredClone(existing.status);
  const { resourceVersion: _ignored, ...existingMeta } = existing.metadata;
  if (jsonEqual({ ...obj }, { ...existing, metadata: existingMeta })) return undefined;
  obj.metadata.resourceVersion = String(revision);
  return obj;
}
