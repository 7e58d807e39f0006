/**
 * Kubernetes strategic merge patch, applied the way kube-apiserver applies it
 * (k8s.io/apimachinery/pkg/util/strategicpatch, server side: parallel lists merged, unmatched nulls
 * dropped). Differences from a plain RFC 7386 merge come from the schema: a list tagged
 * `patchStrategy: merge` merges by its `patchMergeKey` (or as a set when it holds primitives), every
 * other list is replaced. Directives carried in the patch:
 *   $patch: replace | delete | merge       on a map: replace it, empty it, merge it (the default)
 *   {$patch: replace}                      as a list element: the list becomes the other elements
 *   {<key>: v, $patch: delete}             as a list element: drop the elements with that merge key
 *   $retainKeys: [fields]                  drop the target's fields not listed
 *   $setElementOrder/<list>: [...]         final order of the listed elements
 *   $deleteFromPrimitiveList/<list>: [...] remove these values from a merged primitive list
 *
 * The target is cloned once and merged in place; values coming from the patch are rebuilt as they
 * are inserted (dropping nulls and directives), so neither input is mutated and the result shares
 * nothing with them.
 */

import { PatchError } from './errors.js';
import { deepClone, describe, getOwn, hasOwn, isObject, put, type JsonObject } from './json.js';

/**
 * The patch metadata of one field, mirroring the `patchStrategy` / `patchMergeKey` struct tags of
 * k8s.io/api. The root describes the object itself; `fields` describes its fields, or for a list,
 * the fields of each element. A field without an entry merges if it is a map and is replaced if it
 * is a list.
 */
export interface StrategicSchema {
  /** 'merge': a list merges (by patchMergeKey, or as a set of primitives); 'replace': replaced whole, maps too. */
  readonly patchStrategy?: 'merge' | 'replace';
  readonly patchMergeKey?: string;
  /**
   * The k8s `retainKeys` strategy: kubectl apply sends `$retainKeys` for this field (a map, or each
   * element of a list). Applying honours `$retainKeys` wherever it appears, as kube-apiserver does;
   * this flag records where clients generate it.
   */
  readonly retainKeys?: boolean;
  readonly fields?: { readonly [field: string]: StrategicSchema };
}

const DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const SET_ORDER = '$setElementOrder/';
const DELETE_PRIMITIVES = '$deleteFromPrimitiveList/';

export function applyStrategicMergePatch(target: unknown, patch: unknown, schema: StrategicSchema): unknown {
  if (!isObject(patch)) throw invalid('', `a strategic merge patch must be a JSON object, got ${describe(patch)}`);
  const base = isObject(target) ? (deepClone(target) as JsonObject) : {};
  return mergeMap(base, patch, schema, '');
}

function invalid(path: string, msg: string): PatchError {
  return new PatchError('PATCH_INVALID', path === '' ? msg : `${path}: ${msg}`, { path });
}

