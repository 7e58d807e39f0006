/** The garbage collector over the real SQLite store: background, foreground, orphan, uids, several owners. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startGarbageCollector } from './index.js';
import { deleteWithPropagation, FOREGROUND_FINALIZER } from './objects.js';
import { configMap, deployment, harness, installCrd, keyOf, obj, ownerRef, pod, settle, waitFor, widget, widgetCrd } from './fixtures.js';

test('background: deleting a Deployment deletes the pods it controls, and nothing else', async (t) => {
  const h = harness(t);
  const { storage } = h;
  h.start(startGarbageCollector);
  const web = storage.create(deployment('web'));
  const other = storage.create(deployment('other'));
  for (const name of ['web-1', 'web-2']) storage.create(pod(name, 'default', { ownerReferences: [ownerRef(web, { controller: true, blockOwnerDeletion: true })] }));
  storage.create(pod('other-1', 'default', { ownerReferences: [ownerRef(other, { controller: true })] }));
  storage.create(pod('standalone'));
  await settle(50);
  assert.equal(storage.list('', 'Pod', 'default').items.length, 4, 'owned pods stay while their owner exists');

  storage.delete(keyOf(web));
  await waitFor('the pods of web are gone', () => !storage.get(keyOf(pod('web-1'))) && !storage.get(keyOf(pod('web-2'))));
  await settle(50);
  assert.deepEqual(storage.list('', 'Pod', 'default').items.map((p) => p.metadata.name).sort(), ['other-1', 'standalone']);
});

test('foreground: blocking dependents are deleted first, held ones keep the owner until they go', async (t) => {
  const h = harness(t);
  const { storage } = h;
  h.start(startGarbageCollector);
  const web = storage.create(deployment('web'));
  const block = { controller: true, blockOwnerDeletion: true };
  storage.create(pod('web-1', 'default', { ownerReferences: [ownerRef(web, block)] }));
  storage.create(pod('web-held', 'default', { ownerReferences: [ownerRef(web, block)], finalizers: ['example.com/hold'] }));
  storage.create(configMap('web-config', 'default', { ownerReferences: [ownerRef(web)] }));

  assert.equal(deleteWithPropagation(storage, web, 'Foreground', new Date()), 'marked');
  await waitFor('the free dependents are deleted', () => !storage.get(keyOf(pod('web-1'))) && !storage.get(keyOf(configMap('web-config'))));
  const held = storage.get(keyOf(pod('web-held')));
  assert.ok(held?.metadata.deletionTimestamp, 'the held pod is marked for deletion');
  await settle(50);
  const owner = storage.get(keyOf(web));
  assert.ok(owner, 'the owner waits for its blocking dependent');
  assert.deepEqual(owner.metadata.finalizers, [FOREGROUND_FINALIZER]);

  // The pod's own controller finishes: the last finalizer going deletes it, then the owner goes.
  storage.delete(keyOf(held!), { expectUid: held!.metadata.uid! });
  await waitFor('the owner is deleted', () => !storage.get(keyOf(web)));
  assert.ok(h.deleted.indexOf('Pod/web-held') < h.deleted.indexOf('Deployment/web'), `order: ${h.deleted.join(', ')}`);
  assert.ok(h.deleted.indexOf('Pod/web-1') < h.deleted.indexOf('Deployment/web'));
});

test('foreground cascades: a dependent with dependents of its own is deleted in the foreground too', async (t) => {
  const h = harness(t);
  const { storage } = h;
  h.start(startGarbageCollector);
  const top = storage.create(deployment('top'));
  const block = { blockOwnerDeletion: true };
  const mid = storage.create(configMap('mid', 'default', { ownerReferences: [ownerRef(top, block)] }));
  storage.create(pod('leaf', 'default', { ownerReferences: [ownerRef(mid, block)] }));

  deleteWithPropagation(storage, top, 'Foreground', new Date());
  await waitFor('the whole chain is gone', () => !storage.get(keyOf(top)));
  assert.deepEqual(h.deleted, ['Pod/leaf', 'ConfigMap/mid', 'Deployment/top']);
});

test('orphan: dependents stay with the owner removed from their ownerReferences', async (t) => {
  const h = harness(t);
  const { storage } = h;
  h.start(startGarbageCollector);
  const web = storage.create(deployment('web'));
  const keep = storage.create(deployment('keep'));
  storage.create(pod('web-1', 'default', { ownerReferences: [ownerRef(web, { controller: true, blockOwnerDeletion: true })] }));
  storage.create(configMap('shared', 'default', { ownerReferences: [ownerRef(web), ownerRef(keep)] }));

  assert.equal(deleteWithPropagation(storage, web, 'Orphan', new Date()), 'marked');
  await waitFor('the owner is deleted', () => !storage.get(keyOf(web)));
  const p = storage.get(keyOf(pod('web-1')));
  assert.ok(p, 'the orphaned pod stays');
  assert.equal(p.metadata.ownerReferences, undefined);
  assert.deepEqual(storage.get(keyOf(configMap('shared')))?.metadata.ownerReferences, [ownerRef(keep)]);
  await settle(50);
  assert.ok(storage.get(keyOf(pod('web-1'))), 'an orphan is not collected afterwards');
});

test('an owner re-created under the same name (new uid) does not protect the old dependents', async (t) => {
  const h = harness(t);
  const { storage } = h;
  h.start(startGarbageCollector);
  const first = storage.create(deployment('web'));
  storage.create(pod('old', 'default', { ownerReferences: [ownerRef(first, { controller: true })] }));
  await settle(20);
  // Deleted and re-created before the collector runs: only the uid tells them apart.
  storage.delete(keyOf(first));
  const second = storage.create(deployment('web'));
  storage.create(pod('new', 'default', { ownerReferences: [ownerRef(second, { controller: true })] }));
  await waitFor('the old pod is collected', () => !storage.get(keyOf(pod('old'))));
  await settle(50);
  assert.ok(storage.get(keyOf(pod('new'))), 'the new owner keeps its own pod');
  assert.equal(storage.get(keyOf(deployment('web')))?.metadata.uid, second.metadata.uid);
});

test('at start, dependents left behind while it was not running are collected', async (t) => {
  const h = harness(t);
  const { storage } = h;
  const gone = storage.create(deployment('gone'));
  const live = storage.create(deployment('live'));
  storage.create(pod('stale', 'default', { ownerReferences: [ownerRef(gone, { controller: true })] }));
  storage.create(pod('fine', 'default', { ownerReferences: [ownerRef(live, { controller: true })] }));
  storage.delete(keyOf(gone));
  h.start(startGarbageCollector);
  await waitFor('the stale pod is collected', () => !storage.get(keyOf(pod('stale'))));
  assert.ok(storage.get(keyOf(pod('fine'))));
});

test('a dependent with two owners survives while one remains, and goes with the last', async (t) => {
  const h = harness(t);
  const { storage } = h;
  h.start(startGarbageCollector);
  const a = storage.create(deployment('a'));
  const b = storage.create(deployment('b'));
  storage.create(configMap('shared', 'default', { ownerReferences: [ownerRef(a), ownerRef(b)] }));

  storage.delete(keyOf(a));
  await waitFor('the dangling reference is dropped', () => storage.get(keyOf(configMap('shared')))?.metadata.ownerReferences?.length === 1);
  assert.deepEqual(storage.get(keyOf(configMap('shared')))?.metadata.ownerReferences, [ownerRef(b)]);
  storage.delete(keyOf(b));
  await waitFor('the dependent goes with its last owner', () => !storage.get(keyOf(configMap('shared'))));
});

test('owners and dependents of any kind: a custom resource owns a pod, a cluster-scoped owner a namespaced dependent', async (t) => {
  const h = harness(t);
  const { storage } = h;
  installCrd(h, widgetCrd());
  installCrd(h, widgetCrd('example.com', 'Gadget', 'gadgets', 'Cluster'));
  h.start(startGarbageCollector);
  const w = storage.create(widget('w', 'default'));
  const g = storage.create(widget('g', undefined, {}, 'example.com', 'Gadget'));
  storage.create(pod('by-widget', 'default', { ownerReferences: [ownerRef(w)] }));
  storage.create(configMap('by-gadget', 'default', { ownerReferences: [ownerRef(g)] }));
  await settle(50);
  assert.ok(storage.get(keyOf(pod('by-widget'))) && storage.get(keyOf(configMap('by-gadget'))));
  storage.delete(keyOf(w));
  storage.delete(keyOf(g));
  await waitFor('both dependents are collected', () => !storage.get(keyOf(pod('by-widget'))) && !storage.get(keyOf(configMap('by-gadget'))));
});

test('an owner of a kind nobody serves is not judged: the dependent stays until the kind appears', async (t) => {
  const h = harness(t);
  const { storage } = h;
  h.start(startGarbageCollector);
  const ghost = obj('example.com/v1', 'Widget', 'ghost', 'default', { uid: '00000000-0000-4000-8000-000000000001' });
  storage.create(pod('p', 'default', { ownerReferences: [ownerRef(ghost)] }));
  await settle(100);
  assert.ok(storage.get(keyOf(pod('p'))), 'kept while the owner kind is unknown');
  assert.ok(h.logs.some((l) => l.includes('cannot be resolved')), h.logs.join('\n'));
  // The CRD arrives (not even in the registry yet): now the owner is known to be absent.
  storage.create(widgetCrd());
  await waitFor('collected once the kind is known', () => !storage.get(keyOf(pod('p'))));
});

test('deletes carry a uid precondition: a stale view never deletes an object re-created under its name', (t) => {
  const h = harness(t);
  const { storage } = h;
  const stale = storage.create(pod('p'));
  storage.delete(keyOf(stale));
  const fresh = storage.create(pod('p'));
  assert.throws(() => deleteWithPropagation(storage, stale, 'Background', new Date()), (e: Error & { status?: { reason?: string } }) => e.status?.reason === 'Conflict');
  assert.equal(storage.get(keyOf(pod('p')))?.metadata.uid, fresh.metadata.uid);
});

test('a change costs work proportional to what it touches, not to the size of the store', async (t) => {
  const h = harness(t);
  const calls = { get: 0, list: 0 };
  const storage = h.storage;
  const counted = {
    ...h.options,
    storage: {
      get revision() {
        return storage.revision;
      },
      get: (k: Parameters<typeof storage.get>[0]) => (calls.get++, storage.get(k)),
      list: (g: string, k: string, ns?: string) => (calls.list++, storage.list(g, k, ns)),
      create: storage.create.bind(storage),
      update: storage.update.bind(storage),
      delete: storage.delete.bind(storage),
      watch: storage.watch.bind(storage),
    },
  };
  for (let i = 0; i < 20; i++) {
    const d = storage.create(deployment(`d${i}`));
    for (let j = 0; j < 10; j++) storage.create(pod(`d${i}-${j}`, 'default', { ownerReferences: [ownerRef(d, { controller: true })] }));
  }
  for (let i = 0; i < 500; i++) storage.create(configMap(`unrelated-${i}`));
  h.start(() => startGarbageCollector(counted));
  await settle(100);
  calls.get = 0;
  calls.list = 0;

  storage.delete(keyOf(deployment('d0')));
  await waitFor('the pods of d0 are gone', () => storage.list('', 'Pod', 'default').items.length === 190);
  await settle(50);
  assert.equal(calls.list, 0, 'no listing after the start');
  // Per pod of d0: read the pod, read its owner (plus a final look at the gone ones).
  assert.ok(calls.get <= 30, `${calls.get} reads for a change touching 11 objects`);
});
