/**
 * Field ownership: `metadata.managedFields` read and written, the Apply operation (merge, conflicts,
 * removal of fields the manager stopped applying) and the Update operation (every other write takes
 * ownership of what it changed). Pure functions over plain objects.
 */
import { analyze, fieldsOf, compare, deepEqual, isObj, leafValues, pathKey, removeAt } from './fields.js';
import { FieldSet, pathString, type Path } from './fieldset.js';
import { duplicateItems, mergeApplied } from './merge.js';
import type { ApplySchema } from './schema.js';

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  /** absent only on entries a client wrote without one */
  time?: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}

interface Manager {
  manager: string;
  operation: 'Apply' | 'Update';
  subresource: string;
  apiVersion: string;
  time: string;
  fields: FieldSet;
}

export interface Conflict {
  manager: string;
  operation: 'Apply' | 'Update';
  subresource: string;
  apiVersion: string;
  path: Path;
}

/** Where a write happens: which part of the object it may change and own. */
export interface Scope {
  /** '' for the object itself, 'status' for the status subresource */
  subresource: string;
  /**
   * true when the type has a status subresource: writes to the object then own no status, and
   * writes to /status own only status.
   */
  statusSplit: boolean;
}

export interface Operation {
  manager: string;
  apiVersion: string;
  /** RFC 3339 */
  now: string;
  scope: Scope;
  schema: ApplySchema;
}

/** Server-owned metadata no manager owns. */
const SERVER_META = ['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'managedFields', 'selfLink'];

function inScope(p: Path, scope: Scope): boolean {
  if (p[0] === 'f:apiVersion' || p[0] === 'f:kind') return false;
  if (p[0] === 'f:metadata' && p.length > 1 && SERVER_META.includes(p[1]!.slice(2))) return false;
  if (!scope.statusSplit) return true;
  return scope.subresource === 'status' ? p[0] === 'f:status' : p[0] !== 'f:status';
}

function scoped(set: FieldSet, scope: Scope): FieldSet {
  return FieldSet.of(set.members().filter((p) => inScope(p, scope)));
}

export function readManagedFields(obj: unknown): Manager[] {
  const meta = isObj(obj) && isObj(obj.metadata) ? obj.metadata : {};
  const raw = Array.isArray(meta.managedFields) ? meta.managedFields : [];
  const out: Manager[] = [];
  for (const e of raw) {
    if (!isObj(e) || typeof e.manager !== 'string' || (e.operation !== 'Apply' && e.operation !== 'Update')) continue;
    let fields: FieldSet;
    try {
      fields = FieldSet.fromFieldsV1(e.fieldsV1 ?? {});
    } catch {
      continue; // an entry the server cannot read owns nothing
    }
    out.push({
      manager: e.manager, operation: e.operation, subresource: typeof e.subresource === 'string' ? e.subresource : '',
      apiVersion: typeof e.apiVersion === 'string' ? e.apiVersion : '', time: typeof e.time === 'string' ? e.time : '', fields,
    });
  }
  return out;
}

/** kube-apiserver's order: Apply entries before Update ones, then oldest first, then by name. */
function byKubeOrder(a: Manager, b: Manager): number {
  const keys = (m: Manager): string[] => [m.operation, m.time, m.manager, m.apiVersion, m.subresource];
  const ka = keys(a);
  const kb = keys(b);
  for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i]! < kb[i]! ? -1 : 1;
  return 0;
}

function writeManagedFields(managers: Manager[]): ManagedFieldsEntry[] {
  return managers.filter((m) => !m.fields.isEmpty()).sort(byKubeOrder).map((m) => {
    const e: ManagedFieldsEntry = { manager: m.manager, operation: m.operation, apiVersion: m.apiVersion, time: m.time, fieldsType: 'FieldsV1', fieldsV1: m.fields.toFieldsV1() };
    // an entry a client wrote without a time keeps none
    if (m.time === '') delete (e as { time?: string }).time;
    if (m.subresource) e.subresource = m.subresource;
    return e;
  });
}

function sameManager(m: Manager, name: string, operation: Manager['operation'], subresource: string): boolean {
  return m.manager === name && m.operation === operation && m.subresource === subresource;
}

