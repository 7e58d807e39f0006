/**
 * RFC 7386 JSON merge patch. Builds the result in one pass over target and patch: untouched
 * subtrees are copied once, patched ones are rebuilt, so the inputs are never mutated and the result
 * shares no objects with them (the server goes on to mutate it, e.g. to set metadata).
 */

import { deepClone, hasOwn, isObject, put, type JsonObject } from './json.js';

export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return deepClone(patch);
  const out: JsonObject = {};
  if (isObject(target)) {
    // Walk the target first so existing keys keep their order: stored objects diff cleanly.
    for (const k of Object.keys(target)) {
      if (!hasOwn(patch, k)) put(out, k, deepClone(target[k]));
      else if (patch[k] !== null) put(out, k, applyMergePatch(target[k], patch[k]));
    }
    for (const k of Object.keys(patch)) {
      if (!hasOwn(target, k) && patch[k] !== null) put(out, k, applyMergePatch(undefined, patch[k]));
    }
    return out;
  }
  for (const k of Object.keys(patch)) {
    if (patch[k] !== null) put(out, k, applyMergePatch(undefined, patch[k]));
  }
  return out;
}
