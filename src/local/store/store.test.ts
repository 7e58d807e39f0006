/** Tests of the resource store's contract: persistence, revisions, events, all-or-none, copies out. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Resource } from '../../api/types.js';
import { isMeshError } from '../../lib/errors.js';
import { stateFiles } from '../layout.js';
import { openStore, type StoreEvent } from './index.js';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-store-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function configMap(name: string, data: Record<string, string>, ns = 'default'): Resource {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns }, data };
}

function deployment(name: string, replicas: number): Resource {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: 'default', labels: { app: name } },
    spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'x' }] } } },
  };
}

test('create stamps uid, creationTimestamp, generation and resourceVersion; data survives reopen', (t) => {
  const dir = tempDir(t);
  const store = openStore(dir);
  const [r] = store.transact([{ op: 'put', object: configMap('a', { k: 'v' }) }]);
  assert.equal(r!.change, 'created');
  const o = r!.object;
  assert.match(o.metadata.uid!, /^[0-9a-f-]{36}$/);
  assert.match(o.metadata.creationTimestamp!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(o.metadata.resourceVersion, '1');
  assert.equal(o.metadata.generation, 1);
  assert.equal(store.revision, 1);

  const reopened = openStore(dir);
  assert.equal(reopened.revision, 1);
  assert.deepEqual(reopened.get({ kind: 'ConfigMap', namespace: 'default', name: 'a' }), o);
});

test('update keeps uid and status, bumps generation only when spec changes, unchanged puts emit nothing', (t) => {
  const store = openStore(tempDir(t));
  const events: StoreEvent[] = [];
  store.watch((e) => events.push(e));
  const created = store.transact([{ op: 'put', object: deployment('web', 1) }])[0]!.object;
  store.updateStatus({ kind: 'Deployment', namespace: 'default', name: 'web' }, { replicas: 1 });

  const same = store.transact([{ op: 'put', object: deployment('web', 1) }])[0]!;
  assert.equal(same.change, 'unchanged');
  assert.equal(events.length, 2);

  const labelled = deployment('web', 1);
  labelled.metadata.labels = { app: 'web', tier: 'front' };
  const relabelled = store.transact([{ op: 'put', object: labelled }])[0]!;
  assert.equal(relabelled.change, 'configured');
  assert.equal(relabelled.object.metadata.generation, 1, 'labels are not spec');

  const scaled = store.transact([{ op: 'put', object: deployment('web', 3) }])[0]!;
  assert.equal(scaled.change, 'configured');
  assert.equal(scaled.object.metadata.uid, created.metadata.uid);
  assert.equal(scaled.object.metadata.creationTimestamp, created.metadata.creationTimestamp);
  assert.equal(scaled.object.metadata.generation, 2);
  assert.deepEqual(scaled.object.status, { replicas: 1 }, 'status survives apply');
  assert.equal(scaled.object.metadata.labels?.tier, undefined, 'apply replaces labels');
  assert.deepEqual(events.map((e) => [e.type, e.revision]), [['ADDED', 1], ['MODIFIED', 2], ['MODIFIED', 3], ['MODIFIED', 4]]);
  assert.equal(scaled.object.metadata.resourceVersion, '4');
});

test('updateStatus with the same status is a no-op; on a missing object returns undefined', (t) => {
  const store = openStore(tempDir(t));
  store.transact([{ op: 'put', object: configMap('a', {}) }]);
  store.updateStatus({ kind: 'ConfigMap', namespace: 'default', name: 'a' }, { x: 1 });
  const rev = store.revision;
  store.updateStatus({ kind: 'ConfigMap', namespace: 'default', name: 'a' }, { x: 1 });
  assert.equal(store.revision, rev);
  assert.equal(store.updateStatus({ kind: 'ConfigMap', namespace: 'default', name: 'zz' }, {}), undefined);
});

test('a transaction applies all writes or none', (t) => {
  const dir = tempDir(t);
  const store = openStore(dir);
  const events: StoreEvent[] = [];
  store.watch((e) => events.push(e));
  assert.throws(
    () => store.transact([
      { op: 'put', object: configMap('a', {}) },
      { op: 'delete', key: { kind: 'Pod', namespace: 'default', name: 'ghost' } },
    ]),
    (e: unknown) => isMeshError(e) && e.code === 'MESH_ERR_NOT_FOUND' && e.message === 'pods "ghost" not found',
  );
  assert.equal(store.revision, 0);
  assert.equal(store.list('ConfigMap').length, 0);
  assert.equal(events.length, 0);
  assert.equal(openStore(dir).list('ConfigMap').length, 0, 'nothing was persisted');
});

test('delete emits DELETED with a new revision; list filters by namespace and sorts', (t) => {
  const store = openStore(tempDir(t));
  store.transact([
    { op: 'put', object: configMap('b', {}, 'n1') },
    { op: 'put', object: configMap('a', {}, 'n2') },
    { op: 'put', object: configMap('a', {}, 'n1') },
  ]);
  assert.deepEqual(store.list('ConfigMap').map((o) => `${o.metadata.namespace}/${o.metadata.name}`), ['n1/a', 'n1/b', 'n2/a']);
  assert.equal(store.list('ConfigMap', 'n2').length, 1);
  const events: StoreEvent[] = [];
  store.watch((e) => events.push(e));
  const [r] = store.transact([{ op: 'delete', key: { kind: 'ConfigMap', namespace: 'n1', name: 'a' } }]);
  assert.equal(r!.change, 'deleted');
  assert.deepEqual(events.map((e) => [e.type, e.revision, e.object.metadata.name]), [['DELETED', 4, 'a']]);
  assert.equal(store.get({ kind: 'ConfigMap', namespace: 'n1', name: 'a' }), undefined);
});

test('cluster-scoped kinds ignore a namespace', (t) => {
  const store = openStore(tempDir(t));
  store.transact([{ op: 'put', object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x', namespace: 'oops' } } }]);
  assert.equal(store.get({ kind: 'Namespace', name: 'x' })?.metadata.namespace, undefined);
});

test('returned objects are copies: mutating them does not change the store', (t) => {
  const store = openStore(tempDir(t));
  const o = store.transact([{ op: 'put', object: configMap('a', { k: 'v' }) }])[0]!.object;
  o.data!.k = 'changed';
  store.get({ kind: 'ConfigMap', namespace: 'default', name: 'a' })!.data!.k = 'changed';
  assert.equal(store.get({ kind: 'ConfigMap', namespace: 'default', name: 'a' })!.data!.k, 'v');
});

test('temp files the old JSON writer left behind are removed', (t) => {
  const dir = tempDir(t);
  writeFileSync(`${stateFiles.store(dir)}.tmp-99999-deadbeef`, '{"version":1,"revision":7,"obj');
  const store = openStore(dir);
  assert.equal(store.revision, 0);
  assert.deepEqual(readdirSync(dir).filter((n) => n.includes('.tmp-')), []);
});

test('the state directory holds store.db and its WAL, owner-only, and no JSON file', (t) => {
  const dir = tempDir(t);
  const store = openStore(dir);
  for (let i = 0; i < 5; i++) store.transact([{ op: 'put', object: configMap(`c${i}`, { i: String(i) }) }]);
  assert.deepEqual(readdirSync(dir).sort(), ['store.db', 'store.db-shm', 'store.db-wal']);
  for (const name of readdirSync(dir)) assert.equal(statSync(join(dir, name)).mode & 0o777, 0o600, name);
  assert.equal(openStore(dir).list('ConfigMap').length, 5);
});

test('a damaged store.db, or a damaged store.json to import, raises MESH_ERR_STORE_CORRUPT naming the file', (t) => {
  const dir = tempDir(t);
  const db = stateFiles.storeDb(dir);
  writeFileSync(db, 'this is not an SQLite database, only some text that is long enough to hold a header '.repeat(20));
  assert.throws(() => openStore(dir), (e: unknown) => isMeshError(e) && e.code === 'MESH_ERR_STORE_CORRUPT' && e.message.includes(db));

  const other = tempDir(t);
  const file = stateFiles.store(other);
  writeFileSync(file, '{"version":1,"revision":3,"objects":[{"kind":"ConfigMap","metad');
  assert.throws(() => openStore(other), (e: unknown) => isMeshError(e) && e.code === 'MESH_ERR_STORE_CORRUPT' && e.message.includes(file));
  writeFileSync(file, '{"hello":1}');
  assert.throws(() => openStore(other), (e: unknown) => isMeshError(e) && e.code === 'MESH_ERR_STORE_CORRUPT');
  assert.ok(existsSync(file), 'a file we could not import is left where it was');
});

test('a throwing watcher does not break others or the write', (t) => {
  const store = openStore(tempDir(t));
  const seen: string[] = [];
  const originalError = console.error;
  console.error = () => {};
  t.after(() => { console.error = originalError; });
  store.watch(() => { throw new Error('boom'); });
  const stop = store.watch((e) => seen.push(e.object.metadata.name));
  store.transact([{ op: 'put', object: configMap('a', {}) }]);
  stop();
  store.transact([{ op: 'put', object: configMap('b', {}) }]);
  assert.deepEqual(seen, ['a']);
  assert.equal(store.list('ConfigMap').length, 2);
});
