/** Golden tests: the curl and httpbin snapshots of the IAM demo world, compared with testdata/*.json. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildCatalog, compileProxySnapshot, listProxies, snapshotVersion } from './index.js';
import { assertGolden } from './testdata/golden.js';
import { CURL_POD, HTTPBIN_POD, seedInput } from './testdata/seed-world.js';

test('seed IAM world: curl snapshot matches golden', () => {
  const snap = compileProxySnapshot(buildCatalog(seedInput()), CURL_POD);
  assert.ok(snap);
  assertGolden('iam-curl', snap);
});

test('seed IAM world: httpbin snapshot matches golden', () => {
  const snap = compileProxySnapshot(buildCatalog(seedInput()), HTTPBIN_POD);
  assert.ok(snap);
  assertGolden('iam-httpbin', snap);
});

test('seed IAM world: the proxies are curl and httpbin, not ext-auth', () => {
  assert.deepEqual(listProxies(buildCatalog(seedInput())), [
    { namespace: 'curl', name: CURL_POD.name, uuid: `uuid-curl-${CURL_POD.name}`, ip: '127.7.1.1' },
    { namespace: 'httpbin', name: HTTPBIN_POD.name, uuid: `uuid-httpbin-${HTTPBIN_POD.name}`, ip: '127.7.1.2' },
  ]);
});

test('seed IAM world: compiling twice gives the same version', () => {
  const a = compileProxySnapshot(buildCatalog(seedInput()), CURL_POD)!;
  const b = compileProxySnapshot(buildCatalog(seedInput()), CURL_POD)!;
  assert.equal(snapshotVersion(a), snapshotVersion(b));
  assert.match(snapshotVersion(a), /^[0-9a-f]{64}$/);
});