function conflict(path: string, msg: string): PatchError {
  return new PatchError('PATCH_CONFLICT', path === '' ? msg : `${path}: ${msg}`, { path });
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function fieldSchema(schema: StrategicSchema | undefined, field: string): StrategicSchema | undefined {
  const fields = schema?.fields;
  return fields && hasOwn(fields, field) ? fields[field] : undefined;
}

/** Merges `patch` into `orig` (owned: edited in place) and returns the result, which may be a new map. */
function mergeMap(orig: JsonObject, patch: JsonObject, schema: StrategicSchema | undefined, path: string): JsonObject {
  if (hasOwn(patch, DIRECTIVE)) {
    const directive = patch[DIRECTIVE];
    if (directive === 'replace') return mergeFields({}, patch, schema, path);
    // kube-apiserver leaves an empty map (not an absent field) for `$patch: delete` on a map.
    if (directive === 'delete') return {};
    if (directive !== 'merge') throw invalid(path, `unknown $patch directive ${JSON.stringify(directive)} (want replace, merge or delete)`);
  }
  return mergeFields(orig, patch, schema, path);
}

function mergeFields(orig: JsonObject, patch: JsonObject, schema: StrategicSchema | undefined, path: string): JsonObject {
  const keys = Object.keys(patch);
  if (hasOwn(patch, RETAIN_KEYS)) applyRetainKeys(orig, patch, keys, path);

  // Ordered lists are merged first, together with their ordering, as kube-apiserver does.
  let ordered: Set<string> | undefined;
  for (const k of keys) {
    if (!k.startsWith(SET_ORDER)) continue;
    const field = k.slice(SET_ORDER.length);
    if (field === '') throw invalid(join(path, k), `${SET_ORDER}<field> needs a field name`);
    if (applySetElementOrder(orig, patch, field, patch[k], fieldSchema(schema, field), path)) (ordered ??= new Set()).add(field);
  }

  let deletions: string[] | undefined;
  for (const k of keys) {
    if (k.charCodeAt(0) === 36 /* $ */) {
      if (k === DIRECTIVE || k === RETAIN_KEYS || k.startsWith(SET_ORDER)) continue;
      if (k.startsWith(DELETE_PRIMITIVES)) {
        (deletions ??= []).push(k);
        continue;
      }
      throw invalid(join(path, k), `unknown directive ${JSON.stringify(k)}`);
    }
    if (ordered?.has(k)) continue;
    const pv = patch[k];
    if (pv === null) {
      delete orig[k];
      continue;
    }
    const fs = fieldSchema(schema, k);
    const fpath = join(path, k);
    const ov = getOwn(orig, k);
    if (isObject(ov) && isObject(pv)) {
      put(orig, k, fs?.patchStrategy === 'replace' ? fresh(pv, fs, fpath) : mergeMap(ov, pv, fs, fpath));
    } else if (Array.isArray(ov) && Array.isArray(pv)) {
      put(orig, k, mergeListField(ov, pv, fs, fpath));
    } else {
      // Absent, or of another type: the patch value wins (kube-apiserver does the same).
      put(orig, k, fresh(pv, fs, fpath));
    }
  }

  // Deletions run last so that a value added and deleted by one patch ends up deleted, whatever the key order.
  if (deletions) for (const k of deletions) deleteFromPrimitiveList(orig, k, patch[k], path);
  return orig;
}

/** A value from the patch with no counterpart in the target: rebuilt so nulls and directives do not leak into the object. */
function fresh(pv: unknown, schema: StrategicSchema | undefined, path: string): unknown {
  if (isObject(pv)) return mergeMap({}, pv, schema, path);
  if (Array.isArray(pv)) return mergeListField([], pv, schema, path);
  return pv;
}

function applyRetainKeys(orig: JsonObject, patch: JsonObject, keys: string[], path: string): void {
  const list = patch[RETAIN_KEYS];
  const rpath = join(path, RETAIN_KEYS);
  if (!Array.isArray(list) || !list.every((v) => typeof v === 'string')) {
    throw invalid(rpath, `must be a list of field names, got ${describe(list)}`);
  }
  const retain = new Set<string>(list as string[]);
  for (const k of keys) {
    if (k === DIRECTIVE || k === RETAIN_KEYS || k.startsWith(SET_ORDER) || k.startsWith(DELETE_PRIMITIVES)) continue;
    if (patch[k] === null) continue;
    // The patch would otherwise set a field that its own $retainKeys tells us to drop.
    if (!retain.has(k)) throw invalid(rpath, `the patch sets ${JSON.stringify(k)}, which is not listed in $retainKeys`);
  }
  for (const k of Object.keys(orig)) if (!retain.has(k)) delete orig[k];
}

function deleteFromPrimitiveList(orig: JsonObject, key: string, values: unknown, path: string): void {
  const field = key.slice(DELETE_PRIMITIVES.length);
  const dpath = join(path, key);
  if (field === '') throw invalid(dpath, `${DELETE_PRIMITIVES}<field> needs a field name`);
  if (!Array.isArray(values) || values.some((v) => typeof v === 'object' && v !== null)) {
    throw invalid(dpath, `must be a list of primitive values, got ${describe(values)}`);
  }
  const current = getOwn(orig, field);
  if (!Array.isArray(current)) return;
  const drop = new Set(values);
  put(orig, field, current.filter((v) => !drop.has(v)));
}

function mergeListField(orig: unknown[], patch: unknown[], schema: StrategicSchema | undefined, path: string): unknown[] {
  return schema?.patchStrategy === 'merge' ? mergeList(orig, patch, schema, path) : replaceList(patch, schema, path);
}

/** A list without the merge strategy takes the patch's list; directive elements only make sense for merging lists. */
function replaceList(patch: unknown[], schema: StrategicSchema | undefined, path: string): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < patch.length; i++) {
    const el = patch[i];
    if (isObject(el) && hasOwn(el, DIRECTIVE)) {
      const d = el[DIRECTIVE];
      if (d === 'replace') continue; // replacing is what this list does anyway
      if (d === 'delete' || d === 'merge') {
        throw invalid(`${path}[${i}]`, `$patch: ${d} needs a list with patchStrategy merge, and ${path} has none`);
      }
      throw invalid(`${path}[${i}]`, `unknown $patch directive ${JSON.stringify(d)} (want replace, merge or delete)`);
    }
    out.push(fresh(el, schema, `${path}[${i}]`));
  }
  return out;
}

