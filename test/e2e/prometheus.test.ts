/**
 * Sidecar metrics as a real Prometheus sees them: Prometheus scrapes httpbin's sidecar admin
 * endpoint while curl's requests flow through the mesh; PromQL then finds the request counter by
 * source and destination service and a latency quantile from the histogram.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deployDemo } from '../support/deploy.js';
import { eventually, podOf, startMesh, type TestMesh } from '../support/mesh.js';

const hasPrometheus = spawnSync('sh', ['-c', 'command -v prometheus']).status === 0;

describe('metrics scraped by a real Prometheus', { skip: hasPrometheus ? false : 'prometheus is not installed (.ci/run installs it)' }, () => {
  let mesh: TestMesh;
  let prom: ChildProcess | undefined;
  let dir = '';
  const promAddress = `127.0.0.1:${20000 + (process.pid % 20000)}`;

  before(async () => {
    // Prometheus runs on this machine and scrapes the sidecar's admin port at the pod's address, which
    // only loopback mode routes to from the host (in namespace mode it would run as a pod of the mesh).
    mesh = await startMesh('fsm', ['--pod-network=loopback']);
    await deployDemo(mesh);
    const httpbinIP = (await podOf(mesh, 'httpbin', 'httpbin')).ip;
    dir = mkdtempSync(join(tmpdir(), 'tessera-prom-'));
    writeFileSync(
      join(dir, 'prometheus.yml'),
      `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: tessera-sidecar\n    metrics_path: /stats/prometheus\n    static_configs:\n      - targets: ['${httpbinIP}:15000']\n`,
    );
    prom = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=${promAddress}`], {
      stdio: 'ignore',
    });
  });

  after(async () => {
    if (prom && prom.exitCode === null) prom.kill('SIGTERM');
    await mesh?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const query = async (q: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> => {
    const res = await fetch(`http://${promAddress}/api/v1/query?query=${encodeURIComponent(q)}`, { signal: AbortSignal.timeout(3000) });
    const body = (await res.json()) as { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
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
