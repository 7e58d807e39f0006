/** Envoy-style stats: the names `proxy get stats` prints and their Prometheus form. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SidecarMetrics } from './metrics.js';

describe('Envoy-style stats', () => {
  it('prints cluster and listener-level counters by Envoy name, sorted, filtered', () => {
    const m = new SidecarMetrics({ pod: 'p', namespace: 'n' });
    m.declareStat('upstream_rq_retry', 'httpbin.httpbin');
    m.countStat('upstream_rq_retry', 'httpbin.httpbin');
    m.countStat('upstream_rq_retry', 'httpbin.httpbin', 2);
    m.countStat('http_local_rate_limiter.http_local_rate_limit.rate_limited');
    m.declareStat('upstream_rq_retry_success', 'httpbin.httpbin');
    assert.equal(
      m.statsText(),
      'cluster.httpbin.httpbin.upstream_rq_retry: 3\ncluster.httpbin.httpbin.upstream_rq_retry_success: 0\nhttp_local_rate_limiter.http_local_rate_limit.rate_limited: 1\n',
    );
    assert.equal(m.statsText(/rate_limit/), 'http_local_rate_limiter.http_local_rate_limit.rate_limited: 1\n');
  });

  it('exports them to Prometheus under Envoy metric names', async () => {
    const m = new SidecarMetrics({ pod: 'p', namespace: 'n' });
    m.countStat('upstream_rq_retry', 'httpbin.httpbin');
    m.countStat('http_local_rate_limiter.http_local_rate_limit.rate_limited', undefined, 4);
    const text = await m.text();
    assert.match(text, /^envoy_cluster_upstream_rq_retry\{pod="p",namespace="n",envoy_cluster_name="httpbin.httpbin"\} 1$/m);
    assert.match(text, /^envoy_http_local_rate_limiter_http_local_rate_limit_rate_limited\{pod="p",namespace="n"\} 4$/m);
    assert.match(text, /^# TYPE envoy_cluster_upstream_rq_retry counter$/m);
  });
});