type ElementKind = 'map' | 'scalar';

function elementKind(orig: unknown[], patch: unknown[], path: string): ElementKind {
  let patchKind: ElementKind | undefined;
  for (let i = 0; i < patch.length; i++) {
    const el = patch[i];
    if (Array.isArray(el)) throw invalid(`${path}[${i}]`, 'lists of lists cannot be merged');
    const kind: ElementKind = isObject(el) ? 'map' : 'scalar';
    if (patchKind && kind !== patchKind) throw invalid(`${path}[${i}]`, 'list elements must be all objects or all primitive values');
    patchKind = kind;
  }
  let origKind: ElementKind | undefined;
  for (let i = 0; i < orig.length; i++) {
    const el = orig[i];
    const kind: ElementKind = isObject(el) ? 'map' : 'scalar';
    if (Array.isArray(el) || (origKind && kind !== origKind) || (patchKind && kind !== patchKind)) {
      const want = patchKind ?? origKind;
      throw conflict(`${path}[${i}]`, `the list holds ${describe(el)} where ${want === 'map' ? 'an object' : 'a primitive value'} was expected`);
    }
    origKind = kind;
  }
  return (patchKind ?? origKind)!;
}

function mergeList(orig: unknown[], patch: unknown[], schema: StrategicSchema, path: string): unknown[] {
  if (orig.length === 0 && patch.length === 0) return orig;
  if (elementKind(orig, patch, path) === 'scalar') {
    const merged = [...new Set([...orig, ...patch])];
    const patchOrder = indexBy(patch, identity);
    return interleave(merged, patchOrder, indexBy(orig, identity), identity);
  }

  const key = schema.patchMergeKey;
  if (key === undefined) throw invalid(path, 'a list of objects with patchStrategy merge needs a patchMergeKey');
  const keyOf = (m: unknown): unknown => (isObject(m) && hasOwn(m, key) ? m[key] : undefined);

  const gone = new Set<unknown>();
  let replace = false;
  const plain: { el: JsonObject; i: number }[] = [];
  for (let i = 0; i < patch.length; i++) {
    const el = patch[i] as JsonObject;
    if (!hasOwn(el, DIRECTIVE)) {
      plain.push({ el, i });
      continue;
    }
    const d = el[DIRECTIVE];
    if (d === 'delete') {
      if (!hasOwn(el, key)) throw invalid(`${path}[${i}]`, `$patch: delete needs the merge key ${JSON.stringify(key)}`);
      gone.add(el[key]);
    } else if (d === 'replace') {
      replace = true;
    } else if (d === 'merge') {
      // An explicit merge is the default; an element carrying fields besides the marker is merged as usual.
      if (Object.keys(el).length > 1) plain.push({ el, i });
    } else {
      throw invalid(`${path}[${i}]`, `unknown $patch directive ${JSON.stringify(d)} (want replace, merge or delete)`);
    }
  }
  if (replace) return plain.map(({ el, i }) => fresh(el, schema, `${path}[${i}]`));

  // One pass for all deletions: a long list of `$patch: delete` elements must not cost n² here.
  const working = gone.size === 0 ? orig : orig.filter((m) => !gone.has(keyOf(m)));

  for (let i = 0; i < working.length; i++) {
    if (keyOf(working[i]) === undefined) throw conflict(`${path}[${i}]`, `list element has no merge key ${JSON.stringify(key)}`);
  }
  const serverOrder = indexBy(working, keyOf);
  const merged = working === orig ? orig.slice() : working;
  const at = new Map(serverOrder);
  const patchOrder = new Map<unknown, number>();
  for (const { el, i } of plain) {
    if (!hasOwn(el, key)) throw invalid(`${path}[${i}]`, `list element has no merge key ${JSON.stringify(key)}`);
    const k = el[key];
    if (!patchOrder.has(k)) patchOrder.set(k, patchOrder.size);
    const existing = at.get(k);
    if (existing !== undefined) {
      merged[existing] = mergeMap(merged[existing] as JsonObject, el, schema, `${path}[${i}]`);
    } else {
      at.set(k, merged.length);
      merged.push(fresh(el, schema, `${path}[${i}]`));
    }
  }
  return interleave(merged, patchOrder, serverOrder, keyOf);
}

/**
 * `$setElementOrder/<field>`: merge the field's list as usual, then order the elements the directive
 * names as it says, keeping the other (server-only) elements near where they were.
 * Returns false when the field is left to the ordinary merge (the patch deletes it).
 */
