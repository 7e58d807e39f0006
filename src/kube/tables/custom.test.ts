/** Custom resources (additionalPrinterColumns through kubectl JSONPath) and the generic CRD table. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PrinterColumn } from '../registry/types.js';
import { TableError, customResourcePrinter, genericPrinter, jsonPathText, toTable } from './index.js';
import { DAY, HOUR, MIN, NOW, ago } from './testing.js';

const crd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'meshpolicies.tessera.dev', creationTimestamp: '2024-04-01T08:30:00Z', resourceVersion: '42' },
  spec: { group: 'tessera.dev', scope: 'Namespaced', names: { kind: 'MeshPolicy', plural: 'meshpolicies' } },
};

test('CustomResourceDefinition: NAME and CREATED AT, a date column the server leaves as RFC 3339', () => {
  const table = toTable({ group: 'apiextensions.k8s.io', kind: 'CustomResourceDefinition', objects: [crd], now: NOW, includeObject: 'None' });
  assert.deepEqual(
    table.columnDefinitions!.map((c) => [c.name, c.type, c.format, c.priority]),
    [
      ['Name', 'string', 'name', 0],
      ['Created At', 'date', '', 0],
    ],
  );
  assert.deepEqual(table.rows[0]!.cells, ['meshpolicies.tessera.dev', '2024-04-01T08:30:00Z']);
});

test('a built-in kind without a printer gets the generic table; an unknown custom kind gets NAME AGE', () => {
  const lease = { metadata: { name: 'leader', creationTimestamp: ago(HOUR) } };
  assert.deepEqual(toTable({ group: 'coordination.k8s.io', kind: 'Lease', builtIn: true, objects: [lease], now: NOW, includeObject: 'None' }).rows[0]!.cells, [
    'leader',
    '2024-05-01T11:00:00Z',
  ]);
  const cr = toTable({ group: 'example.com', kind: 'Widget', objects: [lease], now: NOW, includeObject: 'None' });
  assert.deepEqual(cr.columnDefinitions!.map((c) => [c.name, c.type]), [['Name', 'string'], ['Age', 'date']]);
  assert.deepEqual(cr.rows[0]!.cells, ['leader', '60m']);
  assert.equal(genericPrinter.columns.length, 2);
});

const columns: PrinterColumn[] = [
  { name: 'Mode', type: 'string', jsonPath: '.spec.mode', description: 'How traffic is checked' },
  { name: 'Replicas', type: 'integer', jsonPath: '.spec.replicas' },
  { name: 'Weight', type: 'number', jsonPath: '.spec.weight' },
  { name: 'Enforced', type: 'boolean', jsonPath: '.spec.enforced' },
  { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
  { name: 'Last Sync', type: 'date', jsonPath: '.status.lastSyncTime' },
  { name: 'Hosts', type: 'string', jsonPath: '.spec.hosts', priority: 1 },
  { name: 'Size', type: 'string', format: 'byte', jsonPath: '.spec.size', priority: 1 },
];

const policy = {
  apiVersion: 'tessera.dev/v1',
  kind: 'MeshPolicy',
  metadata: { name: 'strict-mtls', namespace: 'demo', creationTimestamp: ago(3 * DAY) },
  spec: { mode: 'STRICT', replicas: 3.9, weight: 0.25, enforced: true, hosts: ['a.demo', 'b.demo'], size: 2048 },
  status: {
    conditions: [
      { type: 'Synced', status: 'True' },
      { type: 'Ready', status: 'False' },
    ],
    lastSyncTime: ago(5 * MIN),
  },
};

test('additionalPrinterColumns: definitions after NAME, as the CRD declares them (no AGE added)', () => {
  const printer = customResourcePrinter(columns);
  assert.deepEqual(
    printer.columns.map((c) => [c.name, c.type, c.format, c.priority]),
    [
      ['Name', 'string', 'name', 0],
      ['Mode', 'string', '', 0],
      ['Replicas', 'integer', '', 0],
      ['Weight', 'number', '', 0],
      ['Enforced', 'boolean', '', 0],
      ['Ready', 'string', '', 0],
      ['Last Sync', 'date', '', 0],
      ['Hosts', 'string', '', 1],
      ['Size', 'string', 'byte', 1],
    ],
  );
  assert.equal(printer.columns[1]!.description, 'How traffic is checked');
  assert.equal(printer.columns[2]!.description, 'Custom resource definition column (in JSONPath format): .spec.replicas');
});

test('additionalPrinterColumns: typed cells; dates become ages on the server', () => {
  const row = customResourcePrinter(columns).row(policy, NOW);
  assert.deepEqual(row.cells, ['strict-mtls', 'STRICT', 3, 0.25, true, 'False', '5m', '["a.demo","b.demo"]', '2048']);
});

test('additionalPrinterColumns: unresolvable paths and mistyped values give null cells', () => {
  const bare = { metadata: { name: 'bare', creationTimestamp: ago(DAY) }, spec: { replicas: 'three', enforced: 'yes', weight: '1' } };
  assert.deepEqual(customResourcePrinter(columns).row(bare, NOW).cells, ['bare', null, null, null, null, null, null, null, null]);
  const dates: PrinterColumn[] = [{ name: 'At', type: 'date', jsonPath: '.spec.at' }];
  const at = (v: unknown) => customResourcePrinter(dates).row({ metadata: { name: 'x' }, spec: { at: v } }, NOW).cells[1];
  assert.equal(at('last tuesday'), '<invalid>');
  assert.equal(at(''), '<unknown>');
  assert.equal(at(12), null);
  // an index past the end is an execution error on the server: empty cell, not a failure
  const indexed: PrinterColumn[] = [{ name: 'Third', type: 'string', jsonPath: '.spec.hosts[2]' }];
  assert.deepEqual(customResourcePrinter(indexed).row(policy, NOW).cells, ['strict-mtls', null]);
});

test('a string column prints values as client-go JSONPath does', () => {
  assert.equal(jsonPathText('x'), 'x');
  assert.equal(jsonPathText(3), '3');
  assert.equal(jsonPathText(2.5), '2.5');
  assert.equal(jsonPathText(1234567.5), '1.2345675e+06');
  assert.equal(jsonPathText(0.00001), '1e-05');
  assert.equal(jsonPathText(false), 'false');
  assert.equal(jsonPathText(null), '<no value>');
  assert.equal(jsonPathText({ z: 1, a: '<b>' }), '{"a":"\\u003cb\\u003e","z":1}');
});

test('a printer column whose JSONPath does not parse is a TableError (500)', () => {
  const bad: PrinterColumn[] = [{ name: 'Broken', type: 'string', jsonPath: '.spec[' }];
  assert.throws(
    () => toTable({ group: 'tessera.dev', kind: 'MeshPolicy', printerColumns: bad, objects: [policy], now: NOW, includeObject: 'Metadata' }),
    (e: unknown) => e instanceof TableError && e.code === 500 && e.message === 'unrecognized column definition ".spec["',
  );
});

test('a CRD that lists creationTimestamp gets its AGE where it put it', () => {
  const withAge: PrinterColumn[] = [
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    { name: 'Mode', type: 'string', jsonPath: '.spec.mode' },
  ];
  assert.deepEqual(customResourcePrinter(withAge).row(policy, NOW).cells, ['strict-mtls', '3d', 'STRICT']);
});
