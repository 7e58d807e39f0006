/**
 * Snapshot deltas: what changed between two versions of one proxy's snapshot, as a patch the sidecar
 * applies onto the version it holds, then checks against the version the control plane computed.
 *
 * A patch follows the version's hash tree (canonical.ts, HASH_TREE_DEPTH): objects are patched key
 * by key, arrays element by element, and below the tree's depth values are replaced whole. So a
 * change to one Service resends that Service's cluster and the port's match list, not the Outbound
 * section every client holds, and the sidecar re-hashes only the path to what changed.
 *
 * Patch format (JSON), one operation per node:
 *   {"r": value}                         replace the node with value
 *   {"o": {key: op}, "d": [key], "i": [[key, index]], "k": [key]}
 *                                        patch an object: ops on kept or new keys, keys deleted, and
 *                                        when the order is not "old order, deleted keys removed, new
 *                                        keys appended": where the new keys go (`i`, indexes in the new
 *                                        order, ascending) or, when kept keys moved, the whole order (`k`).
 *                                        Key order is what a full snapshot's JSON would give, and some
 *                                        sections are read in order.
 *   {"a": [index | {"r": value}]}         rebuild an array: an index reuses that element of the old array
 *
 * Pure: no I/O. The encoder trusts that frozen values never change (section-cache.ts); the decoder
 * trusts nothing and throws DeltaError on anything that does not fit the snapshot it holds.
 */
import { combineHashes, isHashNode, jsonKeeps, treeHash } from './canonical.js';
import { frozenAwareJson } from './wire-json.js';
import type { ProxySnapshot } from './types.js';

/**
 * The request header a sidecar sends on its stream when it can apply `delta` events (value `1`).
 * Compatibility: a controller that knows no deltas ignores it and sends whole snapshots; a sidecar
 * that does not send it gets whole snapshots from this controller (control-plane/controller.ts).
 */
export const DELTAS_HEADER = 'x-tessera-deltas';

export type PatchOp = { r: unknown } | { o: Record<string, PatchOp>; d?: string[]; k?: string[]; i?: [string, number][] } | { a: (number | { r: unknown })[] };

/** The event a delta travels in (and the data of the `delta` SSE event). */
export interface SnapshotDelta {
  /** the version the patch applies to */
  base: string;
  /** the version the patched snapshot must hash to */
  version: string;
  patch: PatchOp;
}

export class DeltaError extends Error {
  readonly code = 'MESH_ERR_DELTA';
  constructor(message: string) {
    super(message);
    this.name = 'DeltaError';
  }
}

/** The hashes of a snapshot's tree, kept beside the snapshot the sidecar holds. */
export interface HashTree {
  h: string;
  /** children of a node above HASH_TREE_DEPTH: by key for objects, by index for arrays */
  c?: Map<string, HashTree> | HashTree[];
}

export function buildHashTree(v: unknown, depth = 0): HashTree {
  if (!isHashNode(v, depth)) return { h: treeHash(v, depth) };
  if (Array.isArray(v)) {
    const c = v.map((e) => buildHashTree(jsonKeeps(e) ? e : null, depth + 1));
    return { h: combineHashes('a', c.map((t, i) => [String(i), t.h] as const)), c };
  }
  const record = v as Record<string, unknown>;
  const c = new Map<string, HashTree>();
  for (const k of Object.keys(record)) if (jsonKeeps(record[k])) c.set(k, buildHashTree(record[k], depth + 1));
  return { h: objectHash(c), c };
}

