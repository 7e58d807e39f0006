/**
 * Pruning as the apiserver does it for structural schemas: a field the schema does not specify is
 * dropped, unless the node says `x-kubernetes-preserve-unknown-fields: true` (or is
 * `additionalProperties: true`). apiVersion, kind and metadata of the object (and of every
 * `x-kubernetes-embedded-resource`) are always kept; metadata is pruned to ObjectMeta's fields.
 * The dropped paths are returned so the server can refuse them (`fieldValidation=Strict`) or warn.
 */
import type { JSONSchemaProps } from '../registry/types.js';
import { FieldPath } from './causes.js';
import { deepClone, isObject, preservesUnknown, type JsonObject } from './walk.js';

export interface PruneResult<T = unknown> {
  pruned: T;
  /** the dropped fields, as the apiserver names them: `spec.foo`, `spec.rules[0].bar`, `metadata.baz` */
  unknownFields: string[];
}

/** The fields of `metav1.ObjectMeta` (those a client may send; anything else in metadata is unknown). */
export const OBJECT_META_FIELDS: ReadonlySet<string> = new Set([
  'name', 'generateName', 'namespace', 'selfLink', 'uid', 'resourceVersion', 'generation', 'creationTimestamp',
  'deletionTimestamp', 'deletionGracePeriodSeconds', 'labels', 'annotations', 'ownerReferences', 'finalizers', 'managedFields',
]);

/** Returns a pruned copy of `obj` (the input is not modified). */
export function prune<T = unknown>(obj: T, schema: JSONSchemaProps): PruneResult<T> {
  const copy = deepClone(obj);
  const unknownFields: string[] = [];
  pruneNode(copy, schema, FieldPath.root(), true, unknownFields);
  return { pruned: copy, unknownFields };
}

function pruneNode(value: unknown, s: JSONSchemaProps | undefined, path: FieldPath, isResource: boolean, unknown: string[]): void {
  if (Array.isArray(value)) {
    if (!s?.items) return;
    value.forEach((item, i) => pruneNode(item, s.items, path.index(i), s.items!['x-kubernetes-embedded-resource'] === true, unknown));
    return;
  }
  if (!isObject(value) || s === undefined) return;
  for (const k of Object.keys(value)) {
    const child = path.child(k);
    if (isResource && (k === 'apiVersion' || k === 'kind')) continue;
    if (isResource && k === 'metadata') {
      pruneObjectMeta(value[k], child, unknown);
      continue;
    }
    const prop = s.properties?.[k] ?? (isObject(s.additionalProperties) ? s.additionalProperties : undefined);
    if (prop) {
      pruneNode(value[k], prop, child, prop['x-kubernetes-embedded-resource'] === true, unknown);
    } else if (!preservesUnknown(s) && s.additionalProperties !== true) {
      unknown.push(child.toString());
      delete value[k];
    }
  }
}

function pruneObjectMeta(meta: unknown, path: FieldPath, unknown: string[]): void {
  if (!isObject(meta)) return;
  for (const k of Object.keys(meta)) {
    if (!OBJECT_META_FIELDS.has(k)) {
      unknown.push(path.child(k).toString());
      delete (meta as JsonObject)[k];
    }
  }
}
