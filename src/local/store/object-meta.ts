/** How the store stamps server-owned metadata (uid, resourceVersion, generation, timestamps). */
import { randomUUID } from 'node:crypto';
import type { Resource } from '../../api/types.js';
import { apiVersionAccepted, kindInfo } from '../../api/kinds.js';
import type { StoreKey } from './types.js';
import { jsonEqual } from './canonical.js';

/** Kubernetes timestamps are RFC 3339 in UTC without fractional seconds. */
export function kubeTimestamp(date: Date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The group part of an apiVersion: `apps/v1` → `apps`, core `v1` → ''. */
export function groupOfApiVersion(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

function builtinGroup(kind: string): string | undefined {
  const info = kindInfo(kind);
  return info && groupOfApiVersion(info.apiVersion);
}

/**
 * The group an object is stored under: its apiVersion's, except that a built-in kind written with
 * one of its accepted older apiVersions (normally normalised before the store) stays the built-in's.
 */
export function groupOfObject(r: Resource): string {
  const info = kindInfo(r.kind);
  if (info && (!r.apiVersion || apiVersionAccepted(info, r.apiVersion))) return groupOfApiVersion(info.apiVersion);
  return r.apiVersion ? groupOfApiVersion(r.apiVersion) : '';
}

/** A key with its group resolved; `namespace` is '' for cluster-scoped objects (as stored). */
export interface FullKey {
  group: string;
  kind: string;
  namespace: string;
  name: string;
}

/**
 * Resolves the group and drops the namespace of cluster-scoped kinds, whatever the caller passed.
 * Only Tessera's own kinds have a known scope; any other (group, kind) is namespaced when the key
 * carries a namespace — a CRD "Pod" of another group is not our Pod.
 */
export function normalizeKey(key: StoreKey): FullKey {
  const builtin = builtinGroup(key.kind);
  const group = key.group ?? builtin ?? '';
  const info = builtin === group ? kindInfo(key.kind) : undefined;
  const namespaced = info ? info.namespaced : key.namespace !== undefined;
  return { group, kind: key.kind, namespace: namespaced ? key.namespace || 'default' : '', name: key.name };
}

export function keyOf(r: Resource): FullKey {
  return normalizeKey({ kind: r.kind, namespace: r.metadata.namespace, name: r.metadata.name, group: groupOfObject(r) });
}

export function keyString(key: StoreKey): string {
  const k = normalizeKey(key);
  return `${k.group}/${k.kind}/${k.namespace}/${k.name}`;
}

/** kubectl's wording for a missing object: `pods "x" not found`. */
export function notFoundMessage(key: StoreKey): string {
  return `${resourceName(key)} "${key.name}" not found`;
}

/** kubectl's name for the resource of a key: `pods`, or `foos.example.com` for a kind of another group. */
export function resourceName(key: StoreKey): string {
  const k = normalizeKey(key);
  const info = builtinGroup(k.kind) === k.group ? kindInfo(k.kind) : undefined;
  if (info) return info.plural;
  const plural = `${k.kind.toLowerCase()}s`;
  return k.group ? `${plural}.${k.group}` : plural;
}

/**
 * The object a put stores. On create the caller's status is kept (controllers create pods with a
 * status); on update status, uid and creationTimestamp stay the store's, everything else is the
 * object as given (apply semantics) — including status with `replaceStatus` (a full replace).
 * Returns undefined when the put changes nothing.
 */
export function stampPut(
  given: Resource, existing: Resource | undefined, revision: number, opts: { replaceStatus?: boolean } = {},
): Resource | undefined {
  const obj = structuredClone(given);
  const key = keyOf(obj);
  obj.metadata = { ...obj.metadata, name: key.name, namespace: key.namespace || undefined };
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
  if (!opts.replaceStatus) {
    if (existing.status === undefined) delete obj.status;
    else obj.status = structuredClone(existing.status);
  }
  const { resourceVersion: _ignored, ...existingMeta } = existing.metadata;
  if (jsonEqual({ ...obj }, { ...existing, metadata: existingMeta })) return undefined;
  obj.metadata.resourceVersion = String(revision);
  return obj;
}
