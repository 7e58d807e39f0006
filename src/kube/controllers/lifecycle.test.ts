/** The namespace and CRD lifecycles over the real SQLite store. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '../../api/types.js';
import {
  CRD_CLEANUP_FINALIZER, namespaceConditions, startCrdLifecycle, startGarbageCollector, startLifecycleControllers, startNamespaceLifecycle, type Condition,
} from './index.js';
import { deleteWithPropagation } from './objects.js';
import { configMap, deployment, harness, installCrd, keyOf, namespace, obj, ownerRef, pod, settle, waitFor, widget, widgetCrd } from './fixtures.js';

const conditionsOf = (o: Resource | undefined): Condition[] => ((o?.status ?? {}) as { conditions?: Condition[] }).conditions ?? [];
const condition = (o: Resource | undefined, type: string): Condition | undefined => conditionsOf(o).find((c) => c.type === type);

test('deleting a namespace deletes every namespaced object in it, custom resources included, then the namespace', async (t) => {
  const h = harness(t);
  const { storage } = h;
  // The CRD is stored but not (yet) in the registry: its kind is still found.
  storage.create(widgetCrd());
  const ns = storage.create(namespace('team'));
  storage.create(namespace('other'));
  const web = storage.create(deployment('web', 'team'));
  storage.create(pod('web-1', 'team', { ownerReferences: [ownerRef(web, { controller: true, blockOwnerDeletion: true })] }));
  storage.create(configMap('cfg', 'team'));
  storage.create(obj('v1', 'Secret', 's', 'team', {}, { data: {} }));
  storage.create(obj('v1', 'Service', 'svc', 'team', {}, { spec: { ports: [{ port: 80 }] } }));
  storage.create(widget('w', 'team'));
  storage.create(configMap('cfg', 'other'));
  storage.create(widget('w', 'other'));
  h.start(startLifecycleControllers);

  assert.equal(deleteWithPropagation(storage, ns, 'Background', new Date()), 'marked');
  await waitFor('the namespace is deleted', () => !storage.get(keyOf(ns)));
  for (const [group, kind] of [['', 'Pod'], ['apps', 'Deployment'], ['', 'ConfigMap'], ['', 'Secret'], ['', 'Service'], ['example.com', 'Widget']] as const) {
    assert.deepEqual(storage.list(group, kind, 'team').items, [], `${kind} left in team`);
  }
  assert.ok(storage.get(keyOf(configMap('cfg', 'other'))), 'another namespace keeps its objects');
  assert.ok(storage.get(keyOf(widget('w', 'other'))));
  assert.ok(h.deleted.indexOf('Deployment/web') < h.deleted.indexOf('Pod/web-1'), `pods after their owners: ${h.deleted.join(', ')}`);
  assert.ok(!h.logs.some((l) => l.includes('retrying')), h.logs.join('\n'));
});

test('a namespace held by content with finalizers stays Terminating with conditions naming what remains', async (t) => {
  const h = harness(t);
  const { storage } = h;
  const ns = storage.create(namespace('team'));
  storage.create(configMap('held', 'team', { finalizers: ['example.com/hold'] }));
  storage.create(configMap('free', 'team'));
  h.start(startNamespaceLifecycle);
  deleteWithPropagation(storage, ns, 'Background', new Date());

  await waitFor('content remaining is reported', () => condition(storage.get(keyOf(ns)), 'NamespaceContentRemaining')?.status === 'True');
  const terminating = storage.get(keyOf(ns))!;
  assert.equal((terminating.status as { phase: string }).phase, 'Terminating');
  assert.deepEqual((terminating.spec as { finalizers: string[] }).finalizers, ['kubernetes'], 'the kubernetes finalizer stays until the namespace is empty');
  assert.equal(condition(terminating, 'NamespaceContentRemaining')?.message, 'Some resources are remaining: configmaps. has 1 resource instances');
  assert.equal(condition(terminating, 'NamespaceFinalizersRemaining')?.message, 'Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances');
  assert.deepEqual(
    conditionsOf(terminating).map((c) => `${c.type}=${c.status}:${c.reason}`),
    [
      'NamespaceDeletionDiscoveryFailure=False:ResourcesDiscovered',
      'NamespaceDeletionGroupVersionParsingFailure=False:ParsedGroupVersions',
      'NamespaceDeletionContentFailure=False:ContentDeleted',
      'NamespaceContentRemaining=True:SomeResourcesRemain',
      'NamespaceFinalizersRemaining=True:SomeFinalizersRemain',
    ],
  );
  assert.equal(storage.get(keyOf(configMap('free', 'team'))), undefined);
  const held = storage.get(keyOf(configMap('held', 'team')))!;
  assert.ok(held.metadata.deletionTimestamp, 'the held object is marked');

  // Its controller lets go (the last finalizer going deletes it); that event finishes the namespace.
  storage.delete(keyOf(held), { expectUid: held.metadata.uid! });
  await waitFor('the namespace is deleted', () => !storage.get(keyOf(ns)));
});

test('a namespace without spec.finalizers (written straight to the store) is emptied and deleted too', async (t) => {
  const h = harness(t);
  const { storage } = h;
  const ns = storage.create(obj('v1', 'Namespace', 'plain', undefined));
  storage.create(configMap('c', 'plain'));
  h.start(startNamespaceLifecycle);
  deleteWithPropagation(storage, ns, 'Background', new Date());
  await waitFor('the namespace is deleted', () => !storage.get(keyOf(ns)));
  assert.deepEqual(storage.list('', 'ConfigMap', 'plain').items, []);
});

test('a namespace that also waits on the garbage collector (foreground) goes once both are done', async (t) => {
  const h = harness(t);
  const { storage } = h;
  const ns = storage.create(namespace('team'));
  storage.create(configMap('c', 'team'));
  h.start(startLifecycleControllers);
  assert.equal(deleteWithPropagation(storage, ns, 'Foreground', new Date()), 'marked');
  await waitFor('the namespace is deleted', () => !storage.get(keyOf(ns)));
  assert.deepEqual(storage.list('', 'ConfigMap', 'team').items, []);
});

test('namespaceConditions: every condition type, failures with Kubernetes reasons and messages', () => {
  const ok = namespaceConditions({ remaining: new Map(), finalizers: new Map(), errors: [] });
  assert.deepEqual(ok.map((c) => [c.type, c.status, c.reason]), [
    ['NamespaceDeletionDiscoveryFailure', 'False', 'ResourcesDiscovered'],
    ['NamespaceDeletionGroupVersionParsingFailure', 'False', 'ParsedGroupVersions'],
    ['NamespaceDeletionContentFailure', 'False', 'ContentDeleted'],
    ['NamespaceContentRemaining', 'False', 'ContentRemoved'],
    ['NamespaceFinalizersRemaining', 'False', 'ContentHasNoFinalizers'],
  ]);
  const bad = namespaceConditions({ remaining: new Map([['widgets.example.com', 2], ['pods.', 1]]), finalizers: new Map(), errors: ['b: boom', 'a: bang'] });
  const failure = bad.find((c) => c.type === 'NamespaceDeletionContentFailure')!;
  assert.equal(failure.status, 'True');
  assert.equal(failure.reason, 'ContentDeletionFailed');
  assert.equal(failure.message, 'Failed to delete all resource types, 2 remaining: a: bang, b: boom');
  assert.equal(bad.find((c) => c.type === 'NamespaceContentRemaining')!.message, 'Some resources are remaining: pods. has 1 resource instances, widgets.example.com has 2 resource instances');
});

function markCrdForDeletion(h: ReturnType<typeof harness>, crd: Resource): void {
  // What kube-apiserver's CRD delete does: the cleanup finalizer is added as it is marked.
  const live = h.storage.get(keyOf(crd))!;
  const marked = structuredClone(live);
  marked.metadata.deletionTimestamp = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  marked.metadata.finalizers = [CRD_CLEANUP_FINALIZER];
  h.storage.update(marked, { expectResourceVersion: live.metadata.resourceVersion! });
}

test('deleting a CRD deletes its custom resources in every namespace, then the CRD; other kinds stay', async (t) => {
  const h = harness(t);
  const { storage } = h;
  const crd = installCrd(h, widgetCrd());
  installCrd(h, widgetCrd('example.com', 'Gadget', 'gadgets'));
  storage.create(widget('a', 'default'));
  storage.create(widget('b', 'team'));
  storage.create(widget('g', 'default', {}, 'example.com', 'Gadget'));
  h.start(startCrdLifecycle);
  await settle(30);
  assert.ok(storage.get(keyOf(crd)), 'a CRD not being deleted is left alone');

  markCrdForDeletion(h, crd);
  await waitFor('the CRD is deleted', () => !storage.get(keyOf(crd)));
  assert.deepEqual(storage.list('example.com', 'Widget').items, []);
  assert.equal(storage.list('example.com', 'Gadget').items.length, 1);
});

test('a CRD whose custom resources have finalizers stays Terminating until they are gone', async (t) => {
  const h = harness(t);
  const { storage } = h;
  const crd = installCrd(h, widgetCrd('example.com', 'Gadget', 'gadgets', 'Cluster'));
  storage.create(widget('held', undefined, { finalizers: ['example.com/hold'] }, 'example.com', 'Gadget'));
  h.start(startCrdLifecycle);
  markCrdForDeletion(h, crd);

  await waitFor('the check is reported', () => condition(storage.get(keyOf(crd)), 'Terminating')?.reason === 'InstanceDeletionCheck');
  const terminating = condition(storage.get(keyOf(crd)), 'Terminating')!;
  assert.equal(terminating.status, 'True');
  assert.match(terminating.message, /could not confirm zero CustomResources remaining/);
  const held = storage.get(keyOf(widget('held', undefined, {}, 'example.com', 'Gadget')))!;
  assert.ok(held.metadata.deletionTimestamp);

  storage.delete(keyOf(held), { expectUid: held.metadata.uid! });
  await waitFor('the CRD is deleted', () => !storage.get(keyOf(crd)));
});

test('a CRD without the cleanup finalizer is not touched by the lifecycle', async (t) => {
  const h = harness(t);
  const { storage } = h;
  const crd = installCrd(h, widgetCrd());
  const live = storage.get(keyOf(crd))!;
  storage.update({ ...live, metadata: { ...live.metadata, deletionTimestamp: '2024-01-01T00:00:00Z', finalizers: ['example.com/other'] } }, { expectResourceVersion: live.metadata.resourceVersion! });
  storage.create(widget('w', 'default'));
  h.start(startCrdLifecycle);
  h.start(startGarbageCollector);
  await settle(100);
  assert.ok(storage.get(keyOf(widget('w', 'default'))));
  assert.deepEqual(storage.get(keyOf(crd))?.metadata.finalizers, ['example.com/other']);
});
