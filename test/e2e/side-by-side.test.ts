/** Two meshes with different state directories run side by side without clashing. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startMesh, type TestMesh } from '../support/mesh.js';

describe('two meshes side by side', () => {
  let a: TestMesh;
  let b: TestMesh;
  before(async () => {
    [a, b] = await Promise.all([startMesh('alpha'), startMesh('beta')]);
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  test('both serve the same workloads on their own addresses', async () => {
    const deploy = `
      tessera create namespace httpbin
      tessera namespace add httpbin
      tessera apply -n httpbin -f "$SAMPLES/httpbin.yaml"
      tessera create namespace curl
      tessera namespace add curl
      tessera apply -n curl -f "$SAMPLES/curl.yaml"
      tessera wait --for=condition=ready pod -n httpbin -l app=httpbin --timeout=90s
      tessera wait --for=condition=ready pod -n curl -l app=curl --timeout=90s
      p=$(tessera get pod -n curl -l app=curl -o jsonpath='{.items..metadata.name}')
      tessera get pod -n httpbin -l app=httpbin -o jsonpath='{.items[0].status.podIP}'; echo
      tessera exec $p -n curl -- curl -s -o /dev/null -w '%{http_code}\\n' http://httpbin.httpbin:14001/get
    `;
    const [ra, rb] = await Promise.all([a.sh(deploy, { timeoutMs: 180_000 }), b.sh(deploy, { timeoutMs: 180_000 })]);
    assert.equal(ra.code, 0, ra.stderr);
    assert.equal(rb.code, 0, rb.stderr);
    const [ipA, codeA] = ra.stdout.trim().split('\n').slice(-2);
    const [ipB, codeB] = rb.stdout.trim().split('\n').slice(-2);
    assert.equal(codeA, '200');
    assert.equal(codeB, '200');
    // Each mesh has its own addresses: a /16 of 127/8 in loopback mode, a /20 of 10.224/11 for
    // sandboxed pods (docs/architecture.md), so two meshes never share a pod address.
    assert.match(ipA!, /^(127|10)\.\d+\.\d+\.\d+$/);
    const network = (ip: string): string => (ip.startsWith('127.') ? ip.split('.')[1]! : ip.split('.').slice(0, 3).join('.'));
    assert.notEqual(network(ipA!), network(ipB!), 'each mesh has its own address block');
  });
});
