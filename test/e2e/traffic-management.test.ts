/**
 * Retry, request timeouts and TrafficSplit on a local mesh, with real traffic from FSM's curl sample
 * through its sidecar and the upstream's: a server that answers 503 to the first two requests of
 * each path is retried into 200 (counted in `proxy get stats`, the count in the access line), a
 * path the Service's timeout annotation bounds answers 504, FSM's canary manifests split requests
 * by weight, and bad manifests are refused with the field named.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { statusCodes } from '../support/curl.js';
import { deploySample, waitReady } from '../support/deploy.js';
import { nodeServer } from '../support/manifests.js';
import { eventually, podOf, startMesh, type TestMesh } from '../support/mesh.js';

/** In the mesh: /flaky/* answers 503 twice per path, then 200; /slow answers after 3 s; /always503 never succeeds. */
const FLAKY = nodeServer(
  'flaky',
  'flaky',
  'const seen = new Map(); require("http").createServer((q, s) => { const u = q.url; let body = ""; q.on("data", (c) => (body += c)); q.on("end", () => { if (u.startsWith("/flaky/")) { const n = (seen.get(u) || 0) + 1; seen.set(u, n); s.writeHead(n <= 2 ? 503 : 200); s.end(n <= 2 ? "try again\\n" : "ok after " + n + " body=" + body + "\\n"); } else if (u.startsWith("/slow")) { setTimeout(() => { s.writeHead(200); s.end("slow\\n"); }, 3000); } else if (u.startsWith("/always503")) { s.writeHead(503); s.end(); } else { s.writeHead(200); s.end("ok\\n"); } }); }).listen(+process.env.PORT, process.env.HOST)',
);

/** Two deployments behind Service `pair` (label tier: pair): one answers 200, the other always 503; outlier detection on. */
const pairMember = (name: string, status: number): string => `apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name}, namespace: flaky }
spec:
  replicas: 1
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata:
      labels: { app: ${name}, tier: pair }
      annotations:
        local.tessera.dev/command: >-
          exec "${process.execPath}" -e 'require("http").createServer((q, s) => { s.writeHead(${status}); s.end("${name}\\n"); }).listen(+process.env.PORT, process.env.HOST)'
    spec:
      containers:
      - { name: ${name}, image: node:20, ports: [{ containerPort: 8080 }] }`;

const PAIR = `apiVersion: v1
kind: Service
metadata:
  name: pair
  namespace: flaky
  annotations: { tessera.flomesh.io/outlier-detection: "consecutive5xx=2,baseEjectionTime=5m" }
spec:
  ports: [{ name: http, port: 8080 }]
  selector: { tier: pair }
---
${pairMember('pair-ok', 200)}
---
${pairMember('pair-bad', 503)}`;

const RETRY = `
kind: Retry
apiVersion: policy.flomesh.io/v1alpha1
metadata: { name: flaky-retry, namespace: curl }
spec:
  source: { kind: ServiceAccount, name: curl, namespace: curl }
  destinations:
  - { kind: Service, name: flaky, namespace: flaky }
  retryPolicy:
    retryOn: "5xx"
    perTryTimeout: 5s
    numRetries: 3
    retryBackoffBaseInterval: 10ms
`;

