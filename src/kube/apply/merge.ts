/**
 * Merging an applied configuration into the live object, as structured-merge-diff does: maps merge
 * key by key, associative lists item by item (matched on their keys), sets by value; scalars, atomic
 * lists and atomic maps are replaced by the applied value. Pure: neither input is changed.
 */
import { fieldSchema, type ApplySchema } from './schema.js';
import { isObj, itemElement } from './fields.js';

export function mergeApplied(live: unknown, applied: unknown, s: ApplySchema): unknown {
  // One copy of each input up front; the merge then reuses their parts instead of copying per level.
  return mergeOwned(structuredClone(live), structuredClone(applied), s);
}

/** mergeApplied on values the caller owns: their parts end up in the result. */
function mergeOwned(live: unknown, applied: unknown, s: ApplySchema): unknown {
  if (isObj(applied)) {
    if (!isObj(live) || s.atomic) return applied;
    for (const [k, v] of Object.entries(applied)) live[k] = k in live ? mergeOwned(live[k], v, fieldSchema(s, k)) : v;
    return live;
  }
  if (Array.isArray(applied) && Array.isArray(live) && (s.list === 'map' || s.list === 'set')) {
    // Live items keep their place; applied items not yet live follow, in the applied order.
    const index = new Map(live.map((item, i) => [itemElement(item, i, s), i]));
    applied.forEach((item, i) => {
      const e = itemElement(item, i, s);
      const at = index.get(e);
      if (at === undefined) {
        index.set(e, live.length);
        live.push(item);
      } else if (s.list === 'map') {
        live[at] = mergeOwned(live[at], item, s);
      }
    });
    return live;
  }
  return applied;
}

/** Two items of a list collide when the list's type gives them the same path element. */
export function duplicateItems(value: unknown, s: ApplySchema, prefix = ''): string | undefined {
  if (Array.isArray(value)) {
    if (s.list === 'map' || s.list === 'set') {
      const seen = new Set<string>();
      for (const [i, item] of value.entries()) {
        const e = itemElement(item, i, s);
        if (e.startsWith('i:')) return `${prefix}[${i}]: the item lacks a key field of ${JSON.stringify(s.keys ?? [])}`;
        if (seen.has(e)) return `${prefix}: duplicate entries for ${e.slice(2)}`;
        seen.add(e);
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
