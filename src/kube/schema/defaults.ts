/**
 * Defaulting as the apiserver does it for structural schemas: a property missing from an object gets
 * the schema's `default` (and is then defaulted further inside); a `null` in a field that is not
 * nullable is replaced by the default, or dropped when there is none (a client sending null for a
 * non-nullable field means "unset"). Defaults are applied top-down, inside arrays and maps too.
 */
import type { JSONSchemaProps } from '../registry/types.js';
import { deepClone, isObject } from './walk.js';

/** Returns a defaulted copy of `obj` (the input is not modified). */
export function applyDefaults<T = unknown>(obj: T, schema: JSONSchemaProps): T {
  const copy = deepClone(obj);
  defaultNode(copy, schema);
  return copy;
}

function defaultNode(value: unknown, s: JSONSchemaProps | undefined): void {
  if (s === undefined) return;
  if (Array.isArray(value)) {
    for (const item of value) defaultNode(item, s.items);
    return;
  }
  if (!isObject(value)) return;
  for (const [k, prop] of Object.entries(s.properties ?? {})) {
    if (value[k] === null && !prop.nullable) {
      if (prop.default !== undefined) value[k] = deepClone(prop.default);
      else delete value[k];
    } else if (!(k in value) && prop.default !== undefined) {
      value[k] = deepClone(prop.default);
    }
    defaultNode(value[k], prop);
  }
  if (isObject(s.additionalProperties)) {
    const extra = s.additionalProperties;
    for (const k of Object.keys(value)) {
      if (s.properties?.[k]) continue;
      if (value[k] === null && !extra.nullable) {
        if (extra.default !== undefined) value[k] = deepClone(extra.default);
        else delete value[k];
      }
      defaultNode(value[k], extra);
    }
  }
}
