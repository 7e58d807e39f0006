/** Tests of what the SQLite store adds: history, compaction, preconditions, groups, import, crashes, quotas. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Resource } from '../../api/types.js';
import { isMeshError, type MeshErrorCode } from '../../lib/errors.js';
import { stateFiles } from '../layout.js';
import { openStore, type ResourceStore, type StoreEvent, type StoreOptions } from './index.js';

type T = { after(fn: () => void): void };

function tempDir(t: T): string {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-sqlite-store-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function open(t: T, dir: string, opts: StoreOptions = { compactEvery: 0 }): ResourceStore {
  const store = openStore(dir, opts);
  t.after(() => store.close());
  return store;
}

function configMap(name: string, data: Record<string, string> = {}, ns = 'default'): Resource {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns }, data };
}

const cm = (name: string, namespace = 'default') => ({ kind: 'ConfigMap', namespace, name });

function meshError(code: MeshErrorCode, ...fragments: string[]): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(isMeshError(e), `expected a MeshError, got ${String(e)}`);
    assert.equal(e.code, code);
    for (const f of fragments) assert.ok(e.message.includes(f), `"${e.message}" should mention "${f}"`);
    return true;
  };
}

const summary = (events: StoreEvent[]) => events.map((e) => `${e.type} ${e.object.metadata.name} ${e.revision}`);

test('watch from a revision replays the logged events in order, then goes live', (t) => {
  const store = open(t, tempDir(t));
  store.transact([{ op: 'put', object: configMap('a') }, { op: 'put', object: configMap('b') }]);
  store.transact([{ op: 'delete', key: cm('a') }]);
  store.updateStatus(cm('b'), { phase: 'x' });

  const events: StoreEvent[] = [];
  store.watch((e) => events.push(e), 1);
  assert.deepEqual(summary(events), ['ADDED b 2', 'DELETED a 3', 'MODIFIED b 4'], 'replayed synchronously');
  assert.equal(events[1]!.object.metadata.resourceVersion, '3');
  assert.deepEqual(events[2]!.object.status, { phase: 'x' });
  store.transact([{ op: 'put', object: configMap('c') }]);
  assert.deepEqual(summary(events).slice(3), ['ADDED c 5']);

  const none: StoreEvent[] = [];
  store.watch((e) => none.push(e), store.revision);
  assert.deepEqual(none, [], 'nothing after the current revision');
});

test('a watcher that writes while its history replays sees every event once, in order', (t) => {
  const store = open(t, tempDir(t));
  store.transact([{ op: 'put', object: configMap('a') }, { op: 'put', object: configMap('b') }]);
  const seen: number[] = [];
  store.watch((e) => {
    seen.push(e.revision);
    if (e.object.metadata.name === 'a' && e.type === 'ADDED') store.transact([{ op: 'put', object: configMap('from-handler') }]);
  }, 0);
  store.transact([{ op: 'put', object: configMap('live') }]);
  assert.deepEqual(seen, [1, 2, 3, 4]);
});

test('compaction drops old history: watching from before it is Gone; the current state and revisions stay', (t) => {
  const dir = tempDir(t);
  const store = open(t, dir);
  for (let i = 0; i < 10; i++) store.transact([{ op: 'put', object: configMap(`c${i % 3}`, { i: String(i) }) }]);
  assert.equal(store.compactedRevision, 0);
  store.compact(3);
  assert.equal(store.compactedRevision, 7);
  assert.throws(() => store.watch(() => {}, 6), meshError('MESH_ERR_GONE', 'revision 6', '7'));
  const events: StoreEvent[] = [];
  store.watch((e) => events.push(e), 7);
  assert.deepEqual(events.map((e) => e.revision), [8, 9, 10]);

  store.compact(0);
  assert.equal(store.compactedRevision, 10);
  store.compact(5);
  assert.equal(store.compactedRevision, 10, 'compaction never moves back');
  assert.deepEqual(store.list('ConfigMap').map((o) => [o.metadata.name, o.data!.i]), [['c0', '9'], ['c1', '7'], ['c2', '8']]);
  assert.throws(() => store.compact(-1), meshError('MESH_ERR_USAGE'));

  const reopened = open(t, dir);
  assert.equal(reopened.compactedRevision, 10);
  assert.equal(reopened.revision, 10);
  assert.equal(reopened.transact([{ op: 'put', object: configMap('d') }])[0]!.object.metadata.resourceVersion, '11');
});

test('the store compacts by itself on a timer, and close stops it', async (t) => {
  const store = openStore(tempDir(t), { compactEvery: 10, keepRevisions: 2 });
  for (let i = 0; i < 6; i++) store.transact([{ op: 'put', object: configMap(`c${i}`) }]);
  const deadline = Date.now() + 5000;
  while (store.compactedRevision !== 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.equal(store.compactedRevision, 4);
  store.close();
  store.close();
});

test('listWithRevision gives the revision a list was read at, to watch from without gaps', (t) => {
  const store = open(t, tempDir(t));
  store.transact([{ op: 'put', object: configMap('a', {}, 'n1') }, { op: 'put', object: configMap('b', {}, 'n2') }]);
  const { items, revision } = store.listWithRevision('ConfigMap', 'n1');
  assert.deepEqual(items.map((o) => o.metadata.name), ['a']);
  assert.equal(revision, 2);
  store.transact([{ op: 'put', object: configMap('c', {}, 'n1') }]);
  const events: StoreEvent[] = [];
  store.watch((e) => events.push(e), revision);
  assert.deepEqual(summary(events), ['ADDED c 3']);
  assert.deepEqual(store.listWithRevision('Secret'), { items: [], revision: 3 });
});

test('put and delete preconditions: a stale resourceVersion or uid is a conflict and writes nothing', (t) => {
  const store = open(t, tempDir(t));
  const events: StoreEvent[] = [];
  const a = store.transact([{ op: 'put', object: configMap('a', { v: '1' }) }])[0]!.object;
  store.watch((e) => events.push(e));
  const v2 = store.transact([{ op: 'put', object: configMap('a', { v: '2' }), expectResourceVersion: '1' }])[0]!;
  assert.equal(v2.change, 'configured');
  assert.equal(v2.object.metadata.resourceVersion, '2');

  assert.throws(
    () => store.transact([
      { op: 'put', object: configMap('b') },
      { op: 'put', object: configMap('a', { v: '3' }), expectResourceVersion: '1' },
    ]),
    meshError('MESH_ERR_CONFLICT', 'configmaps "a"', 'resourceVersion 1 expected', 'the store has 2'),
  );
  assert.throws(
    () => store.transact([{ op: 'delete', key: cm('a'), expectUid: 'not-the-uid' }]),
    meshError('MESH_ERR_CONFLICT', 'configmaps "a"', 'not-the-uid', a.metadata.uid!),
  );
  assert.throws(() => store.transact([{ op: 'delete', key: cm('a'), expectResourceVersion: '1' }]), meshError('MESH_ERR_CONFLICT', '1 expected', 'has 2'));
  assert.throws(
    () => store.transact([{ op: 'put', object: configMap('ghost'), expectResourceVersion: '1' }]),
    meshError('MESH_ERR_NOT_FOUND', 'configmaps "ghost" not found'),
  );
  assert.equal(store.revision, 2);
  assert.equal(store.get(cm('b')), undefined, 'the write before the conflict was rolled back');
  assert.equal(events.length, 1);

  const [gone] = store.transact([{ op: 'delete', key: cm('a'), expectResourceVersion: '2', expectUid: a.metadata.uid! }]);
  assert.equal(gone!.change, 'deleted');
});

test('create refuses an existing object the way kubectl create does', (t) => {
  const store = open(t, tempDir(t));
  const [created] = store.transact([{ op: 'create', object: configMap('a', { k: 'v' }) }]);
  assert.equal(created!.change, 'created');
  assert.equal(created!.object.metadata.generation, 1);
  assert.throws(() => store.transact([{ op: 'create', object: configMap('a', { k: 'other' }) }]), meshError('MESH_ERR_ALREADY_EXISTS', 'configmaps "a" already exists'));
  assert.throws(
    () => store.transact([{ op: 'create', object: configMap('n') }, { op: 'create', object: configMap('n') }]),
    meshError('MESH_ERR_ALREADY_EXISTS'),
  );
  assert.equal(store.get(cm('n')), undefined);
  assert.equal(store.get(cm('a'))!.data!.k, 'v');
});

test('replaceStatus replaces (or removes) the stored status; by default an update keeps it', (t) => {
  const store = open(t, tempDir(t));
  store.transact([{ op: 'put', object: configMap('a') }]);
  store.updateStatus(cm('a'), { phase: 'old' });
  const kept = store.transact([{ op: 'put', object: { ...configMap('a', { x: '1' }), status: { phase: 'ignored' } } }])[0]!.object;
  assert.deepEqual(kept.status, { phase: 'old' });
  const replaced = store.transact([{ op: 'put', object: { ...configMap('a', { x: '1' }), status: { phase: 'new' } }, replaceStatus: true }])[0]!;
  assert.equal(replaced.change, 'configured');
  assert.deepEqual(replaced.object.status, { phase: 'new' });
  const removed = store.transact([{ op: 'put', object: configMap('a', { x: '1' }), replaceStatus: true }])[0]!.object;
  assert.equal(removed.status, undefined);
  assert.equal(store.get(cm('a'))!.status, undefined);
});

test('objects are keyed by API group: a CRD kind named like a built-in one is another object', (t) => {
  const dir = tempDir(t);
  const store = open(t, dir);
  const ours: Resource = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' }, spec: { replicas: 1 } };
  const theirs: Resource = { apiVersion: 'example.com/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' }, spec: { size: 'L' } };
  const widget: Resource = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec: {} };
  const results = store.transact([{ op: 'put', object: ours }, { op: 'put', object: theirs }, { op: 'put', object: widget }]);
  assert.deepEqual(results.map((r) => r.change), ['created', 'created', 'created']);

  assert.deepEqual(store.get({ kind: 'Deployment', namespace: 'default', name: 'web' })!.spec, { replicas: 1 });
  assert.deepEqual(store.get({ kind: 'Deployment', namespace: 'default', name: 'web', group: 'apps' })!.spec, { replicas: 1 });
  assert.deepEqual(store.get({ kind: 'Deployment', namespace: 'default', name: 'web', group: 'example.com' })!.spec, { size: 'L' });
  assert.deepEqual(store.list('Deployment').map((o) => o.apiVersion), ['apps/v1']);
  assert.deepEqual(store.list('Deployment', 'default', 'example.com').map((o) => o.apiVersion), ['example.com/v1']);
  assert.equal(store.get({ kind: 'Widget', name: 'w' }), undefined, 'an unknown kind without a group is looked up in the core group');
  assert.equal(store.get({ kind: 'Widget', name: 'w', group: 'example.com' })!.metadata.namespace, undefined, 'no namespace: cluster-scoped');
  assert.throws(
    () => store.transact([{ op: 'delete', key: { kind: 'Widget', name: 'nope', group: 'example.com' } }]),
    meshError('MESH_ERR_NOT_FOUND', 'widgets.example.com "nope" not found'),
  );

  // An accepted older apiVersion of a built-in kind is still that kind.
  const old: Resource = { apiVersion: 'config.openservicemesh.io/v1alpha3', kind: 'MeshConfig', metadata: { name: 'mc', namespace: 'x' }, spec: {} };
  store.transact([{ op: 'put', object: old }]);
  assert.ok(store.get({ kind: 'MeshConfig', namespace: 'x', name: 'mc' }));

  store.transact([{ op: 'delete', key: { kind: 'Deployment', namespace: 'default', name: 'web', group: 'example.com' } }]);
  assert.ok(store.get({ kind: 'Deployment', namespace: 'default', name: 'web' }), 'deleting theirs leaves ours');
  assert.equal(open(t, dir).list('Deployment', undefined, 'example.com').length, 0);
});

test('an old store.json is imported once, keeping uids and continuing the revisions', (t) => {
  const dir = tempDir(t);
  const ns: Resource = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'blue', uid: 'u-ns', creationTimestamp: '2024-01-02T03:04:05Z', generation: 1, resourceVersion: '9' } };
  const map: Resource = {
    apiVersion: 'v1', kind: 'ConfigMap',
    metadata: { name: 'cfg', namespace: 'blue', uid: 'u-cm', creationTimestamp: '2024-01-02T03:04:06Z', generation: 3, resourceVersion: '4' },
    data: { k: 'v' },
  };
  const json = stateFiles.store(dir);
  writeFileSync(json, JSON.stringify({ version: 1, revision: 12, objects: [ns, map] }));

  const store = open(t, dir);
  assert.equal(store.revision, 14);
  assert.equal(store.compactedRevision, 12);
  const gotMap = store.get({ kind: 'ConfigMap', namespace: 'blue', name: 'cfg' })!;
  assert.deepEqual(gotMap, { ...map, metadata: { ...map.metadata, resourceVersion: '13' } }, 'the older write keeps coming first');
  assert.deepEqual(store.get({ kind: 'Namespace', name: 'blue' })!.metadata, { ...ns.metadata, resourceVersion: '14' });
  const events: StoreEvent[] = [];
  store.watch((e) => events.push(e), 12);
  assert.deepEqual(summary(events), ['ADDED cfg 13', 'ADDED blue 14']);
  assert.ok(!existsSync(json));
  assert.ok(existsSync(`${json}.migrated`));
  store.transact([{ op: 'put', object: configMap('new') }]);

  // A crash between the import's commit and the rename leaves store.json beside a filled store.db.
  copyFileSync(`${json}.migrated`, json);
  const again = open(t, dir);
  assert.equal(again.revision, 15, 'not imported twice');
  assert.equal(again.list('ConfigMap', 'blue').length, 1);
  assert.ok(!existsSync(json));
});

test('a process killed with SIGKILL mid-write leaves a consistent store at its last acknowledged write or the next', async (t) => {
  const dir = tempDir(t);
  const script = join(dir, 'writer.mjs');
  // Each transaction writes two objects; a torn transaction would show as an odd revision or a
  // mismatched pair.
  writeFileSync(script, `
    import { openStore } from ${JSON.stringify(new URL('./index.js', import.meta.url).href)};
    const store = openStore(process.argv[2], { compactEvery: 0 });
    const cm = (name, i) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { i: String(i), pad: 'x'.repeat(1500) } });
    for (let i = Math.floor(store.revision / 2); ; i++) {
      store.transact([{ op: 'put', object: cm('a' + (i % 20), i) }, { op: 'put', object: cm('b' + (i % 20), i) }]);
      process.stdout.write(store.revision + '\\n');
    }
  `);
  const stateDir = join(dir, 'state');
  for (const killAfter of [5, 40, 120]) {
    const lastAck = await runAndKill(script, stateDir, killAfter);
    const store = openStore(stateDir, { compactEvery: 0 });
    const revision = store.revision;
    assert.ok(revision === lastAck || revision === lastAck + 2, `revision ${revision} after acknowledged ${lastAck}`);
    const objects = store.list('ConfigMap');
    const last = Math.max(...objects.map((o) => Number(o.data!.i)));
    assert.equal(revision, 2 * (last + 1), 'every transaction added exactly two revisions');
    const pairs = new Map(objects.map((o) => [o.metadata.name, o.data!.i]));
    for (const [name, i] of pairs) if (name.startsWith('a')) assert.equal(pairs.get(`b${name.slice(1)}`), i, `pair ${name.slice(1)}`);
    for (const o of objects) assert.ok(Number(o.metadata.resourceVersion) <= revision);
    const events: StoreEvent[] = [];
    store.watch((e) => events.push(e), 0);
    assert.deepEqual(events.map((e) => e.revision), Array.from({ length: revision }, (_, i) => i + 1), 'the log has every revision');
    store.close();
    const db = new Database(stateFiles.storeDb(stateDir), { readonly: true });
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    db.close();
  }
});

/** Runs the writer until it acknowledged `killAfter` more transactions, kills it, and returns the last revision it acknowledged. */
function runAndKill(script: string, stateDir: string, killAfter: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, stateDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let acks = 0;
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      acks += d.toString().split('\n').length - 1;
      if (acks >= killAfter && child.exitCode === null) child.kill('SIGKILL');
    });
    // Pipes are synchronous on Linux: every acknowledgement written before the kill is still read here.
    child.on('close', (_code, signal) => {
      if (signal !== 'SIGKILL') return reject(new Error(`writer ended on its own: ${err}`));
      const lines = out.split('\n').filter((l) => l !== '');
      resolve(Number(lines.at(-1)));
    });
  });
}

