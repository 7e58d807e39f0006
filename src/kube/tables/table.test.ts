/** The Table envelope: includeObject modes, list metadata, noHeaders, and one cell per column. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TableError, toTable, type IncludeObject } from './index.js';
import { HOUR, NOW, ago } from './testing.js';

const pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name: 'web-1',
    namespace: 'demo',
    uid: '1f0c9c6e-8d53-4a8e-9a55-3c1c1b0f6a11',
    resourceVersion: '1234',
    creationTimestamp: ago(HOUR),
    labels: { app: 'web' },
  },
  spec: { containers: [{ name: 'web', image: 'nginx' }] },
  status: { phase: 'Running', containerStatuses: [{ name: 'web', ready: true, restartCount: 0, state: { running: {} } }] },
};

const table = (includeObject: IncludeObject, extra: object = {}) =>
  toTable({ group: '', kind: 'Pod', objects: [pod], now: NOW, includeObject, ...extra });

test('the envelope: kind, apiVersion, list metadata', () => {
  const t = table('Metadata', { resourceVersion: '5678', continueToken: 'eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ', remainingItemCount: 12 });
  assert.equal(t.kind, 'Table');
  assert.equal(t.apiVersion, 'meta.k8s.io/v1');
  assert.deepEqual(t.metadata, { resourceVersion: '5678', continue: 'eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ', remainingItemCount: 12 });
  assert.deepEqual(table('None').metadata, {});
  assert.deepEqual(Object.keys(t), ['kind', 'apiVersion', 'metadata', 'columnDefinitions', 'rows']);
});

test("includeObject=Metadata (kubectl's default): PartialObjectMetadata with the whole metadata", () => {
  const row = table('Metadata').rows[0]!;
  assert.deepEqual(row.object, { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: pod.metadata });
  assert.deepEqual(Object.keys(row), ['cells', 'object']);
});

test('includeObject=Object embeds the object; None sends null, as a Go RawExtension does', () => {
  assert.equal(table('Object').rows[0]!.object, pod);
  assert.equal(table('None').rows[0]!.object, null);
  assert.equal(JSON.stringify(table('None').rows[0]), `{"cells":["web-1","1/1","Running","0","60m","<none>","<none>","<none>","<none>"],"object":null}`);
});

test('PartialObjectMetadata sends an unset creationTimestamp as null (not omitempty in Go)', () => {
  const t = toTable({ group: '', kind: 'ConfigMap', objects: [{ metadata: { name: 'x' } }], now: NOW, includeObject: 'Metadata' });
  assert.deepEqual(t.rows[0]!.object, { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: { name: 'x', creationTimestamp: null } });
  assert.deepEqual(t.rows[0]!.cells, ['x', 0, '<unknown>']);
});

test('conditions sit between cells and object', () => {
  const done = { ...pod, status: { phase: 'Succeeded', containerStatuses: [{ name: 'web', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } }] } };
  const row = toTable({ group: '', kind: 'Pod', objects: [done], now: NOW, includeObject: 'None' }).rows[0]!;
  assert.deepEqual(Object.keys(row), ['cells', 'conditions', 'object']);
});

test('an unsupported includeObject is a 400, even for an empty list', () => {
  const bad = 'Everything' as IncludeObject;
  assert.throws(
    () => toTable({ group: '', kind: 'Pod', objects: [], now: NOW, includeObject: bad }),
    (e: unknown) =>
      e instanceof TableError &&
      e.code === 400 &&
      e.reason === 'BadRequest' &&
      e.message === 'Unable to convert to Table as requested: includeObject: Unsupported value: "Everything": supported values: "Metadata", "None", "Object"',
  );
});

test('noHeaders leaves the columns out (null), rows stay', () => {
  const t = table('None', { noHeaders: true });
  assert.equal(t.columnDefinitions, null);
  assert.equal(t.rows.length, 1);
});

test('an empty list is an empty rows array with the columns', () => {
  const t = toTable({ group: 'apps', kind: 'Deployment', objects: [], now: NOW, includeObject: 'Metadata' });
  assert.deepEqual(t.rows, []);
  assert.equal(t.columnDefinitions!.length, 8);
});

test('every printer gives one cell per column, first column NAME except for Event', () => {
  const kinds: [string, string][] = [
    ['', 'Pod'],
    ['', 'Namespace'],
    ['', 'Service'],
    ['', 'Endpoints'],
    ['', 'ConfigMap'],
    ['', 'Secret'],
    ['', 'ServiceAccount'],
    ['', 'Event'],
    ['events.k8s.io', 'Event'],
    ['apps', 'Deployment'],
    ['discovery.k8s.io', 'EndpointSlice'],
    ['apiextensions.k8s.io', 'CustomResourceDefinition'],
    ['tessera.dev', 'MeshPolicy'],
  ];
  for (const [group, kind] of kinds) {
    // an empty object: every printer must cope with absent fields as Go's zero values do
    const t = toTable({ group, kind, objects: [{}], now: NOW, includeObject: 'None' });
    assert.equal(t.rows[0]!.cells.length, t.columnDefinitions!.length, `${group}/${kind}`);
    const first = t.columnDefinitions![0]!;
    if (kind === 'Event') assert.equal(first.name, 'Last Seen');
    else assert.deepEqual([first.name, first.format], ['Name', 'name'], `${group}/${kind}`);
    for (const c of t.columnDefinitions!) assert.deepEqual(Object.keys(c), ['name', 'type', 'format', 'description', 'priority']);
  }
});