/** `touched`: whether the write changed the object; a manager's time moves only when it did. */
function upsert(managers: Manager[], op: Operation, operation: Manager['operation'], fields: FieldSet, touched = true): Manager[] {
  const i = managers.findIndex((m) => sameManager(m, op.manager, operation, op.scope.subresource));
  const time = touched ? op.now : i < 0 ? '' : managers[i]!.time;
  const entry: Manager = { manager: op.manager, operation, subresource: op.scope.subresource, apiVersion: op.apiVersion, time, fields };
  if (i < 0) return [...managers, entry];
  const out = [...managers];
  out[i] = entry;
  return out;
}

function withoutMeta<T>(obj: T): T {
  if (!isObj(obj) || !isObj(obj.metadata)) return obj;
  const { managedFields: _mf, resourceVersion: _rv, ...meta } = obj.metadata;
  return { ...obj, metadata: meta } as T;
}

/**
 * The managedFields after an Update (create, replace, any non-apply patch) by `op.manager`: it owns
 * what it changed, nobody owns what it removed, other managers lose what it changed. Unchanged when
 * the write changed nothing, as kube-apiserver leaves a no-op write's managedFields alone.
 */
export function managedFieldsAfterUpdate(before: unknown, after: unknown, op: Operation, given?: unknown): ManagedFieldsEntry[] {
  let managers = readManagedFields(before);
  // A client may rewrite managedFields (kubectl does, moving client-side apply's fields to its
  // server-side manager): entries it sends replace the stored ones; `[{}]` clears them.
  if (Array.isArray(given) && !deepEqual(given, (isObj(before) && isObj(before.metadata) ? before.metadata.managedFields : undefined))) {
    const sent = readManagedFields({ metadata: { managedFields: given } });
    if (sent.length > 0) managers = sent;
    else if (given.length > 0 && given.every((e) => isObj(e) && Object.keys(e).length === 0)) managers = [];
  }
  if (before !== undefined && deepEqual(withoutMeta(before), withoutMeta(after))) return writeManagedFields(managers);
  const { changed: rawChanged, removed } = compare(before ?? {}, after, op.schema);
  const changed = scoped(rawChanged, op.scope);
  managers = managers.map((m) => ({ ...m, fields: m.fields.difference(removed).difference(changed) }));
  const mine = managers.find((m) => sameManager(m, op.manager, 'Update', op.scope.subresource))?.fields ?? FieldSet.empty();
  managers = upsert(managers, op, 'Update', mine.union(changed));
  return writeManagedFields(managers);
}

export type ApplyResult =
  | { ok: true; object: Record<string, unknown>; managedFields: ManagedFieldsEntry[] }
  | { ok: false; conflicts: Conflict[] };

/** Thrown for an applied configuration the engine cannot merge (a list item without its key…). */
export class ApplyConfigError extends Error {
  readonly code = 'APPLY_CONFIG_INVALID';
}

/** The manager kube-apiserver names for fields an object had before anyone tracked them. */
export const BEFORE_FIRST_APPLY = 'before-first-apply';

/**
 * Server-side apply of `applied` by `op.manager` onto `live` (undefined: the object is created).
 * Conflicts are fields another manager owns whose value the apply would change; with `force` they
 * change hands instead. Fields this manager applied last time, no longer applies, and nobody else
 * owns are removed.
 */
