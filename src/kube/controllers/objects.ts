/**
 * Deleting and finalizing objects through `KubeStorage` with the API server's rules (resources.ts):
 * the controllers write to storage directly, so they must do what the server's delete and update
 * paths would have done — mark instead of delete while finalizers remain, delete once the last one
 * goes, never delete a re-created object (uid and resourceVersion preconditions).
 */
import type { OwnerReference, Resource } from '../../api/types.js';
import { FOREGROUND_FINALIZER, ORPHAN_FINALIZER, type KubeStorage, type ObjectKey } from '../apiserver/index.js';

export { FOREGROUND_FINALIZER, ORPHAN_FINALIZER };
/** spec.finalizers entry of a Namespace: its content must be deleted first */
export const NAMESPACE_FINALIZER = 'kubernetes';
export const CRD_CLEANUP_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';
export const CRD_GROUP = 'apiextensions.k8s.io';
export const CRD_KIND = 'CustomResourceDefinition';

export type Propagation = 'Background' | 'Foreground' | 'Orphan';

export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

export function objectKey(obj: Resource): ObjectKey {
  const key: ObjectKey = { group: groupOf(obj.apiVersion), kind: obj.kind, name: obj.metadata.name };
  if (obj.metadata.namespace !== undefined) key.namespace = obj.metadata.namespace;
  return key;
}

export function describe(obj: Resource): string {
  const ns = obj.metadata.namespace ? `${obj.metadata.namespace}/` : '';
  return `${obj.kind} ${ns}${obj.metadata.name}`;
}

export function hasFinalizer(obj: Resource, finalizer: string): boolean {
  return (obj.metadata.finalizers ?? []).includes(finalizer);
}

export function isNamespaceObject(obj: Resource): boolean {
  return obj.kind === 'Namespace' && groupOf(obj.apiVersion) === '';
}

export function isCrdObject(obj: Resource): boolean {
  return obj.kind === CRD_KIND && groupOf(obj.apiVersion) === CRD_GROUP;
}

export function namespaceSpecFinalizers(obj: Resource): string[] {
  const spec = obj.spec as { finalizers?: unknown } | undefined;
  return Array.isArray(spec?.finalizers) ? (spec.finalizers as string[]) : [];
}

/** Kubernetes timestamps: RFC 3339 in UTC without fractional seconds. */
export function timestamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Deletes `obj` as the server's delete with this propagation policy would: at once when nothing
 * holds it, otherwise by marking it (deletionTimestamp, the policy's finalizer). A Namespace is
 * always only marked (phase Terminating): the namespace lifecycle empties it first.
 */
export function deleteWithPropagation(storage: KubeStorage, obj: Resource, policy: Propagation, now: Date): 'deleted' | 'marked' | 'unchanged' {
  const finalizers = [...(obj.metadata.finalizers ?? [])];
  if (policy === 'Foreground' && !finalizers.includes(FOREGROUND_FINALIZER)) finalizers.push(FOREGROUND_FINALIZER);
  if (policy === 'Orphan' && !finalizers.includes(ORPHAN_FINALIZER)) finalizers.push(ORPHAN_FINALIZER);
  const namespace = isNamespaceObject(obj);
  if (finalizers.length === 0 && !namespace) {
    storage.delete(objectKey(obj), { expectUid: obj.metadata.uid! });
    return 'deleted';
  }
  if (obj.metadata.deletionTimestamp && finalizers.length === (obj.metadata.finalizers ?? []).length) return 'unchanged';
  const marked = structuredClone(obj);
  marked.metadata.deletionTimestamp = obj.metadata.deletionTimestamp ?? timestamp(now);
  marked.metadata.deletionGracePeriodSeconds = 0;
  if (finalizers.length > 0) marked.metadata.finalizers = finalizers;
  if (namespace) marked.status = { ...(marked.status as object | undefined), phase: 'Terminating' };
  storage.update(marked, { expectResourceVersion: obj.metadata.resourceVersion! });
  return 'marked';
}

/**
 * Stores `next` (an edit of the stored object whose resourceVersion it carries), or deletes the
 * object when that edit released its last hold: marked for deletion, no finalizers left, and for a
 * Namespace no `spec.finalizers` either (kube-apiserver's namespace update rule).
 */
export function writeOrFinish(storage: KubeStorage, next: Resource): 'deleted' | 'updated' | 'unchanged' {
  const held = (next.metadata.finalizers ?? []).length > 0 || (isNamespaceObject(next) && namespaceSpecFinalizers(next).length > 0);
  const opts = { expectResourceVersion: next.metadata.resourceVersion!, expectUid: next.metadata.uid! };
  if (next.metadata.deletionTimestamp && !held) {
    storage.delete(objectKey(next), opts);
    return 'deleted';
  }
  return storage.update(next, { expectResourceVersion: opts.expectResourceVersion }).changed ? 'updated' : 'unchanged';
}

export function withoutFinalizer(obj: Resource, finalizer: string): Resource {
  const next = structuredClone(obj);
  const rest = (next.metadata.finalizers ?? []).filter((f) => f !== finalizer);
  if (rest.length > 0) next.metadata.finalizers = rest;
  else delete next.metadata.finalizers;
  return next;
}

export function withOwnerReferences(obj: Resource, refs: OwnerReference[]): Resource {
  const next = structuredClone(obj);
  if (refs.length > 0) next.metadata.ownerReferences = refs;
  else delete next.metadata.ownerReferences;
  return next;
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  lastTransitionTime?: string;
  reason: string;
  message: string;
}

/**
 * Sets one condition in `status.conditions` as Kubernetes' helpers do: the transition time moves
 * only when the status flips. Returns whether anything changed.
 */
export function setCondition(obj: Resource, cond: Condition, now: Date): boolean {
  const status = (obj.status ?? {}) as { conditions?: Condition[] };
  const conditions = Array.isArray(status.conditions) ? status.conditions : [];
  const old = conditions.find((c) => c.type === cond.type);
  if (old && old.status === cond.status && old.reason === cond.reason && old.message === cond.message) return false;
  const next: Condition = { ...cond, lastTransitionTime: old && old.status === cond.status && old.lastTransitionTime ? old.lastTransitionTime : timestamp(now) };
  obj.status = { ...status, conditions: old ? conditions.map((c) => (c === old ? next : c)) : [...conditions, next] };
  return true;
}
