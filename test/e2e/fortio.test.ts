/**
 * FSM's fortio demos on a local mesh, with FSM's own manifests (fortio.yaml, fortio-client.yaml
 * unchanged): the fortio image runs Tessera's built-in `fortio server`, and `kubectl exec … -- fortio
 * load` inside the client pod loads the server through both sidecars, printing fortio's lines.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { decidePodNetwork } from '../../src/local/runtime/pod-network.js';
import { sandboxSupport } from '../../src/local/sandbox/index.js';
import { deploySample, podVar, waitReady } from '../support/deploy.js';
import { eventually, podFile, podOf, startMesh, type TestMesh } from '../support/mesh.js';

const SERVER = 'http://fortio.server.svc.cluster.local:8080';
const namespaceMode = await decidePodNetwork('namespace').then(() => true, () => false);
const namespaceSkip = namespaceMode ? false : `namespace mode is not possible here (${(await sandboxSupport()).reason ?? 'uids'})`;

for (const mode of ['loopback', 'namespace'] as const) describe(`FSM's fortio demos (${mode} pods)`, { skip: mode === 'namespace' ? namespaceSkip : false }, () => {
  let mesh: TestMesh;

  /** `fortio ARGS` run in the client pod with kubectl exec, as FSM's pages do. */
  const fortio = (args: string, timeoutMs = 60_000) => mesh.sh(
    `${podVar('fortio_client', 'client', 'fortio-client')}\nkubectl exec "$fortio_client" -n client -c fortio-client -- fortio ${args}`,
    { timeoutMs },
  );

  before(async () => {
    mesh = await startMesh('fsm', mode === 'namespace' ? ['--pod-network=namespace'] : ['--pod-network=loopback']);
    const r = await mesh.sh(
      [deploySample('server', 'fortio.yaml'), deploySample('client', 'fortio-client.yaml'), waitReady([['server', 'fortio'], ['client', 'fortio-client']], '90s')].join('\n'),
      { timeoutMs: 150_000 },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });
  after(async () => {
    await mesh?.stop();
  });

  test('fortio load -c 2 -qps 0 -n 20 -loglevel Warning …/echo: Code 200 : 20 (100.0 %)', async () => {
    const out = await eventually(async () => {
      const r = await fortio(`load -c 2 -qps 0 -n 20 -loglevel Warning ${SERVER}/echo`);
      return r.code === 0 && /^Code 200 : 20 \(100\.0 %\)$/m.test(r.stdout) ? r.stdout : undefined;
    }, 30_000, 'all 20 calls answered 200 through the mesh');
    assert.match(out, /^Fortio \S+ running at 0 queries per second, \d+->\d+ procs, for 20 calls: http:\/\/fortio\.server\.svc\.cluster\.local:8080\/echo$/m);
    assert.match(out, /^# target 99% /m);
    assert.match(out, /^All done 20 calls \(plus 0 warmup\) /m);
    // through the server's sidecar: its access log has the inbound calls, from the client's identity
    const server = await podOf(mesh, 'server', 'fortio');
    const inbound = await eventually(async () => {
      const lines = readFileSync(podFile(mesh.stateDir, server.name, 'sidecar.log'), 'utf8').split('\n').filter((l) => l.includes('/echo') && l.includes('inbound'));
      return lines.length >= 20 ? lines : undefined;
    }, 10_000, 'the server sidecar logs the calls');
    assert.match(inbound.at(-1)!, /default\.client/, `the client's identity (sa.ns): ${inbound.at(-1)}`);
  });

  test('?status=503:50 answers both 200 and 503, in fortio\'s Code lines', async () => {
    const r = await fortio(`load -quiet -c 10 -qps 0 -n 100 ${SERVER}/echo?status=503:50`);
    assert.equal(r.code, 0, r.stderr);
    const ok = Number(/^Code 200 : (\d+) \(/m.exec(r.stdout)?.[1] ?? 0);
    const failed = Number(/^Code 503 : (\d+) \(/m.exec(r.stdout)?.[1] ?? 0);
    assert.ok(ok > 0 && failed > 0, r.stdout);
    assert.equal(ok + failed, 100, r.stdout);
  });

  test('tessera exec POD -- fortio curl prints the echoed reply (status line, headers, body)', async () => {
    const r = await mesh.sh(
      `${podVar('fortio_client', 'client', 'fortio-client')}\ntessera exec "$fortio_client" -n client -- fortio curl -payload hello ${SERVER}/echo`,
      { timeoutMs: 60_000 },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^HTTP\/1\.1 200 OK\r\n/);
    assert.ok(r.stdout.endsWith('hello'), r.stdout);
  });
});