export function apply(live: Record<string, unknown> | undefined, applied: Record<string, unknown>, op: Operation, force: boolean): ApplyResult {
  const bad = duplicateItems(applied, op.schema);
  if (bad) throw new ApplyConfigError(`.${bad.replace(/^\./, '')}`);
  let config = applied;
  if (op.scope.statusSplit) {
    // The other half of the object is not this endpoint's to change: it is dropped from the config.
    const { status, ...rest } = applied;
    config = op.scope.subresource === 'status' ? (status === undefined ? {} : { status }) : rest;
  }
  const base = live ?? {};
  let managers = readManagedFields(live);
  if (live && managers.length === 0) {
    // An object nobody tracked yet: its fields belong to one Update manager, so an apply that
    // changes them conflicts instead of silently taking them over.
    const all = scoped(fieldsOf(withoutMeta(live), op.schema), op.scope);
    if (!all.isEmpty()) managers = [{ manager: BEFORE_FIRST_APPLY, operation: 'Update', subresource: op.scope.subresource, apiVersion: op.apiVersion, time: op.now, fields: all }];
  }
  const mine = scoped(fieldsOf(config, op.schema), op.scope);
  const merged = mergeApplied(base, config, op.schema) as Record<string, unknown>;

  const isMe = (m: Manager): boolean => sameManager(m, op.manager, 'Apply', op.scope.subresource);
  const conflicts: Conflict[] = [];
  const conflicting = new Set<string>();
  const was = leafValues(base, op.schema);
  const after = analyze(merged, op.schema);
  const will = after.leaves;
  for (const p of mine.leaves()) {
    const k = pathKey(p);
    if (!was.has(k) || deepEqual(was.get(k), will.get(k))) continue;
    for (const m of managers) {
      if (isMe(m) || !m.fields.has(p)) continue;
      conflicts.push({ manager: m.manager, operation: m.operation, subresource: m.subresource, apiVersion: m.apiVersion, path: p });
      conflicting.add(JSON.stringify(p));
    }
  }
  if (conflicts.length > 0 && !force) return { ok: false, conflicts };
  if (force) {
    const taken = FieldSet.of([...conflicting].map((s) => JSON.parse(s) as Path));
    managers = managers.map((m) => (isMe(m) ? m : { ...m, fields: m.fields.difference(taken) }));
  }

  // What this manager no longer applies goes away unless someone else still owns it (or under it).
  const previous = managers.find(isMe)?.fields ?? FieldSet.empty();
  let others = FieldSet.empty();
  for (const m of managers) if (!isMe(m)) others = others.union(m.fields);
  const keep = others.union(mine);
  const dropped = previous.difference(keep).members().filter((p) => !keep.hasBelow(p));
  // Removing a field removes what is under it: only the outermost dropped paths are removed.
  const isUnder = (p: Path, q: Path): boolean => q.length < p.length && q.every((e, i) => p[i] === e);
  for (const p of dropped.filter((p) => !dropped.some((q) => isUnder(p, q)))) removeAt(merged, p, op.schema);
  pruneEmptied(merged, base, dropped, keep);

  // kube-apiserver stamps a manager's time only when its write changed the object
  const touched = !live || !deepEqual(withoutMeta(merged), withoutMeta(live));
  managers = upsert(managers, op, 'Apply', mine, touched);
  // Fields that no longer exist are owned by nobody.
  // (computed before the removals above, which only take away what nobody owns any more)
  const present = after.fields;
  managers = managers.map((m) => ({ ...m, fields: FieldSet.of(m.fields.members().filter((p) => present.has(p) || present.hasBelow(p))) }));
  if (live && deepEqual(withoutMeta(merged), withoutMeta(live)) && previous.equals(mine) && conflicts.length === 0) {
    // A re-apply that changes nothing leaves the object, timestamps included, as it was.
    return { ok: true, object: merged, managedFields: writeManagedFields(readManagedFields(live)) };
  }
  return { ok: true, object: merged, managedFields: writeManagedFields(managers) };
}

/** The annotation client-side `kubectl apply` keeps its last configuration in. */
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

/** The manager name `kubectl apply --server-side` uses by default. */
export const KUBECTL_MANAGER = 'kubectl';

/**
 * The fields a move from client-side to server-side apply may take without a conflict, as
 * kube-apiserver allows them to `kubectl`: those the object's last-applied configuration sets and
 * that still have the value it gave them. Empty when there is no (readable) annotation.
 */
export function lastAppliedFields(live: unknown, s: ApplySchema): FieldSet {
  const annotations = isObj(live) && isObj(live.metadata) && isObj(live.metadata.annotations) ? live.metadata.annotations : {};
  const text = annotations[LAST_APPLIED_ANNOTATION];
  if (typeof text !== 'string' || text === '') return FieldSet.empty();
  let last: unknown;
  try {
    last = JSON.parse(text);
  } catch {
    return FieldSet.empty();
  }
  const was = leafValues(last, s);
  const now = leafValues(live, s);
  return FieldSet.of(fieldsOf(last, s).leaves().filter((p) => {
    const k = pathKey(p);
    return now.has(k) && deepEqual(was.get(k), now.get(k));
  }));
}

function sortedKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortedKeys);
  if (!isObj(v)) return v;
  return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortedKeys(v[k])]));
}

/**
 * kube-apiserver keeps client-side apply's annotation in step when `kubectl` applies server-side:
 * an object that has it gets the applied configuration (without the annotation, keys sorted, as Go
 * encodes a map). Returns `object` changed, or as it was.
 */
