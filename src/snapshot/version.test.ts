/** Canonical JSON and snapshot versions: stable under input reordering, changed by any config change. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Resource } from '../api/types.js';
import { buildCatalog, canonicalJson, compileProxySnapshot, snapshotVersion } from './index.js';
import { input } from './testdata/builders.js';
import { CURL_POD, HTTPBIN_POD, seedResources } from './testdata/seed-world.js';

test('canonicalJson sorts keys at every depth and drops whitespace', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' } }), '{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}');
  assert.equal(canonicalJson({ '14001': 1, '8079': 2, a: 3 }), '{"14001":1,"8079":2,"a":3}');
  assert.equal(canonicalJson({ a: undefined, b: null, c: [undefined] }), '{"b":null,"c":[null]}');
  assert.equal(canonicalJson('é"\n'), JSON.stringify('é"\n'));
  assert.equal(canonicalJson(NaN), 'null');
  assert.equal(canonicalJson(undefined), 'null');
});

test('canonicalJson throws on cycles but accepts shared references', () => {
  const cyclic: Record<string, unknown> = {};
  cyclic['self'] = cyclic;
  assert.throws(() => canonicalJson(cyclic), /cyclic/);
  const shared = { x: 1 };
  assert.equal(canonicalJson([shared, shared]), '[{"x":1},{"x":1}]');
});

function versions(resources: Resource[]): string[] {
  const catalog = buildCatalog(input(resources));
  return [CURL_POD, HTTPBIN_POD].map((p) => snapshotVersion(compileProxySnapshot(catalog, p)!));
}

/** A deterministic shuffle (no randomness in tests either). */
function shuffled<T>(list: readonly T[], seed: number): T[] {
  const out = [...list];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

test('versions do not depend on the order of the input resources', () => {
  const world = seedResources();
  const expected = versions(world);
  assert.deepEqual(versions([...world].reverse()), expected);
  for (const seed of [1, 2, 3, 42]) assert.deepEqual(versions(shuffled(world, seed)), expected);
});

test('versions change when configuration changes', () => {
  const [curl, httpbin] = versions(seedResources());
  const change = (edit: (r: Resource) => void): string[] => {
    const world = structuredClone(seedResources());
    world.forEach(edit);
    return versions(world);
  };
  // The token-injector config only reaches curl.
  const token = change((r) => {
    if (r.kind === 'PluginConfig' && r.metadata.name === 'token-injector-config') (r.spec as { config: unknown }).config = { AccessToken: 'other' };
  });
  assert.notEqual(token[0], curl);
  assert.equal(token[1], httpbin);
  // Turning plugin policy off changes both.
  const off = versions(seedResources({ pluginPolicy: false }));
  assert.notEqual(off[0], curl);
  assert.notEqual(off[1], httpbin);
  // A new httpbin endpoint changes both (curl's cluster, everyone's allow-list and DNS).
  const scaled = change((r) => {
    if (r.kind === 'Pod' && r.metadata.namespace === 'httpbin') r.status = { ...(r.status as object), podIP: '127.7.1.9' };
  });
  assert.notEqual(scaled[0], curl);
  assert.notEqual(scaled[1], httpbin);
});
