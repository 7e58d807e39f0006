/**
 * Sidecar metrics as a real Prometheus sees them: Prometheus runs as a pod's process outside the mesh
 * (a namespace not added to it, as a monitoring namespace on a cluster) and scrapes httpbin's sidecar
 * admin endpoint at its pod IP while curl's requests flow through the mesh; PromQL then finds the
 * request counter by source and destination service and a latency quantile from the histogram.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decidePodNetwork } from '../../src/local/runtime/pod-network.js';
import { DEMO_SERVICES, waitReady } from '../support/deploy.js';
import { eventually, podOf, startMesh, type RunResult, type TestMesh } from '../support/mesh.js';

const hasPrometheus = spawnSync('sh', ['-c', 'command -v prometheus']).status === 0;
const namespaces = await decidePodNetwork('namespace').then(() => true, () => false);
const skip = !hasPrometheus ? 'prometheus is not installed (.ci/run installs it)' : !namespaces ? 'namespace mode is not possible here' : false;

describe('metrics scraped by a real Prometheus', { skip }, () => {
  let mesh: TestMesh;
  let prom: Promise<RunResult> | undefined;
  let monitor = '';
  let dir = '';
  const stopFile = (): string => join(dir, 'stop');

  before(async () => {
    mesh = await startMesh('fsm', ['--pod-network=namespace']);
    const r = await mesh.sh(
      [DEMO_SERVICES, 'kubectl create namespace monitoring', 'kubectl apply -n monitoring -f "$SAMPLES/curl.yaml"', waitReady([['monitoring', 'curl']])].join('\n'),
      { timeoutMs: 240_000 },
    );
    assert.equal(r.code, 0, r.stderr);
    const httpbinIP = (await podOf(mesh, 'httpbin', 'httpbin')).ip;
    monitor = (await podOf(mesh, 'monitoring', 'curl')).name;
    dir = mkdtempSync(join(tmpdir(), 'tessera-prom-'));
    chmodSync(dir, 0o777); // Prometheus runs as the pod's uid and keeps its data here
    writeFileSync(
      join(dir, 'prometheus.yml'),
      `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: tessera-sidecar\n    metrics_path: /stats/prometheus\n    static_configs:\n      - targets: ['${httpbinIP}:15000']\n`,
    );
    // In the pod, on its own loopback; it stops when the stop file appears (at most 10 minutes).
    const script = `prometheus --config.file=${dir}/prometheus.yml --storage.tsdb.path=${dir}/data --web.listen-address=127.0.0.1:9090 >${dir}/prometheus.log 2>&1 & p=$!
      i=0; while [ ! -e ${stopFile()} ] && [ $i -lt 3000 ] && kill -0 $p 2>/dev/null; do sleep 0.2; i=$((i+1)); done
      kill $p 2>/dev/null; wait $p || true`;
    prom = mesh.tessera(['exec', monitor, '-n', 'monitoring', '--', 'sh', '-c', script], { timeoutMs: 660_000 });
    prom.catch(() => undefined);
  });

  after(async () => {
    if (dir) writeFileSync(stopFile(), '');
    await prom?.catch(() => undefined);
    await mesh?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** a PromQL query, asked from inside the monitoring pod */
  const query = async (q: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> => {
    const r = await mesh.tessera(['exec', monitor, '-n', 'monitoring', '--', 'curl', '-s', '-m', '3', `http://127.0.0.1:9090/api/v1/query?query=${encodeURIComponent(q)}`]);
    if (r.code !== 0) return [];
    const body = JSON.parse(r.stdout) as { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    assert.equal(body.status, 'success');
    return body.data.result;
  };

  test('requests by source and destination, and a latency quantile', async () => {
    const curl = (await podOf(mesh, 'curl', 'curl')).name;
    // bounded traffic: 20 requests through the mesh
    const r = await mesh.sh(`for i in $(seq 1 20); do tessera exec ${curl} -n curl -- curl -s -o /dev/null http://httpbin.httpbin:14001/get; done`, { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    const series = await eventually(
      async () => {
        const s = await query('tessera_requests_total{direction="inbound",destination="httpbin.httpbin",code="200"}');
        return s.length > 0 && Number(s[0]!.value[1]) >= 20 ? s : undefined;
      },
      60_000,
      'Prometheus to scrape 20 requests',
    );
    assert.equal(series[0]!.metric['source'], 'curl.curl', 'the source is the identity from the verified certificate');
    assert.equal(series[0]!.metric['namespace'], 'httpbin');
    const p50 = await eventually(async () => {
      // from the cumulative bucket counts, not rate(): the requests may all precede the first scrape
      const q = await query('histogram_quantile(0.5, sum(tessera_request_duration_seconds_bucket{destination="httpbin.httpbin"}) by (le))');
      const v = q.length > 0 ? Number(q[0]!.value[1]) : NaN;
      return Number.isFinite(v) ? v : undefined;
    }, 30_000, 'a latency quantile');
    assert.ok(p50 > 0 && p50 < 1, `median latency in seconds, got ${p50}`);
  });
});