function applySetElementOrder(
  orig: JsonObject,
  patch: JsonObject,
  field: string,
  order: unknown,
  schema: StrategicSchema | undefined,
  path: string,
): boolean {
  const opath = join(path, SET_ORDER + field);
  const fpath = join(path, field);
  if (!Array.isArray(order)) throw invalid(opath, `must be a list, got ${describe(order)}`);
  const inPatch = hasOwn(patch, field);
  const pv = inPatch ? patch[field] : undefined;
  if (pv === null) return false;
  if (inPatch && !Array.isArray(pv)) throw invalid(fpath, `${SET_ORDER}${field} is given but ${field} is ${describe(pv)}, not a list`);
  const ov = getOwn(orig, field);
  const inOrig = Array.isArray(ov);
  if (!inOrig && !inPatch) return true;

  const patchList = (pv ?? []) as unknown[];
  const mapMode = order.some(isObject) || patchList.some(isObject) || (inOrig && (ov as unknown[]).some(isObject));
  let keyOf: (m: unknown) => unknown = identity;
  if (mapMode) {
    const key = schema?.patchMergeKey;
    if (key === undefined) throw invalid(opath, `${field} has no merge key, so its elements cannot be ordered`);
    keyOf = (m) => (isObject(m) && hasOwn(m, key) ? m[key] : undefined);
    order.forEach((o, i) => {
      if (keyOf(o) === undefined) throw invalid(`${opath}[${i}]`, `must be an object with the merge key ${JSON.stringify(key)}`);
    });
  } else if (order.some((o) => typeof o === 'object' && o !== null)) {
    throw invalid(opath, 'must list primitive values');
  }

  // The patch list must follow the directive's order (kube-apiserver rejects it otherwise).
  let j = 0;
  for (let i = 0; i < patchList.length; i++) {
    const el = patchList[i];
    if (isObject(el) && hasOwn(el, DIRECTIVE)) continue;
    const k = keyOf(el);
    while (j < order.length && keyOf(order[j]) !== k) j++;
    if (j === order.length) throw invalid(`${fpath}[${i}]`, `the order of ${field} in the patch does not match ${SET_ORDER}${field}`);
    j++;
  }

  const merged = inOrig && inPatch ? mergeListField(ov as unknown[], patchList, schema, fpath) : inPatch ? mergeListField([], patchList, schema, fpath) : (ov as unknown[]);
  const result = interleave(merged, indexBy(order, keyOf), inOrig ? indexBy(ov as unknown[], keyOf) : new Map(), keyOf);
  put(orig, field, result);
  return true;
}

function identity(v: unknown): unknown {
  return v;
}

/** First position of each key: duplicate keys rank where they first appear. */
function indexBy(list: unknown[], keyOf: (m: unknown) => unknown): Map<unknown, number> {
  const index = new Map<unknown, number>();
  for (let i = 0; i < list.length; i++) {
    const k = keyOf(list[i]);
    if (k !== undefined && !index.has(k)) index.set(k, i);
  }
  return index;
}

/**
 * kube-apiserver's ordering of a merged list: the elements the patch names, in the patch's order,
 * and the server-only elements, in their old order, interleaved by their old positions. An element
 * the server did not have goes before the next server-only element, which is why a new container
 * added by `kubectl patch` ends up first; kubectl apply sends $setElementOrder to avoid that.
 */
function interleave(merged: unknown[], patchOrder: Map<unknown, number>, serverOrder: Map<unknown, number>, keyOf: (m: unknown) => unknown): unknown[] {
  const fromPatch: unknown[] = [];
  const serverOnly: unknown[] = [];
  for (const m of merged) (patchOrder.has(keyOf(m)) ? fromPatch : serverOnly).push(m);
  sortByRank(fromPatch, patchOrder, keyOf);
  sortByRank(serverOnly, serverOrder, keyOf);
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < serverOnly.length && j < fromPatch.length) {
    const left = serverOrder.get(keyOf(serverOnly[i]));
    const right = serverOrder.get(keyOf(fromPatch[j]));
    if (left !== undefined && right !== undefined && left < right) out.push(serverOnly[i++]);
    else out.push(fromPatch[j++]);
  }
  while (i < serverOnly.length) out.push(serverOnly[i++]);
  while (j < fromPatch.length) out.push(fromPatch[j++]);
  return out;
}

/** Stable sort by rank; elements without one keep their relative order after the ranked ones. */
function sortByRank(list: unknown[], rank: Map<unknown, number>, keyOf: (m: unknown) => unknown): void {
  if (list.length < 2) return;
  const decorated = list.map((v) => ({ v, r: rank.get(keyOf(v)) ?? Number.POSITIVE_INFINITY }));
  decorated.sort((a, b) => (a.r === b.r ? 0 : a.r < b.r ? -1 : 1));
  for (let i = 0; i < list.length; i++) list[i] = decorated[i]!.v;
}
