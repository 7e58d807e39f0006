/** Snapshot deltas: encoded from two versions, applied onto the first, checked against the second's version. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Resource, Service } from '../api/types.js';
import { applyDelta, buildCatalog, compileProxySnapshot, DeltaError, encodeDelta, holdSnapshot, parseDelta, snapshotJson, snapshotVersion, treeHash, type ProxySnapshot } from './index.js';
import { buildHashTree } from './delta.js';
import { input, meshConfig, meshedNamespace, pod, service } from './testdata/builders.js';

/** Two namespaces of three services each, one meshed pod per service, permissive mode. */
function world(extra: { ports?: boolean; extraPod?: boolean; dropService?: boolean } = {}): Resource[] {
  const out: Resource[] = [meshConfig({ traffic: { enablePermissiveTrafficPolicyMode: true } })];
  let ip = 1;
  for (const ns of ['a', 'b']) {
    out.push(meshedNamespace(ns));
    for (const i of [0, 1, 2]) {
      const name = `svc-${i}`;
      if (extra.dropService && ns === 'b' && i === 2) continue;
      const ports: NonNullable<Service['spec']>['ports'] = [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }];
      if (extra.ports && ns === 'a' && i === 1) ports!.push({ name: 'admin', port: 9090, targetPort: 9090, protocol: 'TCP' });
      out.push(service(ns, name, ports!, { app: name }), pod(ns, `${name}-0`, { labels: { app: name }, ip: `127.8.0.${ip++}`, serviceAccount: name, ports: [{ name: 'http', containerPort: 8080 }] }));
    }
  }
  if (extra.extraPod) out.push(pod('b', 'svc-0-1', { labels: { app: 'svc-0' }, ip: '127.8.0.99', serviceAccount: 'svc-0', unmeshed: true }));
  return out;
}

const PROXY = { namespace: 'a', name: 'svc-0-0' };

function versioned(resources: Resource[]): { version: string; snapshot: ProxySnapshot; hashes: Map<string, string> } {
  const snapshot = compileProxySnapshot(buildCatalog(input(resources)), PROXY)!;
  const hashes = new Map(Object.entries(snapshot).map(([k, v]) => [k, treeHash(v, 1)]));
  return { version: snapshotVersion(snapshot), snapshot, hashes };
}

/** What the sidecar holds: the snapshot as it arrived over the wire (thawed JSON). */
const thawed = (v: { version: string; snapshot: ProxySnapshot }) => holdSnapshot(v.version, JSON.parse(snapshotJson(v.snapshot)) as ProxySnapshot);

for (const [what, after] of [
  ['a Service gains a port', { ports: true }],
  ['a Service gains an endpoint', { extraPod: true }],
  ['a Service goes', { dropService: true }],
] as const) {
  test(`${what}: the delta is smaller than the snapshot and applies to exactly the new one`, () => {
    const from = versioned(world());
    const to = versioned(world(after));
    assert.notEqual(from.version, to.version);
    const data = encodeDelta(from, to);
    // a Service that goes takes its hostnames out of the port's one HTTP match, which is resent whole
    // (it lies at the hash tree's depth); the other changes leave that match alone
    const bound = 'dropService' in after ? 0.6 : 0.3;
    assert.ok(data.length < snapshotJson(to.snapshot).length * bound, `delta ${data.length} chars, snapshot ${snapshotJson(to.snapshot).length}`);
    const next = applyDelta(thawed(from), parseDelta(data));
    assert.equal(next.version, to.version);
    // byte for byte what a whole snapshot would have given, key order included
    assert.equal(snapshotJson(next.snapshot), snapshotJson(to.snapshot));
    assert.equal(next.tree.h, buildHashTree(next.snapshot).h, 'the patched hash tree is the tree of the patched snapshot');
  });
}

test('a delta changing only a proxy-own section replaces that section', () => {
  const from = versioned(world());
  const spec = { ...from.snapshot.Spec, SidecarLogLevel: 'debug' };
  const snapshot = { ...from.snapshot, Spec: spec };
  const to = { version: snapshotVersion(snapshot), snapshot, hashes: new Map(from.hashes).set('Spec', treeHash(spec, 1)) };
  const delta = parseDelta(encodeDelta(from, to));
  assert.deepEqual(Object.keys((delta.patch as { o: object }).o), ['Spec']);
  assert.equal(applyDelta(thawed(from), delta).version, to.version);
});

test('a delta onto another base is refused', () => {
  const v1 = versioned(world());
  const v2 = versioned(world({ ports: true }));
  const v3 = versioned(world({ ports: true, extraPod: true }));
  const delta = parseDelta(encodeDelta(v2, v3));
  assert.throws(() => applyDelta(thawed(v1), delta), (e: unknown) => e instanceof DeltaError && /applies to version/.test(e.message));
});

test('a delta whose result does not hash to its version is refused, and the held snapshot is left as it was', () => {
  const from = versioned(world());
  const to = versioned(world({ ports: true }));
  const held = thawed(from);
  const before = snapshotJson(held.snapshot);
  const delta = parseDelta(encodeDelta(from, to));
  assert.throws(() => applyDelta(held, { ...delta, version: from.version }), (e: unknown) => e instanceof DeltaError && /hashes to/.test(e.message));
  // a patch that does not fit the snapshot (an array patch naming an element the base lacks)
  const bad = { base: from.version, version: to.version, patch: { o: { Outbound: { o: { TrafficMatches: { o: { '80': { a: [99] } } } } } } } };
  assert.throws(() => applyDelta(held, bad), DeltaError);
  assert.throws(() => parseDelta('{"base":1}'), DeltaError);
  assert.equal(snapshotJson(held.snapshot), before);
});

test('the version is a Merkle hash: equal for a thawed copy, changed by a change deep in a section', () => {
  const v = versioned(world());
  const copy = JSON.parse(snapshotJson(v.snapshot)) as ProxySnapshot;
  assert.equal(snapshotVersion(copy), v.version);
  assert.equal(buildHashTree(copy).h, v.version);
  const cluster = Object.keys(copy.Outbound.ClustersConfigs)[0]!;
  (copy.Outbound.ClustersConfigs[cluster] as unknown as Record<string, unknown>)['ConnectionSettings'] = { changed: true };
  assert.notEqual(snapshotVersion(copy), v.version);
});

test('a key named __proto__ is patched as a plain member, never as the prototype', () => {
  const before = JSON.parse('{"Dns":{"__proto__":{"80":["10.0.0.1:80"]},"a":{"80":["10.0.0.2:80"]}}}') as ProxySnapshot;
  const after = JSON.parse('{"Dns":{"__proto__":{"80":["10.0.0.3:80"]},"a":{"80":["10.0.0.2:80"]},"b":{"80":["10.0.0.4:80"]}}}') as ProxySnapshot;
  const held = holdSnapshot(snapshotVersion(before), before);
  const patch = { o: { Dns: { o: { ['__proto__']: { r: { '80': ['10.0.0.3:80'] } }, b: { r: { '80': ['10.0.0.4:80'] } } } } } };
  const next = applyDelta(held, { base: held.version, version: snapshotVersion(after), patch: JSON.parse(JSON.stringify(patch)) });
  assert.equal(Object.getPrototypeOf(next.snapshot.Dns), Object.prototype);
  assert.deepEqual(Object.keys(next.snapshot.Dns), ['__proto__', 'a', 'b']);
  assert.equal(JSON.stringify(next.snapshot), JSON.stringify(after));
});
