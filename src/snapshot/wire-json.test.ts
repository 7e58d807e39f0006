/** The wire JSON of snapshots: byte for byte JSON.stringify, whatever sections are shared and memoized. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildCatalog, compileProxySnapshot, listProxies, snapshotJson, snapshotVersion, versionedSnapshotJson } from './index.js';
import { seedInput } from './testdata/seed-world.js';
import { input } from './testdata/builders.js';
import { l4World, l7World } from './testdata/smi-seed.js';

test('snapshotJson is JSON.stringify of the snapshot, first time and from memo, for every seed proxy', () => {
  for (const world of [seedInput(), input(l7World()), input(l4World())]) {
    const catalog = buildCatalog(world);
    const proxies = listProxies(catalog);
    assert.ok(proxies.length >= 2, 'the world has proxies');
    for (const p of proxies) {
      const snapshot = compileProxySnapshot(catalog, p);
      assert.ok(snapshot);
      const expected = JSON.stringify(snapshot);
      assert.equal(snapshotJson(snapshot), expected, `${p.namespace}/${p.name}`);
      assert.equal(snapshotJson(snapshot), expected, `${p.namespace}/${p.name}, memoized`);
      const v = { version: snapshotVersion(snapshot), snapshot };
      assert.equal(versionedSnapshotJson(v), JSON.stringify(v));
    }
  }
});

test('snapshotJson leaves out sections JSON.stringify leaves out', () => {
  const catalog = buildCatalog(seedInput());
  const snapshot = compileProxySnapshot(catalog, listProxies(catalog)[0]!)!;
  const withHoles = { ...snapshot, AccessLog: undefined };
  assert.equal(snapshotJson(withHoles), JSON.stringify(withHoles));
});