describe('traffic management: retries, timeouts, TrafficSplit', () => {
  let mesh: TestMesh;
  let curl = '';
  const URL = 'http://flaky.flaky:8080';

  const stats = async (filter: string): Promise<Record<string, number>> => {
    const r = await mesh.tessera(['proxy', 'get', 'stats', '-n', 'curl', curl]);
    assert.equal(r.code, 0, r.stderr);
    const out: Record<string, number> = {};
    for (const line of r.stdout.split('\n')) {
      const m = /^(\S+): (-?\d+)$/.exec(line);
      if (m && m[1]!.includes(filter)) out[m[1]!] = Number(m[2]);
    }
    return out;
  };
  const exec = (args: string[]) => mesh.tessera(['exec', curl, '-n', 'curl', '--', ...args], { timeoutMs: 30_000 });

  before(async () => {
    mesh = await startMesh('fsm');
    const r = await mesh.sh(
      `
      tessera patch meshconfig fsm-mesh-config -n fsm-system --type=merge -p '{"spec":{"featureFlags":{"enableRetryPolicy":true}}}'
${deploySample('curl')}
      kubectl create namespace flaky
      tessera namespace add flaky
      tessera apply -f - <<'EOF_APPS'
${FLAKY}
---
${PAIR}
---
${RETRY}
EOF_APPS
      kubectl annotate service flaky -n flaky tessera.flomesh.io/request-timeouts=/slow=1s
      kubectl create namespace httpbin
      tessera namespace add httpbin
      kubectl apply -f "$SAMPLES/canary-httpbin.yaml" -f "$SAMPLES/canary-httpbin-v1.yaml" -f "$SAMPLES/canary-httpbin-v2.yaml"
${waitReady([['curl', 'curl'], ['flaky', 'flaky'], ['flaky', 'pair-ok'], ['flaky', 'pair-bad'], ['httpbin', 'httpbin']], '90s')}
      `,
      { timeoutMs: 150_000 },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    curl = (await podOf(mesh, 'curl', 'curl')).name;
  });
  after(async () => {
    await mesh?.stop();
  });

  test('a transient 503 is retried into 200, counted in stats and in the access line; a lasting one stops at numRetries', async () => {
    // the policy reaches the sidecar asynchronously: the first path that comes back 200 proves it is in
    let n = 0;
    await eventually(async () => {
      const c = await statusCodes(mesh, 'curl', curl, [[`p${++n}`, `${URL}/flaky/warmup-${n}`]]);
      return c[`p${n}`] === '200';
    }, 30_000, 'retry policy in force');
    const before = await stats('flaky|8080.upstream_rq_retry');
    const codes = await statusCodes(mesh, 'curl', curl, [
      ['get', `${URL}/flaky/a`],
      ['post', `-d 'small=body' ${URL}/flaky/b`],
      ['always', `${URL}/always503`],
    ]);
    assert.deepEqual(codes, { get: '200', post: '200', always: '503' });
    const post = await exec(['curl', '-s', '-m', '10', '-d', 'x=1', `${URL}/flaky/c`]);
    assert.match(post.stdout, /ok after 3 body=x=1/, 'the buffered body was replayed whole');
    const after = await stats('flaky|8080.upstream_rq_retry');
    const delta = (k: string) => (after[`cluster.flaky/flaky|8080.${k}`] ?? 0) - (before[`cluster.flaky/flaky|8080.${k}`] ?? 0);
    assert.equal(delta('upstream_rq_retry'), 2 + 2 + 3 + 2, 'two retries per flaky path, three for the lasting 503');
    assert.equal(delta('upstream_rq_retry_success'), 3);
    assert.equal(delta('upstream_rq_retry_limit_exceeded'), 1);
    assert.ok('cluster.flaky/flaky|8080.upstream_rq_retry_overflow' in after, 'Envoy lists its retry counters from the start');
    const logs = (await mesh.tessera(['logs', curl, '-n', 'curl', '-c', 'sidecar'])).stdout;
    const line = logs.split('\n').find((l) => l.includes('"type":"access"') && l.includes('/flaky/a'));
    assert.ok(line, 'access line for /flaky/a');
    const entry = JSON.parse(line) as { retries?: number; retryReason?: string };
    assert.equal(entry.retries, 2);
    assert.equal(entry.retryReason, '503');
  });

  test("a path under the Service's request-timeouts annotation answers 504 when the upstream is slower", async () => {
    const r = await exec(['curl', '-s', '-m', '10', '-w', ' %{http_code}', `${URL}/slow`]);
    assert.equal(r.stdout.trim(), 'upstream request timeout\n 504', 'the sidecar answered, not the upstream (it answers 200 "slow" after 3 s)');
    const s = await stats('flaky|8080.upstream_rq_timeout');
    assert.ok((s['cluster.flaky/flaky|8080.upstream_rq_timeout'] ?? 0) >= 1, JSON.stringify(s));
    const ok = await statusCodes(mesh, 'curl', curl, [['fast', `${URL}/fast`]]);
    assert.deepEqual(ok, { fast: '200' }, 'other paths are not bounded');
  });

  test("FSM's retry demo, as its page runs it (tessera for fsm): 503 after numRetries, the stats it greps", async () => {
    // the demo's httpbin joins the canary's namespace; the canary root selects it too until the split
    const r = await mesh.sh(
      `
      kubectl apply -f "$SAMPLES/httpbin.yaml" -n httpbin
      kubectl wait --for=condition=ready pod -n httpbin -l app=httpbin --timeout=90s
      kubectl apply -f - <<EOF
kind: Retry
apiVersion: policy.flomesh.io/v1alpha1
metadata:
  name: retry
  namespace: curl
spec:
  source:
    kind: ServiceAccount
    name: curl
    namespace: curl
  destinations:
  - kind: Service
    name: httpbin
    namespace: httpbin
  retryPolicy:
    retryOn: "5xx"
    perTryTimeout: 1s
    numRetries: 5
    retryBackoffBaseInterval: 1s
EOF
      curl_client="$(kubectl get pod -n curl -l app=curl -o jsonpath='{.items[0].metadata.name}')"
      for i in $(seq 1 60); do tessera proxy get stats -n curl "$curl_client" | grep -q 'httpbin/httpbin|14001.upstream_rq_retry:' && break; sleep 0.5; done
      kubectl exec "$curl_client" -n curl -c curl -- curl -sI httpbin.httpbin.svc.cluster.local:14001/status/503
      echo ---
      tessera proxy get stats -n curl "$curl_client" | grep upstream_rq_retry
      echo ---
      kubectl exec "$curl_client" -n curl -c curl -- curl -sI httpbin.httpbin.svc.cluster.local:14001/status/404
      `,
      { timeoutMs: 150_000 },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const [first, statsOut, second] = r.stdout.split('---\n');
    // Tessera writes the standard reason phrase; FSM's page shows gunicorn's upper-case one passed through
    assert.match(first!, /^HTTP\/1\.1 503 SERVICE UNAVAILABLE\r?$/im);
    const lines = statsOut!.trim().split('\n').filter((l) => l.startsWith('cluster.httpbin/httpbin|14001.'));
    assert.deepEqual(lines, [
      'cluster.httpbin/httpbin|14001.upstream_rq_retry: 5',
      'cluster.httpbin/httpbin|14001.upstream_rq_retry_backoff_exponential: 5',
      'cluster.httpbin/httpbin|14001.upstream_rq_retry_backoff_ratelimited: 0',
      'cluster.httpbin/httpbin|14001.upstream_rq_retry_limit_exceeded: 1',
      'cluster.httpbin/httpbin|14001.upstream_rq_retry_overflow: 0',
      'cluster.httpbin/httpbin|14001.upstream_rq_retry_success: 0',
    ]);
    assert.match(second!, /^HTTP\/1\.1 404 NOT FOUND\r?$/im, 'a 404 is not retried');
    const after = await stats('httpbin/httpbin|14001.upstream_rq_retry');
    assert.equal(after['cluster.httpbin/httpbin|14001.upstream_rq_retry'], 5, 'the 404 added no retry');
  });

  test("FSM's canary TrafficSplit sends the root service's requests to v1 and v2 by weight", async () => {
    const ipOf = async (version: string) =>
      (await mesh.sh(`kubectl get pod -n httpbin -l app=httpbin,version=${version} -o jsonpath='{.items[0].status.podIP}'`)).stdout.trim();
    const v1 = await ipOf('v1');
    const v2 = await ipOf('v2');
    assert.ok(v1 && v2, 'both versions have an address');
    const apply = await mesh.sh('kubectl apply -f "$SAMPLES/canary-httpbin-split.yaml"');
    assert.equal(apply.code, 0, apply.stderr);
    const tag = 'split-check';
    // the root selects both versions' pods, so plain round robin also spreads; 90/10 shows the weights are in force
    const patch = await mesh.sh(`kubectl patch trafficsplit http-split -n httpbin --type=merge -p '{"spec":{"backends":[{"service":"httpbin-v1","weight":90},{"service":"httpbin-v2","weight":10}]}}'`);
    assert.equal(patch.code, 0, patch.stdout + patch.stderr);
    let round = 0;
    const got = await eventually(async () => {
      round++;
      const script = Array.from({ length: 40 }, () => `curl -s -m 5 -o /dev/null -A ${tag}-${round} http://httpbin.httpbin:14001/get`).join('; ');
      await exec(['sh', '-c', script]);
      const logs = (await mesh.tessera(['logs', curl, '-n', 'curl', '-c', 'sidecar'])).stdout;
      const ups = logs
        .split('\n')
        .filter((l) => l.includes('"type":"access"') && l.includes(`"${tag}-${round}"`))
        .map((l) => (JSON.parse(l) as { upstream: string | null }).upstream ?? '');
      const c = { v1: ups.filter((u) => u.startsWith(`${v1}:`)).length, v2: ups.filter((u) => u.startsWith(`${v2}:`)).length };
      return c.v1 + c.v2 === 40 && c.v1 >= 32 && c.v1 <= 38 ? c : undefined;
    }, 40_000, '90/10 split in force');
    assert.ok(got.v2 >= 2 && got.v2 <= 8, JSON.stringify(got));
  });

  test('outlier detection ejects the endpoint that keeps answering 503; the other serves the rest', async () => {
    await eventually(async () => {
      const dump = await mesh.tessera(['proxy', 'get', 'config_dump', '-n', 'curl', curl]);
      const c = (JSON.parse(dump.stdout) as { Outbound: { ClustersConfigs: Record<string, { Endpoints: object; OutlierDetection?: object }> } }).Outbound.ClustersConfigs['flaky/pair|8080'];
      return c?.OutlierDetection && Object.keys(c.Endpoints).length === 2;
    }, 30_000, 'both endpoints and outlier detection in the client snapshot');
    const calls: [string, string][] = Array.from({ length: 12 }, (_, i) => [`r${i}`, 'http://pair.flaky:8080/']);
    const codes = Object.values(await statusCodes(mesh, 'curl', curl, calls));
    assert.equal(codes.filter((c) => c === '503').length, 2, `two 503s in a row eject pair-bad: ${codes.join(' ')}`);
    assert.equal(codes.filter((c) => c === '200').length, 10);
    const s = await stats('flaky/pair|8080.outlier_detection');
    assert.equal(s['cluster.flaky/pair|8080.outlier_detection.ejections_enforced_total'], 1);
    assert.equal(s['cluster.flaky/pair|8080.outlier_detection.ejections_active'], 1);
  });

  test('bad manifests are refused with the field named', async () => {
    const bad = await mesh.tessera(['apply', '-f', '-'], {
      input: `kind: Retry
apiVersion: policy.flomesh.io/v1alpha1
metadata: { name: bad, namespace: curl }
spec:
  source: { kind: ServiceAccount, name: curl, namespace: curl }
  destinations: [{ kind: Service, name: flaky, namespace: flaky }]
  retryPolicy: { retryOn: "5xx,whenever", numRetries: -2 }
---
apiVersion: split.smi-spec.io/v1alpha2
kind: TrafficSplit
metadata: { name: bad, namespace: httpbin }
spec:
  service: httpbin
  backends: [{ service: httpbin-v1, weight: -1 }]
`,
    });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /spec\.retryPolicy\.retryOn: "whenever" is not a retry condition/);
    assert.match(bad.stderr, /spec\.retryPolicy\.numRetries: -2 must be greater than or equal to 0/);
    assert.match(bad.stderr, /spec\.backends\[0\]\.weight: -1 must be greater than or equal to 0/);
  });
});
