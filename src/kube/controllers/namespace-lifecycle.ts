/**
 * The namespace controller's deletion half: a Namespace marked for deletion has every namespaced
 * object of every kind in it deleted (background propagation, pods last so their owners cannot
 * re-create them), reports progress in the same five status conditions as Kubernetes, and once
 * empty gives up its `kubernetes` finalizer (spec.finalizers); with no finalizer left it is deleted.
 *
 * Event-driven: only namespaces being deleted are synced, again whenever something in them changes.
 * Objects held by finalizers keep it Terminating until their controllers let go, as on a cluster.
 */
import type { Resource } from '../../api/types.js';
import type { ObjectKey, StoredEvent } from '../apiserver/index.js';
import { ControllerError, isStale } from './errors.js';
import { allKinds, type KindRef } from './kinds.js';
import {
  deleteWithPropagation, isNamespaceObject, NAMESPACE_FINALIZER, namespaceSpecFinalizers, setCondition, writeOrFinish, type Condition,
} from './objects.js';
import { WorkQueue } from './queue.js';
import type { ControllerOptions, RunningController } from './types.js';
import { listThenWatch } from './watch.js';

/** The condition types Kubernetes' namespace deleter maintains, with their all-is-well variants. */
const OK: Record<string, { reason: string; message: string }> = {
  NamespaceDeletionDiscoveryFailure: { reason: 'ResourcesDiscovered', message: 'All resources successfully discovered' },
  NamespaceDeletionGroupVersionParsingFailure: { reason: 'ParsedGroupVersions', message: 'All legacy kube types successfully parsed' },
  NamespaceDeletionContentFailure: { reason: 'ContentDeleted', message: 'All content successfully deleted, may be waiting on finalization' },
  NamespaceContentRemaining: { reason: 'ContentRemoved', message: 'All content successfully removed' },
  NamespaceFinalizersRemaining: { reason: 'ContentHasNoFinalizers', message: 'All content-preserving finalizers finished' },
};

export interface ContentReport {
  /** `plural.group` → objects still present (marked and held by finalizers, or racing us) */
  remaining: Map<string, number>;
  /** finalizer → objects it still holds */
  finalizers: Map<string, number>;
  /** deletions that failed for another reason than a concurrent change */
  errors: string[];
}

/** The conditions a Terminating namespace shows for one pass of content deletion. */
export function namespaceConditions(report: ContentReport): Condition[] {
  const failed: Record<string, { reason: string; message: string }> = {};
  if (report.errors.length > 0) {
    const msgs = [...report.errors].sort();
    failed.NamespaceDeletionContentFailure = { reason: 'ContentDeletionFailed', message: `Failed to delete all resource types, ${msgs.length} remaining: ${msgs.join(', ')}` };
  }
  if (report.remaining.size > 0) {
    const parts = [...report.remaining].map(([gr, n]) => `${gr} has ${n} resource instances`).sort();
    failed.NamespaceContentRemaining = { reason: 'SomeResourcesRemain', message: `Some resources are remaining: ${parts.join(', ')}` };
  }
  if (report.finalizers.size > 0) {
    const parts = [...report.finalizers].map(([f, n]) => `${f} in ${n} resource instances`).sort();
    failed.NamespaceFinalizersRemaining = { reason: 'SomeFinalizersRemain', message: `Some content in the namespace has finalizers remaining: ${parts.join(', ')}` };
  }
  return Object.entries(OK).map(([type, ok]) => (failed[type] ? { type, status: 'True' as const, ...failed[type] } : { type, status: 'False' as const, ...ok }));
}

const count = (m: Map<string, number>, k: string): void => {
  m.set(k, (m.get(k) ?? 0) + 1);
};

export function startNamespaceLifecycle(opts: ControllerOptions): RunningController {
  const { storage, registry, log } = opts;
  const now = opts.now ?? (() => new Date());
  /** namespaces marked for deletion: changes inside them bring them back to the queue */
  const terminating = new Set<string>();
  const queue = new WorkQueue('namespace lifecycle', sync, log);

  function observe(e: StoredEvent): void {
    const obj = e.object;
    if (isNamespaceObject(obj)) {
      if (e.type !== 'DELETED' && obj.metadata.deletionTimestamp) {
        terminating.add(obj.metadata.name);
        queue.add(obj.metadata.name);
      } else {
        terminating.delete(obj.metadata.name);
      }
      return;
    }
    const ns = obj.metadata.namespace;
    if (ns !== undefined && terminating.has(ns)) queue.add(ns);
  }

  function deleteContent(namespace: string): ContentReport {
    const report: ContentReport = { remaining: new Map(), finalizers: new Map(), errors: [] };
    // Pods last: deleting their owners first means no controller re-creates them meanwhile.
    const kinds = allKinds(storage, registry).filter((k) => k.namespaced).sort((a, b) => Number(isPod(a)) - Number(isPod(b)));
    for (const k of kinds) {
      for (const obj of storage.list(k.group, k.kind, namespace).items) {
        try {
          if (deleteWithPropagation(storage, obj, 'Background', now()) === 'deleted') continue;
        } catch (e) {
          if (!isStale(e)) report.errors.push(`${k.plural}.${k.group} "${obj.metadata.name}": ${(e as Error).message}`);
          else count(report.remaining, `${k.plural}.${k.group}`);
          continue;
        }
        count(report.remaining, `${k.plural}.${k.group}`);
        for (const f of obj.metadata.finalizers ?? []) count(report.finalizers, f);
      }
    }
    return report;
  }

  function sync(name: string): void {
    const key: ObjectKey = { group: '', kind: 'Namespace', name };
    const found = storage.get(key);
    if (!found || !found.metadata.deletionTimestamp) {
      terminating.delete(name);
      return;
    }
    const report = deleteContent(name);
    let ns: Resource = structuredClone(found);
    let changed = (ns.status as { phase?: string } | undefined)?.phase !== 'Terminating';
    ns.status = { ...(ns.status as object | undefined), phase: 'Terminating' };
    for (const c of namespaceConditions(report)) changed = setCondition(ns, c, now()) || changed;
    if (changed) ns = storage.update(ns, { expectResourceVersion: found.metadata.resourceVersion! }).object;
    if (report.errors.length > 0) {
      throw new ControllerError('CONTENT_DELETION_FAILED', `namespace ${name}: ${report.errors.length} object(s) could not be deleted: ${report.errors.join('; ')}`);
    }
    // Something is still there: its deletion (or its finalizers going) is an event that brings us back.
    if (report.remaining.size > 0) return;
    const specFinalizers = namespaceSpecFinalizers(ns);
    if (specFinalizers.includes(NAMESPACE_FINALIZER)) {
      ns = structuredClone(ns);
      (ns.spec as { finalizers: string[] }).finalizers = specFinalizers.filter((f) => f !== NAMESPACE_FINALIZER);
    }
    if (writeOrFinish(storage, ns) === 'deleted') {
      terminating.delete(name);
      log(`namespace ${name} deleted`);
    }
  }

  const unwatch = listThenWatch(storage, () => storage.list('', 'Namespace').items, observe);
  return {
    stop() {
      unwatch();
      queue.stop();
    },
  };
}

function isPod(k: KindRef): boolean {
  return k.group === '' && k.kind === 'Pod';
}
