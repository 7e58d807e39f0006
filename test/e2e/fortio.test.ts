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

  test("FSM's local rate-limit demo: 3 a minute lets 3 of 10 through, 429 for the rest, counted in proxy get stats", async () => {
    const setting = `apiVersion: policy.flomesh.io/v1alpha1
kind: UpstreamTrafficSetting
metadata: { name: http-rate-limit, namespace: server }
spec:
  host: fortio.server.svc.cluster.local
  rateLimit:
    local:
      http: { requests: 3, unit: minute }
`;
    const server = await podOf(mesh, 'server', 'fortio');
    const applied = await mesh.sh(`kubectl apply -f - <<'EOF_UTS'\n${setting}EOF_UTS`);
    assert.equal(applied.code, 0, applied.stderr);
    // in force once the server's sidecar holds the limit (a load run before that would spend the bucket unseen)
    await eventually(async () => (await mesh.tessera(['proxy', 'get', 'config_dump', server.name, '-n', 'server'])).stdout.includes('"RateLimit"'), 20_000, 'the limit in the server sidecar');
    const r = await fortio(`load -c 3 -n 10 ${SERVER}/echo`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Code 200 : 3 \(30\.0 %\)$/m, r.stdout);
    assert.match(r.stdout, /^Code 429 : 7 \(70\.0 %\)$/m, r.stdout);
    const stats = await mesh.sh(`tessera proxy get stats ${server.name} -n server | grep http_local_rate_limiter.http_local_rate_limit.rate_limited`);
    assert.equal(stats.stdout.trim(), 'http_local_rate_limiter.http_local_rate_limit.rate_limited: 7');
    const removed = await mesh.sh('kubectl delete upstreamtrafficsetting http-rate-limit -n server');
    assert.equal(removed.code, 0, removed.stderr);
  });

  test("FSM's circuit-breaking demo: one connection and one pending request; the overflow answers 503 and counts upstream_rq_pending_overflow", async () => {
    const setting = `apiVersion: policy.flomesh.io/v1alpha1
kind: UpstreamTrafficSetting
metadata: { name: http-circuit-breaking, namespace: server }
spec:
  host: fortio.server.svc.cluster.local
  connectionSettings:
    tcp: { maxConnections: 1 }
    http: { maxPendingRequests: 1, maxRequestsPerConnection: 1 }
`;
    const client = await podOf(mesh, 'client', 'fortio-client');
    const applied = await mesh.sh(`kubectl apply -f - <<'EOF_UTS'\n${setting}EOF_UTS`);
    assert.equal(applied.code, 0, applied.stderr);
    await eventually(async () => (await mesh.tessera(['proxy', 'get', 'config_dump', client.name, '-n', 'client'])).stdout.includes('"MaxPendingRequests"'), 20_000, 'the limits in the client sidecar');
    // a 50 ms answer keeps the three connections' requests overlapping, so the third always overflows
    const r = await fortio(`load -c 3 -qps 0 -n 30 -loglevel Warning ${SERVER}/echo?delay=50ms:100`);
    assert.equal(r.code, 0, r.stderr);
    const ok = Number(/^Code 200 : (\d+) \(/m.exec(r.stdout)?.[1] ?? 0);
    const overflow = Number(/^Code 503 : (\d+) \(/m.exec(r.stdout)?.[1] ?? 0);
    assert.ok(ok > 0 && overflow > 0 && ok + overflow === 30, r.stdout);
    const stats = await mesh.sh(`tessera proxy get stats ${client.name} -n client | grep upstream_rq_pending_overflow`);
    assert.match(stats.stdout, new RegExp(`^cluster\\.\\S*fortio\\S*\\.upstream_rq_pending_overflow: ${overflow}$`, 'm'), stats.stdout);
    const removed = await mesh.sh('kubectl delete upstreamtrafficsetting http-circuit-breaking -n server');
    assert.equal(removed.code, 0, removed.stderr);
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
