/**
 * UpstreamTrafficSetting with real traffic through two sidecars (curl → httpbin, FSM's demo
 * services): local rate limits on httpbin's inbound (service-wide, burst, per route), circuit
 * breaking on curl's outbound (error ratio, slow calls, connection-pool overflow), the counters in
 * `tessera proxy get stats`, the reasons in the access log, and bad manifests refused by field.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { deployDemo } from '../support/deploy.js';
import { eventually, podOf, startMesh, type TestMesh } from '../support/mesh.js';

const URL = 'http://httpbin.httpbin:14001';

/** `"Key": value` in a config_dump, however it is indented. */
const has = (dump: string, key: string, value: string | number): boolean => new RegExp(`"${key}":\\s*${value}\\b`).test(dump);

const setting = (spec: string) => `
apiVersion: policy.flomesh.io/v1alpha1
kind: UpstreamTrafficSetting
metadata: { name: httpbin, namespace: httpbin }
spec:
  host: httpbin.httpbin.svc.cluster.local
${spec}
`;

describe('UpstreamTrafficSetting', () => {
  let mesh: TestMesh;
  let curl = '';
  let httpbin = '';

  /** Status codes of `paths`, one curl after the other (or all at once with `parallel`), from the curl pod. */
  async function statuses(paths: string[], parallel = false): Promise<string[]> {
    const one = (p: string, i: number) => `curl -s -m 15 -o /dev/null -w "${i}=%{http_code}\\n" '${URL}${p}'`;
    const script = parallel ? `${paths.map((p, i) => `${one(p, i)} &`).join('\n')}\nwait` : paths.map(one).join('\n');
    const r = await mesh.tessera(['exec', curl, '-n', 'curl', '--', 'sh', '-c', script], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    const byIndex = new Map(r.stdout.trim().split('\n').map((l) => l.split('=') as [string, string]));
    return paths.map((_, i) => byIndex.get(String(i)) ?? 'none');
  }

  async function configDump(pod: string, ns: string): Promise<string> {
    const r = await mesh.tessera(['proxy', 'get', 'config_dump', pod, '-n', ns]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  }

  /** Applies the setting and waits until both sidecars run a snapshot where `ready` holds. */
  async function apply(spec: string, ready: (curlDump: string, httpbinDump: string) => boolean): Promise<void> {
    const r = await mesh.tessera(['apply', '-f', '-'], { input: setting(spec) });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    await eventually(async () => ready(await configDump(curl, 'curl'), await configDump(httpbin, 'httpbin')) || undefined, 30_000, 'setting in both sidecars');
  }

  async function stats(pod: string, ns: string, filter: string): Promise<Record<string, number>> {
    const r = await mesh.tessera(['proxy', 'get', `stats?filter=${filter}`, pod, '-n', ns]);
    assert.equal(r.code, 0, r.stderr);
    return Object.fromEntries(r.stdout.trim().split('\n').filter(Boolean).map((l) => { const [k, v] = l.split(': '); return [k!, Number(v)]; }));
  }

  async function accessLog(pod: string, ns: string, pattern: RegExp): Promise<string> {
    return eventually(async () => {
      const l = (await mesh.tessera(['logs', pod, '-n', ns, '-c', 'sidecar'])).stdout;
      return pattern.test(l) ? l : undefined;
    }, 10_000, `access line ${pattern}`);
  }

  before(async () => {
    mesh = await startMesh('fsm');
    await deployDemo(mesh);
    curl = (await podOf(mesh, 'curl', 'curl')).name;
    httpbin = (await podOf(mesh, 'httpbin', 'httpbin')).name;
    await eventually(async () => ((await statuses(['/get']))[0] === '200' ? true : undefined), 30_000, 'curl reaches httpbin');
  });
  after(async () => {
    await mesh?.stop();
  });

  test('3 requests a minute: exactly 3 pass, the rest get the configured status and headers; counted and logged', async () => {
    await apply(
      `  rateLimit:
    local:
      http: { requests: 3, unit: minute, responseStatusCode: 418, responseHeadersToAdd: [{ name: x-limited-by, value: three-a-minute }] }`,
      (_c, h) => h.includes('three-a-minute'),
    );
    assert.deepEqual(await statuses(['/get', '/get', '/get', '/get', '/get', '/get']), ['200', '200', '200', '418', '418', '418']);
    const headers = await mesh.tessera(['exec', curl, '-n', 'curl', '--', 'curl', '-s', '-m', '10', '-D', '-', '-o', '/dev/null', `${URL}/get`]);
    assert.match(headers.stdout, /^x-limited-by: three-a-minute\r?$/m);
    const s = await stats(httpbin, 'httpbin', 'http_local_rate_limit');
    assert.equal(s['http_local_rate_limiter.http_local_rate_limit.rate_limited'], 4);
    assert.equal(s['http_local_rate_limiter.http_local_rate_limit.ok'], 3);
    assert.equal(s['http_local_rate_limiter.http_local_rate_limit.enabled'], 7);
    await accessLog(httpbin, 'httpbin', /"status":418.*"denied":"local rate limit: httpbin\.httpbin 3\/minute"/);
    // the same counter as a Prometheus metric, under Envoy's name
    const prom = await mesh.tessera(['proxy', 'get', 'stats/prometheus', httpbin, '-n', 'httpbin']);
    assert.match(prom.stdout, /^envoy_http_local_rate_limiter_http_local_rate_limit_rate_limited(\{[^}]*\})? 4$/m);
  });

  test('burst: 1 a minute with burst 2 lets 3 through', async () => {
    await apply(
      `  rateLimit:
    local:
      http: { requests: 1, unit: minute, burst: 2, responseHeadersToAdd: [{ name: x-case, value: burst }] }`,
      (_c, h) => has(h, 'Burst', 2),
    );
    assert.deepEqual(await statuses(['/get', '/get', '/get', '/get', '/get']), ['200', '200', '200', '429', '429']);
  });

  test('per route: /headers once a minute, the other paths unlimited', async () => {
    await apply(
      `  httpRoutes:
  - path: /headers
    rateLimit:
      local: { requests: 1, unit: minute }`,
      (_c, h) => h.includes('RouteRateLimits') && !has(h, 'Burst', 2),
    );
    assert.deepEqual(await statuses(['/headers', '/headers', '/get', '/get', '/get', '/get']), ['200', '429', '200', '200', '200', '200']);
    await accessLog(httpbin, 'httpbin', /"path":"\/headers","status":429.*"denied":"local rate limit: httpbin\.httpbin path \/headers 1\/minute"/);
  });

  test('the circuit opens on the error ratio, answers degraded for the window, then closes', async () => {
    await apply(
      `  connectionSettings:
    http:
      circuitBreaking: { statTimeWindow: 1m, minRequestAmount: 4, errorRatioThreshold: 0.5, degradedTimeWindow: 3s, degradedStatusCode: 409, degradedResponseContent: "error ratio" }`,
      (c, h) => has(c, 'ErrorRatioThreshold', 0.5) && !h.includes('RouteRateLimits'),
    );
    // 4 of 4 answers are 503: the fourth opens the circuit; /get is answered by the breaker
    assert.deepEqual(await statuses(['/status/503', '/status/503', '/status/503', '/status/503', '/get', '/get']), ['503', '503', '503', '503', '409', '409']);
    const body = await mesh.tessera(['exec', curl, '-n', 'curl', '--', 'curl', '-s', '-m', '10', `${URL}/get`]);
    assert.equal(body.stdout, 'error ratio');
    const s = await stats(curl, 'curl', 'circuit_breakers');
    assert.equal(s['cluster.httpbin/httpbin|14001.circuit_breakers.default.opened'], 1);
    assert.equal(s['cluster.httpbin/httpbin|14001.circuit_breakers.default.rq_degraded'], 3);
    await accessLog(curl, 'curl', /"status":409.*"denied":"circuit breaker open: httpbin\/httpbin \(error-ratio\)"/);
    // after degradedTimeWindow (3 s) the circuit closes
    await new Promise((r) => setTimeout(r, 3_500));
    assert.deepEqual(await statuses(['/get']), ['200']);
    assert.equal((await stats(curl, 'curl', 'circuit_breakers'))['cluster.httpbin/httpbin|14001.circuit_breakers.default.closed'], 1);
  });

  test('the circuit opens on slow calls and closes after the window', async () => {
    await apply(
      `  connectionSettings:
    http:
      circuitBreaking: { statTimeWindow: 1m, minRequestAmount: 1, slowTimeThreshold: 2s, slowAmountThreshold: 2, degradedTimeWindow: 3s }`,
      (c) => has(c, 'SlowAmountThreshold', 2),
    );
    // FSM's defaults: 409 and "Coming soon ..."
    assert.deepEqual(await statuses(['/delay/2.5', '/get', '/delay/2.5', '/get']), ['200', '200', '200', '409']);
    await accessLog(curl, 'curl', /"status":409.*"denied":"circuit breaker open: httpbin\/httpbin \(slow-amount\)"/);
    await new Promise((r) => setTimeout(r, 3_500));
    assert.deepEqual(await statuses(['/get']), ['200']);
  });

  test('connection limits: one in flight, no queue: the others get 503 overflow, counted as Envoy does', async () => {
    await apply(
      `  connectionSettings:
    tcp: { maxConnections: 1 }
    http: { maxPendingRequests: 0 }`,
      (c) => has(c, 'MaxConnections', 1),
    );
    const codes = await statuses(['/delay/2', '/delay/2', '/delay/2'], true);
    assert.deepEqual([...codes].sort(), ['200', '503', '503']);
    const s = await stats(curl, 'curl', 'overflow');
    assert.equal(s['cluster.httpbin/httpbin|14001.upstream_rq_pending_overflow'], 2);
    assert.equal(s['cluster.httpbin/httpbin|14001.upstream_cx_overflow'], 2);
    await accessLog(curl, 'curl', /"status":503.*"denied":"upstream overflow: httpbin\/httpbin connection limits/);
  });

  test('bad manifests are refused with the field named', async () => {
    const cases: [string, RegExp][] = [
      [`  rateLimit: { local: { http: { requests: -3, unit: minute } } }`, /spec\.rateLimit\.local\.http\.requests: -3 must not be negative/],
      [`  rateLimit: { local: { tcp: { connections: 3, unit: fortnight } } }`, /spec\.rateLimit\.local\.tcp\.unit: unknown unit "fortnight"/],
      [
        `  connectionSettings: { http: { circuitBreaking: { statTimeWindow: 1m, minRequestAmount: 1, degradedTimeWindow: 1m, errorRatioThreshold: 150 } } }`,
        /spec\.connectionSettings\.http\.circuitBreaking\.errorRatioThreshold: 150 is over 1/,
      ],
    ];
    for (const [spec, message] of cases) {
      const r = await mesh.tessera(['apply', '-f', '-'], { input: setting(spec) });
      assert.notEqual(r.code, 0, r.stdout);
      assert.match(r.stderr, message);
    }
  });
});
