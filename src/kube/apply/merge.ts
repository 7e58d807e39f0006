/**
 * Merging an applied configuration into the live object, as structured-merge-diff does: maps merge
 * key by key, associative lists item by item (matched on their keys), sets by value; scalars, atomic
 * lists and atomic maps are replaced by the applied value. Pure: neither input is changed.
 */
import { fieldSchema, type ApplySchema } from './schema.js';
import { deepEqual, isObj, itemElement } from './fields.js';

export function mergeApplied(live: unknown, applied: unknown, s: ApplySchema): unknown {
  if (isObj(applied)) {
    if (!isObj(live) || s.atomic) return structuredClone(applied);
    const out: Record<string, unknown> = structuredClone(live);
    for (const [k, v] of Object.entries(applied)) out[k] = k in out ? mergeApplied(out[k], v, fieldSchema(s, k)) : structuredClone(v);
    return out;
  }
  if (Array.isArray(applied) && Array.isArray(live) && (s.list === 'map' || s.list === 'set')) {
    // Live items keep their place; applied items not yet live follow, in the applied order.
    const out: unknown[] = structuredClone(live);
    const index = new Map(out.map((item, i) => [itemElement(item, i, s), i]));
    applied.forEach((item, i) => {
      const e = itemElement(item, i, s);
      const at = index.get(e);
      if (at === undefined) {
        index.set(e, out.length);
        out.push(structuredClone(item));
      } else if (s.list === 'map') {
        out[at] = mergeApplied(out[at], item, s);
      }
    });
    return out;
  }
  return structuredClone(applied);
}

/** Two items of a list collide when the list's type gives them the same path element. */
export function duplicateItems(value: unknown, s: ApplySchema, prefix = ''): string | undefined {
  if (Array.isArray(value)) {
    if (s.list === 'map' || s.list === 'set') {
      const seen: unknown[] = [];
      for (const [i, item] of value.entries()) {
        const e = itemElement(item, i, s);
        if (e.startsWith('i:')) return `${prefix}[${i}]: the item lacks a key field of ${JSON.stringify(s.keys ?? [])}`;
        if (seen.some((x) => deepEqual(x, e))) return `${prefix}: duplicate entries for ${e.slice(2)}`;
        seen.push(e);
      }
    }
    if (s.list === 'map') {
      for (const [i, item] of value.entries()) {
        const bad = duplicateItems(item, s, `${prefix}[${i}]`);
        if (bad) return bad;
      }
    }
    return undefined;
  }
  if (isObj(value)) {
    for (const [k, v] of Object.entries(value)) {
      const bad = duplicateItems(v, fieldSchema(s, k), `${prefix}.${k}`);
      if (bad) return bad;
    }
  }
  return undefined;
}
