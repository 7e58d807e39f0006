/**
 * Kubernetes' garbage collector over `KubeStorage`. It keeps an index owner uid → dependents fed by
 * the storage watch, so each change costs work proportional to the objects it touches:
 *
 * - a dependent whose owners (by uid) are all gone is deleted (background, or with the policy its
 *   own GC finalizers ask for);
 * - an owner marked for deletion with `foregroundDeletion` has its dependents deleted first; those
 *   whose reference to it has `blockOwnerDeletion: true` hold it, then the finalizer is removed;
 * - an owner with `orphan` has its uid removed from every dependent's ownerReferences, then the
 *   finalizer is removed.
 *
 * Owner existence is always checked against storage (name and uid), never against the index alone:
 * the index says whom to look at, storage says what is true. Every delete carries a uid or
 * resourceVersion precondition, so a re-created object of the same name is never touched.
 */
import type { OwnerReference as ApiOwnerReference, Resource } from '../../api/types.js';
import type { ObjectKey, StoredEvent } from '../apiserver/index.js';
import { kindKey, kindOfCrd, allKinds, resolveKind, type KindRef } from './kinds.js';
import {
  deleteWithPropagation, describe, FOREGROUND_FINALIZER, groupOf, hasFinalizer, isCrdObject, objectKey, ORPHAN_FINALIZER,
  withOwnerReferences, withoutFinalizer, writeOrFinish, type Propagation,
} from './objects.js';
import { WorkQueue } from './queue.js';
import type { ControllerOptions, RunningController } from './types.js';
import { listThenWatch } from './watch.js';

/** src/api/types.ts does not declare blockOwnerDeletion (yet); stored objects carry it as written. */
type OwnerReference = ApiOwnerReference & { blockOwnerDeletion?: boolean };

interface DependentNode {
  key: ObjectKey;
  owners: OwnerReference[];
}

interface DeletingNode {
  key: ObjectKey;
  foreground: boolean;
}

type OwnerState = 'solid' | 'dangling' | 'waiting' | 'unresolvable';

/** Work keys: `d:<uid>` judges a dependent, `o:<uid>` advances an owner's foreground/orphan deletion. */
const DEPENDENT = 'd:';
const OWNER = 'o:';