function objectHash(c: Map<string, HashTree>): string {
  return combineHashes('o', [...c].map(([k, t]) => [k, t.h] as const).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

const keptKeys = (r: Record<string, unknown>): string[] => Object.keys(r).filter((k) => jsonKeeps(r[k]));

/** The key order a patch gives when it names none: old keys minus deleted ones, then new keys in patch order. */
function defaultOrder(oldKeys: readonly string[], deleted: ReadonlySet<string>, added: readonly string[]): string[] {
  return [...oldKeys.filter((k) => !deleted.has(k)), ...added];
}

const sameList = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * The patch turning `from` into `to` at `depth`, undefined when they hash alike. `hashOf` gives the
 * hash of a child (treeHash by default; the controller passes the section hashes it stored).
 * Only frozen values are patched below the snapshot: a section compiled per proxy is small, and
 * comparing its parts would cost more than resending it.
 */
export function diff(from: unknown, to: unknown, depth: number): PatchOp | undefined {
  if (from === to) return undefined;
  if (treeHash(from, depth) === treeHash(to, depth)) return undefined;
  if (!isHashNode(from, depth) || !isHashNode(to, depth) || (depth > 0 && !(Object.isFrozen(from) && Object.isFrozen(to)))) return { r: to };
  if (Array.isArray(from) && Array.isArray(to)) {
    const byHash = new Map<string, number>();
    from.forEach((e, i) => {
      const h = treeHash(jsonKeeps(e) ? e : null, depth + 1);
      if (!byHash.has(h)) byHash.set(h, i);
    });
    return { a: to.map((e) => byHash.get(treeHash(jsonKeeps(e) ? e : null, depth + 1)) ?? { r: e }) };
  }
  if (!isPlainObject(from) || !isPlainObject(to)) return { r: to };
  return objectPatch(from, to, (k) => diff(from[k], to[k], depth + 1));
}

function objectPatch(from: Record<string, unknown>, to: Record<string, unknown>, childOp: (key: string) => PatchOp | undefined): PatchOp {
  const o: Record<string, PatchOp> = {};
  const added: string[] = [];
  const toKeys = keptKeys(to);
  const fromKeys = keptKeys(from);
  for (const k of toKeys) {
    if (Object.hasOwn(from, k) && jsonKeeps(from[k])) {
      const op = childOp(k);
      if (op) o[k] = op;
    } else {
      o[k] = { r: to[k] };
      added.push(k);
    }
  }
  const toSet = new Set(toKeys);
  const d = fromKeys.filter((k) => !toSet.has(k));
  const op: { o: Record<string, PatchOp>; d?: string[]; k?: string[]; i?: [string, number][] } = { o };
  if (d.length) op.d = d;
  const deleted = new Set(d);
  if (!sameList(defaultOrder(fromKeys, deleted, added), toKeys)) {
    // kept keys in their old order: say where the new ones go, not the whole order
    const isAdded = new Set(added);
    if (sameList(toKeys.filter((k) => !isAdded.has(k)), fromKeys.filter((k) => !deleted.has(k)))) op.i = toKeys.flatMap((k, i) => (isAdded.has(k) ? [[k, i] as [string, number]] : []));
    else op.k = toKeys;
  }
  return op;
}

/** Patches of shared sections, by the old section: the proxies holding one section get the same patch text. */
const sectionPatches = new WeakMap<object, { to: object; json: string }>();

/**
 * The delta from the snapshot a proxy was sent to its new one, as the `delta` event's data (JSON).
 * `fromHashes`/`toHashes` are the section hashes the controller stored with each (treeHash at depth 1).
 */
export function encodeDelta(
  from: { version: string; snapshot: ProxySnapshot; hashes: ReadonlyMap<string, string> },
  to: { version: string; snapshot: ProxySnapshot; hashes: ReadonlyMap<string, string> },
): string {
  const a = from.snapshot as unknown as Record<string, unknown>;
  const b = to.snapshot as unknown as Record<string, unknown>;
  const root = objectPatch(a, b, (name) => (from.hashes.get(name) === to.hashes.get(name) ? undefined : { r: b[name] })) as { o: Record<string, PatchOp>; d?: string[]; k?: string[]; i?: [string, number][] };
  const parts: string[] = [];
  for (const [name, op] of Object.entries(root.o)) {
    parts.push(`${JSON.stringify(name)}:${'r' in op && Object.hasOwn(a, name) ? sectionPatchJson(a[name], b[name]) : opJson(op)}`);
  }
  let patch = `{"o":{${parts.join(',')}}`;
  if (root.d) patch += `,"d":${JSON.stringify(root.d)}`;
  if (root.i) patch += `,"i":${JSON.stringify(root.i)}`;
  if (root.k) patch += `,"k":${JSON.stringify(root.k)}`;
  patch += '}';
  return `{"base":${JSON.stringify(from.version)},"version":${JSON.stringify(to.version)},"patch":${patch}}`;
}

function sectionPatchJson(from: unknown, to: unknown): string {
  const shared = from !== null && typeof from === 'object' && to !== null && typeof to === 'object' && Object.isFrozen(from) && Object.isFrozen(to);
  if (!shared) return opJson({ r: to });
  const hit = sectionPatches.get(from);
  if (hit?.to === to) return hit.json;
  const json = opJson(diff(from, to, 1) ?? { o: {} });
  sectionPatches.set(from, { to, json });
  return json;
}

/** JSON of a patch, with frozen values written from their memoized JSON (wire-json.ts). */
function opJson(op: PatchOp): string {
  if ('r' in op) return `{"r":${frozenAwareJson(op.r) ?? 'null'}}`;
  if ('a' in op) return `{"a":[${op.a.map((e) => (typeof e === 'number' ? String(e) : opJson(e))).join(',')}]}`;
  let out = `{"o":{${Object.entries(op.o).map(([k, child]) => `${JSON.stringify(k)}:${opJson(child)}`).join(',')}}`;
  if (op.d) out += `,"d":${JSON.stringify(op.d)}`;
  if (op.i) out += `,"i":${JSON.stringify(op.i)}`;
  if (op.k) out += `,"k":${JSON.stringify(op.k)}`;
  return `${out}}`;
}

/** What a sidecar holds to apply deltas onto: the snapshot it runs, its version and its hash tree. */
export interface HeldSnapshot {
  version: string;
  snapshot: ProxySnapshot;
  tree: HashTree;
}

export function holdSnapshot(version: string, snapshot: ProxySnapshot): HeldSnapshot {
  return { version, snapshot, tree: buildHashTree(snapshot) };
}

/** Parses and checks the shape of a `delta` event's data. */
export function parseDelta(data: string): SnapshotDelta {
  let msg: unknown;
  try {
    msg = JSON.parse(data);
  } catch (e) {
    throw new DeltaError(`delta is not JSON: ${(e as Error).message}`);
  }
  if (!isPlainObject(msg) || typeof msg['base'] !== 'string' || typeof msg['version'] !== 'string' || !isPlainObject(msg['patch'])) {
    throw new DeltaError('delta needs base, version and patch');
  }
  return msg as unknown as SnapshotDelta;
}

/**
 * Applies a delta onto the held snapshot. Throws DeltaError when the delta is for another base, does
 * not fit the snapshot, or gives a snapshot whose hash is not the version the delta names: the
 * caller then asks for the full snapshot. The held snapshot is not modified (unchanged parts are
 * shared with the result).
 */
export function applyDelta(held: HeldSnapshot, delta: SnapshotDelta): HeldSnapshot {
  if (delta.base !== held.version) throw new DeltaError(`delta applies to version ${delta.base.slice(0, 12)}, this proxy holds ${held.version.slice(0, 12)}`);
  const [value, tree] = applyOp(held.snapshot, held.tree, delta.patch, 0, '');
  if (!isPlainObject(value)) throw new DeltaError('delta does not give a snapshot object');
  if (tree.h !== delta.version) throw new DeltaError(`patched snapshot hashes to ${tree.h.slice(0, 12)}, not version ${delta.version.slice(0, 12)}`);
  return { version: delta.version, snapshot: value as unknown as ProxySnapshot, tree };
}

function applyOp(old: unknown, oldTree: HashTree, op: unknown, depth: number, path: string): [unknown, HashTree] {
  if (!isPlainObject(op)) throw new DeltaError(`bad patch at ${path || '/'}`);
  if ('r' in op) return [op['r'], buildHashTree(op['r'], depth)];
  if (!isHashNode(old, depth) || !oldTree.c) throw new DeltaError(`patch at ${path || '/'} does not fit: nothing to patch there`);
  if ('a' in op) {
    const items = op['a'];
    if (!Array.isArray(old) || !Array.isArray(oldTree.c) || !Array.isArray(items)) throw new DeltaError(`array patch at ${path} does not fit`);
    const oldChildren = oldTree.c;
    const value: unknown[] = [];
    const c: HashTree[] = [];
    items.forEach((item, i) => {
      if (typeof item === 'number') {
        if (!Number.isInteger(item) || item < 0 || item >= old.length) throw new DeltaError(`array patch at ${path} names element ${item} of ${old.length}`);
        value.push(old[item]);
        c.push(oldChildren[item]!);
      } else {
        const [v, t] = applyOp(undefined, { h: '' }, item, depth + 1, `${path}/${i}`);
        value.push(v);
        c.push(t);
      }
    });
    return [value, { h: combineHashes('a', c.map((t, i) => [String(i), t.h] as const)), c }];
  }
  const ops = op['o'];
  if (!isPlainObject(old) || !(oldTree.c instanceof Map) || !isPlainObject(ops)) throw new DeltaError(`object patch at ${path || '/'} does not fit`);
  const deleted = op['d'] ?? [];
  const order = op['k'];
  if (!Array.isArray(deleted) || !deleted.every((k) => typeof k === 'string')) throw new DeltaError(`bad deleted keys at ${path || '/'}`);
  if (order !== undefined && (!Array.isArray(order) || !order.every((k) => typeof k === 'string'))) throw new DeltaError(`bad key order at ${path || '/'}`);
  const c = new Map(oldTree.c);
  const value = copyInto(emptyMap(), old, Object.keys(old));
  for (const k of deleted as string[]) {
    c.delete(k);
    delete value[k];
  }
  for (const [k, childOp] of Object.entries(ops)) {
    const had = c.get(k);
    const [v, t] = applyOp(had ? value[k] : undefined, had ?? { h: '' }, childOp, depth + 1, `${path}/${k}`);
    setMember(value, k, v);
    c.set(k, t);
  }
  const inserts = op['i'];
  if (inserts !== undefined) {
    if (!Array.isArray(inserts) || !inserts.every((e) => Array.isArray(e) && typeof e[0] === 'string' && Number.isInteger(e[1]))) throw new DeltaError(`bad insert positions at ${path || '/'}`);
    const moved = new Set((inserts as [string, number][]).map((e) => e[0]));
    const keys = Object.keys(value).filter((k) => !moved.has(k));
    for (const [k, at] of inserts as [string, number][]) {
      if (at < 0 || at > keys.length) throw new DeltaError(`insert position ${at} at ${path || '/'} is past the end`);
      keys.splice(at, 0, k);
    }
    if (keys.length !== c.size || !keys.every((k) => c.has(k))) throw new DeltaError(`insert positions at ${path || '/'} do not name the patched keys`);
    return [copyInto(emptyMap(), value, keys), { h: objectHash(c), c }];
  }
  if (order !== undefined) {
    const keys = order as string[];
    if (keys.length !== c.size || !keys.every((k) => c.has(k))) throw new DeltaError(`key order at ${path || '/'} does not name the patched keys`);
    return [copyInto(emptyMap(), value, keys), { h: objectHash(c), c }];
  }
  return [value, { h: objectHash(c), c }];
}

/**
 * An empty object V8 keeps in dictionary mode (a property added and deleted again). A snapshot's
 * maps hold a thousand keys and more; copying one into a fresh literal (`{ ...old }`,
 * Object.fromEntries) takes V8 through a hidden class per key, quadratic in the keys: 100 ms for
 * the 1,000 keys of Dns at 1,000 services, against 0.1 ms for a dictionary-mode copy. Key order is
 * kept either way.
 */
function emptyMap(): Record<string, unknown> {
  const o: Record<string, unknown> = { a: 0, b: 0 };
  delete o['a'];
  delete o['b'];
  return o;
}

function copyInto(into: Record<string, unknown>, from: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  for (const k of keys) setMember(into, k, from[k]);
  return into;
}

/** Sets an own member; a key named __proto__ stays a plain member instead of replacing the prototype. */
function setMember(o: Record<string, unknown>, k: string, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
  else o[k] = v;
}