export function withLastAppliedSynced(object: Record<string, unknown>, applied: Record<string, unknown>, manager: string): Record<string, unknown> {
  if (manager !== KUBECTL_MANAGER) return object;
  const meta = isObj(object.metadata) ? object.metadata : undefined;
  if (!meta || !isObj(meta.annotations) || typeof meta.annotations[LAST_APPLIED_ANNOTATION] !== 'string') return object;
  const config = structuredClone(applied);
  if (isObj(config.metadata) && isObj(config.metadata.annotations)) {
    delete config.metadata.annotations[LAST_APPLIED_ANNOTATION];
    if (Object.keys(config.metadata.annotations).length === 0) delete config.metadata.annotations;
  }
  const value = `${JSON.stringify(sortedKeys(config))}\n`;
  return { ...object, metadata: { ...meta, annotations: { ...meta.annotations, [LAST_APPLIED_ANNOTATION]: value } } };
}

/**
 * apply() as kube-apiserver runs it: for the manager `kubectl`, conflicts that are all on fields
 * client-side apply last set (and nobody changed since) are forced, so moving an object from
 * `kubectl apply` to `kubectl apply --server-side` needs no --force-conflicts, and the client-side
 * annotation follows the applied configuration.
 */
export function applyUpgradingClientSide(live: Record<string, unknown> | undefined, applied: Record<string, unknown>, op: Operation, force: boolean): ApplyResult {
  let result = apply(live, applied, op, force);
  if (!result.ok && op.manager === KUBECTL_MANAGER && live) {
    const allowed = lastAppliedFields(live, op.schema);
    if (!allowed.isEmpty() && result.conflicts.every((c) => allowed.has(c.path))) result = apply(live, applied, op, true);
  }
  if (result.ok) result = { ...result, object: withLastAppliedSynced(result.object, applied, op.manager) };
  return result;
}

/** Maps a removal left empty go too, when the live object had them non-empty and nobody owns them. */
function pruneEmptied(merged: Record<string, unknown>, base: unknown, dropped: Path[], owned: FieldSet): void {
  const parents = new Set<string>();
  for (const p of dropped) for (let n = p.length - 1; n > 0; n--) if (p[n - 1]!.startsWith('f:') && p.slice(0, n).every((e) => e.startsWith('f:'))) parents.add(JSON.stringify(p.slice(0, n)));
  const ordered = [...parents].map((s) => JSON.parse(s) as string[]).sort((a, b) => b.length - a.length);
  for (const p of ordered) {
    if (owned.has(p)) continue;
    const keys = p.map((e) => e.slice(2));
    const last = keys[keys.length - 1]!;
    const parentOf = (root: unknown): unknown => keys.slice(0, -1).reduce<unknown>((v, k) => (isObj(v) ? v[k] : undefined), root);
    const parent = parentOf(merged);
    const was = parentOf(base);
    if (!isObj(parent) || !isObj(was)) continue;
    const now = parent[last];
    const before = was[last];
    if (isObj(now) && Object.keys(now).length === 0 && isObj(before) && Object.keys(before).length > 0) delete parent[last];
  }
}

/**
 * Who a conflict is with, as kube-apiserver names it: `"m"` for an Apply manager, `"m" using v1`
 * for an Update manager (whose entry is tied to the version it wrote), with its subresource if any.
 */
export function conflictWith(c: Conflict): string {
  return `"${c.manager}"${c.subresource ? ` with subresource "${c.subresource}"` : ''}${c.operation === 'Update' ? ` using ${c.apiVersion}` : ''}`;
}

/** kube-apiserver's conflict message: `Apply failed with 1 conflict: conflict with "m" using v1: .data.a`. */
export function conflictMessage(conflicts: Conflict[]): string {
  const groups = new Map<string, Conflict[]>();
  for (const c of conflicts) {
    const who = conflictWith(c);
    groups.set(who, [...(groups.get(who) ?? []), c]);
  }
  const n = conflicts.length;
  const head = `Apply failed with ${n} conflict${n === 1 ? '' : 's'}: `;
  const parts = [...groups].map(([who, cs]) =>
    cs.length === 1 ? `conflict with ${who}: ${pathString(cs[0]!.path)}` : `conflicts with ${who}:\n${cs.map((c) => `- ${pathString(c.path)}`).join('\n')}`);
  return head + parts.join('\n');
}