export function startGarbageCollector(opts: ControllerOptions): RunningController {
  const { storage, registry, log } = opts;
  const now = opts.now ?? (() => new Date());
  /** objects with ownerReferences, by uid */
  const dependents = new Map<string, DependentNode>();
  /** owner uid → uids of objects referencing it (the owner itself may be long gone) */
  const byOwner = new Map<string, Set<string>>();
  /** objects marked for deletion that carry a GC finalizer, by uid */
  const deleting = new Map<string, DeletingNode>();
  /** kinds of stored CRDs, by kindKey, for owners the registry does not know yet */
  const crdKinds = new Map<string, KindRef>();
  /** dependents with an owner of a kind nobody serves: judged again when a CRD appears */
  const unresolvable = new Set<string>();
  const reported = new Set<string>();

  const queue = new WorkQueue('garbage collector', (key) => {
    if (key.startsWith(DEPENDENT)) attemptToDelete(key.slice(DEPENDENT.length));
    else processDeletingOwner(key.slice(OWNER.length));
  }, log);

  const dependentsOf = (uid: string): string[] => [...(byOwner.get(uid) ?? [])];

  function unindex(uid: string): DependentNode | undefined {
    const node = dependents.get(uid);
    if (!node) return undefined;
    dependents.delete(uid);
    for (const ref of node.owners) {
      const set = byOwner.get(ref.uid);
      set?.delete(uid);
      if (set?.size === 0) byOwner.delete(ref.uid);
    }
    return node;
  }

  function index(uid: string, node: DependentNode): void {
    unindex(uid);
    dependents.set(uid, node);
    for (const ref of node.owners) {
      let set = byOwner.get(ref.uid);
      if (!set) byOwner.set(ref.uid, (set = new Set()));
      set.add(uid);
    }
  }

  /** Owners whose foreground/orphan progress depends on this dependent's references. */
  function pokeDeletingOwners(refs: OwnerReference[]): void {
    for (const ref of refs) if (deleting.has(ref.uid)) queue.add(OWNER + ref.uid);
  }

  function observe(e: StoredEvent): void {
    const obj = e.object;
    const uid = obj.metadata.uid;
    if (!uid) return;
    if (isCrdObject(obj)) observeCrd(e);
    if (e.type === 'DELETED') {
      const node = unindex(uid);
      unresolvable.delete(uid);
      if (node) pokeDeletingOwners(node.owners);
      deleting.delete(uid);
      for (const dep of dependentsOf(uid)) queue.add(DEPENDENT + dep);
      return;
    }
    const refs: OwnerReference[] = obj.metadata.ownerReferences ?? [];
    const before = dependents.get(uid);
    const changed = JSON.stringify(before?.owners ?? []) !== JSON.stringify(refs);
    if (changed) {
      if (before) pokeDeletingOwners(before.owners);
      if (refs.length > 0) index(uid, { key: objectKey(obj), owners: refs });
      else unindex(uid);
      pokeDeletingOwners(refs);
    }
    if (refs.length > 0 && (changed || e.type === 'ADDED')) queue.add(DEPENDENT + uid);
    const foreground = hasFinalizer(obj, FOREGROUND_FINALIZER);
    if (obj.metadata.deletionTimestamp && (foreground || hasFinalizer(obj, ORPHAN_FINALIZER))) {
      deleting.set(uid, { key: objectKey(obj), foreground });
      queue.add(OWNER + uid);
    } else if (deleting.delete(uid)) {
      // Its dependents were "waiting"; now they judge the owner as solid (or gone) again.
      for (const dep of dependentsOf(uid)) queue.add(DEPENDENT + dep);
    }
  }

  function observeCrd(e: StoredEvent): void {
    const kind = kindOfCrd(e.object);
    if (!kind) return;
    if (e.type === 'DELETED') {
      crdKinds.delete(kindKey(kind.group, kind.kind));
      return;
    }
    crdKinds.set(kindKey(kind.group, kind.kind), kind);
    for (const uid of unresolvable) queue.add(DEPENDENT + uid);
  }

  function ownerState(dependent: Resource, ref: OwnerReference): OwnerState {
    const group = groupOf(ref.apiVersion);
    const kind = resolveKind(registry, crdKinds, group, ref.kind);
    // As in Kubernetes: an owner of an unknown kind, or a namespaced owner of a cluster-scoped
    // dependent, cannot be judged, so the dependent is left alone rather than deleted.
    if (!kind || (kind.namespaced && dependent.metadata.namespace === undefined)) return 'unresolvable';
    const key: ObjectKey = { group, kind: ref.kind, name: ref.name };
    if (kind.namespaced) key.namespace = dependent.metadata.namespace!;
    const owner = storage.get(key);
    if (!owner || owner.metadata.uid !== ref.uid) return 'dangling';
    if (owner.metadata.deletionTimestamp && hasFinalizer(owner, FOREGROUND_FINALIZER)) return 'waiting';
    return 'solid';
  }

  function attemptToDelete(uid: string): void {
    const node = dependents.get(uid);
    if (!node) return;
    let live = storage.get(node.key);
    if (!live || live.metadata.uid !== uid) return;
    if (live.metadata.deletionTimestamp) {
      if (hasFinalizer(live, FOREGROUND_FINALIZER)) queue.add(OWNER + uid);
      return;
    }
    const refs: OwnerReference[] = live.metadata.ownerReferences ?? [];
    if (refs.length === 0) return;
    const solid: OwnerReference[] = [];
    const released = new Set<string>();
    let waiting = 0;
    for (const ref of refs) {
      const state = ownerState(live, ref);
      if (state === 'unresolvable') {
        unresolvable.add(uid);
        if (!reported.has(uid)) {
          reported.add(uid);
          log(`garbage collector: ${describe(live)} has an owner that cannot be resolved (${ref.apiVersion} ${ref.kind} ${ref.name}); leaving it`);
        }
        return;
      }
      if (state === 'solid') solid.push(ref);
      else released.add(ref.uid);
      if (state === 'waiting') waiting++;
    }
    unresolvable.delete(uid);
    reported.delete(uid);
    if (solid.length > 0) {
      // Still owned: drop only the references to owners that are gone or waiting on their
      // dependents, so a foreground owner is not held by an object it no longer owns alone.
      if (released.size > 0) storage.update(withOwnerReferences(live, refs.filter((r) => !released.has(r.uid))), { expectResourceVersion: live.metadata.resourceVersion! });
      return;
    }
    if (waiting > 0 && (byOwner.get(uid)?.size ?? 0) > 0) {
      // Its owner waits for it, and it has dependents of its own: delete it in the foreground too.
      // A dependent already deleting in the foreground may wait for it in turn (a cycle), so its
      // own references stop blocking first, as Kubernetes does.
      if (dependentsOf(uid).some((d) => deleting.get(d)?.foreground) && refs.some((r) => r.blockOwnerDeletion)) {
        const unblocked = refs.map((r) => (r.blockOwnerDeletion ? { ...r, blockOwnerDeletion: false } : r));
        live = storage.update(withOwnerReferences(live, unblocked), { expectResourceVersion: live.metadata.resourceVersion! }).object;
      }
      deleteWithPropagation(storage, live, 'Foreground', now());
      return;
    }
    const policy: Propagation = hasFinalizer(live, ORPHAN_FINALIZER) ? 'Orphan' : hasFinalizer(live, FOREGROUND_FINALIZER) ? 'Foreground' : 'Background';
    deleteWithPropagation(storage, live, policy, now());
  }

  function processDeletingOwner(uid: string): void {
    const node = deleting.get(uid);
    if (!node) return;
    const live = storage.get(node.key);
    if (!live || live.metadata.uid !== uid || !live.metadata.deletionTimestamp) return;
    if (hasFinalizer(live, ORPHAN_FINALIZER)) {
      orphanDependents(uid);
      writeOrFinish(storage, withoutFinalizer(live, ORPHAN_FINALIZER));
      return;
    }
    if (!hasFinalizer(live, FOREGROUND_FINALIZER)) return;
    const deps = dependentsOf(uid);
    for (const dep of deps) if (!deleting.get(dep)?.foreground) queue.add(DEPENDENT + dep);
    const blocking = deps.filter((dep) => dependents.get(dep)?.owners.some((r) => r.uid === uid && r.blockOwnerDeletion === true));
    if (blocking.length === 0) writeOrFinish(storage, withoutFinalizer(live, FOREGROUND_FINALIZER));
  }

  function orphanDependents(ownerUid: string): void {
    for (const uid of dependentsOf(ownerUid)) {
      const node = dependents.get(uid);
      const live = node && storage.get(node.key);
      if (!live || live.metadata.uid !== uid) continue;
      const refs = live.metadata.ownerReferences ?? [];
      const kept = refs.filter((r) => r.uid !== ownerUid);
      if (kept.length !== refs.length) storage.update(withOwnerReferences(live, kept), { expectResourceVersion: live.metadata.resourceVersion! });
    }
  }

  const unwatch = listThenWatch(
    storage,
    () => allKinds(storage, registry).flatMap((k) => storage.list(k.group, k.kind).items),
    observe,
  );
  return {
    stop() {
      unwatch();
      queue.stop();
    },
  };
}
