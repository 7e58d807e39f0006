/**
 * The fields of an object as a FieldSet, reading a value at a path, removing one, and the fields
 * that differ between two objects: what structured-merge-diff computes to record ownership.
 */
import { fieldSchema, type ApplySchema } from './schema.js';
import { fieldElement, FieldSet, keyElement, valueElement, type Path, type PathElement } from './fieldset.js';

type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObj(a) && isObj(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

/** The key fields of an associative-list item (defaults filled in); undefined when one is missing. */
export function itemKey(item: unknown, s: ApplySchema): Record<string, unknown> | undefined {
  if (!isObj(item)) return undefined;
  const key: Record<string, unknown> = {};
  for (const k of s.keys ?? []) {
    const v = item[k] ?? s.keyDefaults?.[k];
    if (v === undefined || v === null) return undefined;
    key[k] = v;
  }
  return key;
}

/** The path element of list item `item` at `index`, by the list's type. */
export function itemElement(item: unknown, index: number, s: ApplySchema): PathElement {
  if (s.list === 'map') {
    const key = itemKey(item, s);
    if (key) return keyElement(key);
  }
  if (s.list === 'set') return valueElement(item);
  return `i:${index}`;
}

function isLeaf(v: unknown, s: ApplySchema): boolean {
  if (Array.isArray(v)) return s.list !== 'map' && s.list !== 'set';
  if (isObj(v)) return s.atomic === true || Object.keys(v).length === 0;
  return true;
}

/**
 * Every field `value` sets: scalars, atomic lists and maps, and empty maps are members; a granular
 * map contributes its keys; associative-list and set items are members with their own fields below.
 * `leaf` is told each member that has no fields below it, with its value.
 */
function walkFields(value: unknown, s: ApplySchema, member: (p: Path) => void, leaf?: (p: Path, v: unknown) => void, map?: (p: Path) => void): void {
  const walk = (v: unknown, sch: ApplySchema, prefix: PathElement[]): void => {
    if (prefix.length > 0 && isLeaf(v, sch)) {
      member(prefix);
      leaf?.(prefix, v);
      return;
    }
    if (Array.isArray(v)) {
      v.forEach((item, i) => {
        const p = [...prefix, itemElement(item, i, sch)];
        member(p);
        if (sch.list === 'map' && isObj(item)) for (const [k, c] of Object.entries(item)) walk(c, fieldSchema(sch, k), [...p, fieldElement(k)]);
        else leaf?.(p, item);
      });
      return;
    }
    if (isObj(v)) {
      if (prefix.length > 0 && !sch.struct) map?.(prefix);
      for (const [k, c] of Object.entries(v)) walk(c, fieldSchema(sch, k), [...prefix, fieldElement(k)]);
    }
  };
  walk(value, s, []);
}

export interface Analysis {
  /** every field the value sets (fieldsOf) */
  fields: FieldSet;
  /** the value of each leaf member, by pathKey */
  leaves: Map<string, unknown>;
  /** the granular maps it has (mapsOf) */
  maps: FieldSet;
}

/** fieldsOf, leafValues and mapsOf in one walk. */
export function analyze(value: unknown, s: ApplySchema): Analysis {
  const members: Path[] = [];
  const maps: Path[] = [];
  const leaves = new Map<string, unknown>();
  walkFields(value, s, (p) => members.push(p), (p, v) => leaves.set(pathKey(p), v), (p) => maps.push(p));
  return { fields: FieldSet.of(members), leaves, maps: FieldSet.of(maps) };
}

export function fieldsOf(value: unknown, s: ApplySchema): FieldSet {
  const paths: Path[] = [];
  walkFields(value, s, (p) => paths.push(p));
  return FieldSet.of(paths);
}

/** A key for a path in a Map. */
export function pathKey(p: Path): string {
  return JSON.stringify(p);
}

/** The value of every leaf member of `value`, by pathKey: what conflicts and changes compare. */
export function leafValues(value: unknown, s: ApplySchema): Map<string, unknown> {
  const out = new Map<string, unknown>();
  walkFields(value, s, () => undefined, (p, v) => out.set(pathKey(p), v));
  return out;
}

interface Located {
  /** the map or list holding the value */
  parent: Obj | unknown[];
  /** its key in a map, its index in a list */
  at: string | number;
  value: unknown;
}

/** Finds the value at `path` in `root`, following list items by key, value or index. */
export function locate(root: unknown, path: Path, s: ApplySchema): Located | undefined {
  let cur: unknown = root;
  let sch = s;
  let found: Located | undefined;
  for (const e of path) {
    const body = e.slice(2);
    if (e.startsWith('f:')) {
      if (!isObj(cur) || !Object.prototype.hasOwnProperty.call(cur, body)) return undefined;
      found = { parent: cur, at: body, value: cur[body] };
      sch = fieldSchema(sch, body);
    } else {
      if (!Array.isArray(cur)) return undefined;
      const list = cur;
      const i = list.findIndex((item, idx) => itemElement(item, idx, sch) === e);
      if (i < 0) return undefined;
      found = { parent: list, at: i, value: list[i] };
      // the item's fields are described by the list's schema
    }
    cur = found.value;
  }
  return found;
}

/** Removes the value at `path` from `root` (mutating it); nothing when it is absent. */
export function removeAt(root: unknown, path: Path, s: ApplySchema): void {
  const hit = locate(root, path, s);
  if (!hit) return;
  if (Array.isArray(hit.parent)) hit.parent.splice(hit.at as number, 1);
  else delete hit.parent[hit.at as string];
}

/**
 * The members of `after` whose value is new or differs from `before`'s, and the members of
 * `before` that `after` no longer has: an Update's added/modified and removed fields.
 */
export function compare(before: unknown, after: unknown, s: ApplySchema): { changed: FieldSet; removed: FieldSet } {
  const a = analyze(before, s);
  const b = analyze(after, s);
  const changed = b.fields.members().filter((p) => {
    if (!a.fields.has(p)) return true;
    const k = pathKey(p);
    // containers change through their children
    return b.leaves.has(k) && !deepEqual(a.leaves.get(k), b.leaves.get(k));
  });
  return {
    changed: FieldSet.of(changed).union(b.maps.difference(a.maps)),
    removed: a.fields.difference(b.fields).union(a.maps.difference(b.maps)),
  };
}

/**
 * The granular maps (not structs, not atomic) `value` has, below the root: the containers an
 * Update owns as such (`.` in FieldsV1) when it brings them into existence.
 */
export function mapsOf(value: unknown, s: ApplySchema): FieldSet {
  return analyze(value, s).maps;
}