test('a full disk is a MESH_ERR_STORE_WRITE that stores nothing, and the store stays usable', (t) => {
  const dir = tempDir(t);
  const store = open(t, dir, { compactEvery: 0, maxBytes: 256 * 1024 });
  const events: StoreEvent[] = [];
  store.watch((e) => events.push(e));
  const big = (i: number) => configMap(`big${i}`, { pad: 'x'.repeat(20_000) });
  let failure: unknown;
  let i = 0;
  for (; i < 100 && failure === undefined; i++) {
    try {
      store.transact([{ op: 'put', object: big(i) }]);
    } catch (e) {
      failure = e;
    }
  }
  meshError('MESH_ERR_STORE_WRITE', stateFiles.storeDb(dir), 'full')(failure);
  const written = i - 1;
  assert.equal(store.revision, written);
  assert.equal(events.length, written);
  assert.equal(store.get(cm(`big${written}`)), undefined);
  assert.equal(store.list('ConfigMap').length, written);

  // Freeing space (history, then objects) makes room again.
  store.compact(0);
  store.transact(Array.from({ length: 4 }, (_, k) => ({ op: 'delete' as const, key: cm(`big${k}`) })));
  assert.equal(store.transact([{ op: 'put', object: configMap('small') }])[0]!.change, 'created');
  assert.equal(store.revision, written + 5);
});
