/**
 * The apiextensions finalizer controller: a CustomResourceDefinition marked for deletion that
 * carries `customresourcecleanup.apiextensions.k8s.io` has every custom resource of its kind
 * deleted (in every namespace), reports progress in its `Terminating` condition as kube-apiserver
 * does, and once none is left gives up the finalizer, which deletes it.
 *
 * Kubernetes adds that finalizer when the CRD is deleted (its REST Delete), not when it is created;
 * a CRD without it is simply deleted and its objects stay behind in storage.
 */
import type { Resource } from '../../api/types.js';
import type { StoredEvent } from '../apiserver/index.js';
import { ControllerError, isStale } from './errors.js';
import { kindKey, kindOfCrd } from './kinds.js';
import {
  CRD_CLEANUP_FINALIZER, CRD_GROUP, CRD_KIND, deleteWithPropagation, groupOf, hasFinalizer, isCrdObject, setCondition, withoutFinalizer, writeOrFinish,
  type Condition,
} from './objects.js';
import { WorkQueue } from './queue.js';
import type { ControllerOptions, RunningController } from './types.js';
import { listThenWatch } from './watch.js';

const terminatingCondition = (status: 'True' | 'False', reason: string, message: string): Condition => ({ type: 'Terminating', status, reason, message });

function isCleaning(crd: Resource): boolean {
  return crd.metadata.deletionTimestamp !== undefined && hasFinalizer(crd, CRD_CLEANUP_FINALIZER);
}

export function startCrdLifecycle(opts: ControllerOptions): RunningController {
  const { storage, log } = opts;
  const now = opts.now ?? (() => new Date());
  /** kindKey of a CRD being cleaned up → that CRD's name: changes to its instances bring it back */
  const cleaning = new Map<string, string>();
  const queue = new WorkQueue('CRD lifecycle', sync, log);

  function observe(e: StoredEvent): void {
    const obj = e.object;
    if (isCrdObject(obj)) {
      const kind = kindOfCrd(obj);
      if (!kind) return;
      if (e.type !== 'DELETED' && isCleaning(obj)) {
        cleaning.set(kindKey(kind.group, kind.kind), obj.metadata.name);
        queue.add(obj.metadata.name);
      } else if (cleaning.get(kindKey(kind.group, kind.kind)) === obj.metadata.name) {
        cleaning.delete(kindKey(kind.group, kind.kind));
      }
      return;
    }
    const crd = cleaning.get(kindKey(groupOf(obj.apiVersion), obj.kind));
    if (crd !== undefined) queue.add(crd);
  }

  /** Writes the condition when it changed; returns the object as stored. */
  function withCondition(crd: Resource, cond: Condition): Resource {
    const next = structuredClone(crd);
    return setCondition(next, cond, now()) ? storage.update(next, { expectResourceVersion: crd.metadata.resourceVersion! }).object : crd;
  }

  function sync(name: string): void {
    let crd = storage.get({ group: CRD_GROUP, kind: CRD_KIND, name });
    if (!crd || !isCleaning(crd)) return;
    crd = withCondition(crd, terminatingCondition('True', 'InstanceDeletionInProgress', 'CustomResource deletion is in progress'));
    const kind = kindOfCrd(crd);
    let remaining = 0;
    const errors: string[] = [];
    for (const obj of kind ? storage.list(kind.group, kind.kind).items : []) {
      try {
        if (deleteWithPropagation(storage, obj, 'Background', now()) !== 'deleted') remaining++;
      } catch (e) {
        if (isStale(e)) remaining++;
        else errors.push(`${obj.metadata.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata.name}: ${(e as Error).message}`);
      }
    }
    if (errors.length > 0) {
      withCondition(crd, terminatingCondition('True', 'InstanceDeletionFailed', `could not issue all deletes: ${errors.join('; ')}`));
      throw new ControllerError('INSTANCE_DELETION_FAILED', `CRD ${name}: ${errors.length} custom resource(s) could not be deleted: ${errors.join('; ')}`);
    }
    if (remaining > 0) {
      // Held by their own finalizers: each one going away is an event that brings us back.
      withCondition(crd, terminatingCondition('True', 'InstanceDeletionCheck', `could not confirm zero CustomResources remaining: ${remaining} still present`));
      return;
    }
    const done = withoutFinalizer(crd, CRD_CLEANUP_FINALIZER);
    setCondition(done, terminatingCondition('False', 'InstanceDeletionCompleted', 'removed all instances'), now());
    if (writeOrFinish(storage, done) === 'deleted') log(`CustomResourceDefinition ${name} deleted with its custom resources`);
  }

  const unwatch = listThenWatch(storage, () => storage.list(CRD_GROUP, CRD_KIND).items, observe);
  return {
    stop() {
      unwatch();
      queue.stop();
    },
  };
}
