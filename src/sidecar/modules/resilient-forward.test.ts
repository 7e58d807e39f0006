/**
 * The outbound load balancer with a RetryPolicy, request timeouts and outlier detection, over real
 * sockets: two HTTP servers on loopback stand for a cluster's endpoints, the real upstream client
 * forwards, and the snapshot is the shape the control plane compiles.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { BufferBody, EMPTY_BODY } from '../http/body.js';
import { PushBody } from '../http/push-body.js';
import type { Body } from '../http/types.js';
import { RequestContext } from '../chain/context.js';
import { SidecarLog } from '../observability/log.js';
import { SidecarMetrics } from '../observability/metrics.js';
import { buildTables } from '../routing/tables.js';
import { UpstreamClient } from '../upstream/client.js';
import { Pool } from '../engine/client.js';
import type { ClusterConfig, ProxySnapshot } from '../../snapshot/types.js';
import type { ModuleEnv } from './env.js';
import { httpLoadBalancing } from './http-load-balancing.js';
import { retriesOf } from './resilient-forward.js';

type Behaviour = 'ok' | '503' | 'hang';

interface Backend {
  server: Server;
  endpoint: string;
  behaviour: Behaviour;
  hits: number;
  bodies: string[];
}

async function backend(behaviour: Behaviour): Promise<Backend> {
  const b: Backend = { server: createServer(), endpoint: '', behaviour, hits: 0, bodies: [] };
  b.server.on('request', (q, s) => {
    let body = '';
    q.on('data', (c: Buffer) => (body += c.toString()));
    q.on('end', () => {
      b.hits++;
      b.bodies.push(body);
      if (b.behaviour === 'hang') setTimeout(() => s.end('late\n'), 1500);
      else {
        s.writeHead(b.behaviour === 'ok' ? 200 : 503);
        s.end(b.behaviour);
      }
    });
  });
  await new Promise<void>((r) => b.server.listen(0, '127.0.0.1', r));
  b.endpoint = `127.0.0.1:${(b.server.address() as AddressInfo).port}`;
  return b;
}

const CLUSTER = 'app/svc|80';

function envFor(backends: Backend[], cluster: Partial<ClusterConfig>, timeouts?: { Prefix: string; Timeout: number }[]): ModuleEnv {
  const Endpoints = Object.fromEntries(backends.map((b) => [b.endpoint, { Weight: 100 }]));
  const snapshot = {
    Spec: { ServiceIdentity: 'client.app' },
    Pod: { Namespace: 'app' },
    Inbound: { TrafficMatches: {}, ClustersConfigs: {} },
    Outbound: {
      TrafficMatches: {
        '80': [
          {
            Port: 80,
            Protocol: 'http',
            HttpHostPort2Service: { svc: { RuleName: 'svc.app' } },
            HttpServiceRouteRules: { 'svc.app': { RouteRules: [{ Path: '.*', Type: 'Regex', TargetClusters: { [CLUSTER]: 100 } }], ...(timeouts ? { RequestTimeouts: timeouts } : {}) } },
          },
        ],
      },
      ClustersConfigs: { [CLUSTER]: { Endpoints, ...cluster } },
    },
    Dns: {},
    ServiceIPs: {},
    AllowedEndpoints: {},
  } as unknown as ProxySnapshot;
  return {
    snapshot,
    tables: buildTables(snapshot),
    upstream: new UpstreamClient({ timeoutMs: 5000 }),
    log: new SidecarLog('error'),
    metrics: new SidecarMetrics({}),
    namespaces: new Set(['app']),
    mtls: false,
  } as unknown as ModuleEnv;
}

function request(env: ModuleEnv, body: Body = EMPTY_BODY, method = 'GET', path = '/x'): RequestContext {
  const ctx = new RequestContext(
    'outbound',
    'outbound-http',
    { method, path, authority: 'svc', headers: body.length ? { 'content-length': String(body.length) } : {}, httpVersion: '1.1', body },
    { address: '127.0.0.1', port: 1, identity: undefined },
    { address: '127.0.0.1', port: 80 },
    false,
  );
  ctx.cluster = env.tables.clusters.get(CLUSTER)!.routed;
  ctx.service = { name: 'svc.app', namespace: 'app', port: 80, RouteRules: [] };
  return ctx;
}

async function send(env: ModuleEnv, ctx: RequestContext): Promise<{ status: number; body: string }> {
  await httpLoadBalancing(env)(ctx, async () => {});
  assert.ok(ctx.response, 'answered');
  return { status: ctx.response.status, body: (await ctx.response.body.bytes()).toString() };
}

const stat = (env: ModuleEnv, name: string): number => {
  const m = new RegExp(`^cluster\\.${CLUSTER.replace(/[|/]/g, '\\$&')}\\.${name.replace(/\./g, '\\.')}: (\\d+)$`, 'm').exec(env.metrics.statsText());
  return m ? Number(m[1]) : NaN;
};

const RETRY = { RetryOn: '5xx', NumRetries: 2, RetryBackoffBaseInterval: 0.001 };

describe('resilient forwarding over real sockets', () => {
  let bad: Backend;
  let good: Backend;
  let slow: Backend;
  const envs: ModuleEnv[] = [];
  const track = (env: ModuleEnv): ModuleEnv => (envs.push(env), env);
  before(async () => {
    bad = await backend('503');
    good = await backend('ok');
    slow = await backend('hang');
  });
  after(async () => {
    for (const e of envs) await e.upstream.close();
    for (const b of [bad, good, slow]) b.server.closeAllConnections(), b.server.close();
  });
  const reset = () => [bad, good, slow].forEach((b) => ((b.hits = 0), (b.bodies = [])));

  it('a retry goes to the endpoint not tried yet, replays a small body whole, and counts', async () => {
    reset();
    const env = track(envFor([bad, good], { RetryPolicy: RETRY }));
    for (let i = 0; i < 4; i++) {
      const ctx = request(env, new BufferBody(Buffer.from(`n=${i}`)), 'POST');
      const r = await send(env, ctx);
      assert.equal(r.status, 200);
      assert.ok((retriesOf(ctx)?.retries ?? 0) <= 1);
      if (retriesOf(ctx)) assert.equal(retriesOf(ctx)?.reason, '503');
    }
    assert.equal(good.hits, 4, 'every request ends on the healthy endpoint');
    assert.deepEqual(good.bodies.sort(), ['n=0', 'n=1', 'n=2', 'n=3']);
    assert.equal(stat(env, 'upstream_rq_retry'), bad.hits, 'one retry per attempt on the failing endpoint');
    assert.equal(stat(env, 'upstream_rq_retry_success'), bad.hits);
    assert.equal(stat(env, 'upstream_rq_retry_overflow'), 0);
  });

  it('a body over 64 KiB streams once and is never replayed', async () => {
    reset();
    const env = track(envFor([bad], { RetryPolicy: RETRY }));
    const big = Buffer.alloc(100 * 1024, 0x61);
    const body = new PushBody(big.length, { pause: () => {}, resume: () => {} });
    const ctx = request(env, body, 'POST');
    const sent = send(env, ctx);
    body.push(big);
    body.end();
    const r = await sent;
    assert.equal(r.status, 503);
    assert.equal(bad.hits, 1);
    assert.equal(bad.bodies[0]!.length, big.length, 'streamed whole, once');
    assert.equal(stat(env, 'retry_or_shadow_abandoned'), 1);
    assert.equal(stat(env, 'upstream_rq_retry'), 0);
  });

  it('retries stop at numRetries with the last answer, counting the limit', async () => {
    reset();
    const env = track(envFor([bad], { RetryPolicy: RETRY }));
    const r = await send(env, request(env));
    assert.equal(r.status, 503);
    assert.equal(bad.hits, 3);
    assert.equal(stat(env, 'upstream_rq_retry_limit_exceeded'), 1);
    assert.equal(stat(env, 'upstream_rq_retry_success'), 0);
  });

  it('a per-try timeout moves on to another endpoint', async () => {
    reset();
    const env = track(envFor([slow, good], { RetryPolicy: { ...RETRY, PerTryTimeout: 0.2 } }));
    const ctx = request(env);
    // start on the slow endpoint whatever round robin says
    env.tables.clusters.get(CLUSTER)!.next = env.tables.clusters.get(CLUSTER)!.ring.indexOf(slow.endpoint);
    const r = await send(env, ctx);
    assert.deepEqual(r, { status: 200, body: 'ok' }, 'the healthy endpoint answered, not the slow one');
    assert.equal(stat(env, 'upstream_rq_per_try_timeout'), 1);
  });

  it("the request timeout spans attempts and answers 504", async () => {
    reset();
    const env = track(envFor([slow], { RetryPolicy: RETRY }, [{ Prefix: '/x', Timeout: 0.3 }, { Prefix: '/', Timeout: 0 }]));
    const r = await send(env, request(env, EMPTY_BODY, 'GET', '/x/1'));
    assert.equal(r.status, 504, 'the slow endpoint would have answered 200');
    assert.equal(stat(env, 'upstream_rq_timeout'), 1);
    assert.equal(slow.hits, 1, 'no retry after the request timeout');
  });

  it('maxRetries caps the retries in flight to the cluster: past it a request is answered as it is, counting the overflow', async () => {
    reset();
    const env = track(envFor([bad, good], { RetryPolicy: RETRY, ConnectionSettings: { http: { MaxRetries: 0 } } }));
    env.tables.clusters.get(CLUSTER)!.next = env.tables.clusters.get(CLUSTER)!.ring.indexOf(bad.endpoint);
    const r = await send(env, request(env));
    assert.equal(r.status, 503, 'no retry budget: the first answer stands');
    assert.equal(good.hits, 0);
    assert.equal(stat(env, 'upstream_rq_retry_overflow'), 1);
    assert.equal(stat(env, 'upstream_rq_retry'), 0);
    // with a budget of one, concurrent failing requests retry one at a time at most
    const env2 = track(envFor([bad], { RetryPolicy: { ...RETRY, NumRetries: 1 }, ConnectionSettings: { http: { MaxRetries: 1 } } }));
    const rs = await Promise.all([1, 2, 3].map(() => send(env2, request(env2))));
    assert.deepEqual(rs.map((x) => x.status), [503, 503, 503]);
    assert.ok(stat(env2, 'upstream_rq_retry') >= 1 && stat(env2, 'upstream_rq_retry') + stat(env2, 'upstream_rq_retry_overflow') === 3, env2.metrics.statsText());
  });

  it('maxRequestsPerConnection closes a connection after that many requests; connectTimeout bounds the connect', async () => {
    reset();
    const sockets = new Set<unknown>();
    const onConnection = (s: unknown): void => void sockets.add(s);
    good.server.on('connection', onConnection);
    try {
      const env = track(envFor([good], { ConnectionSettings: { http: { MaxRequestsPerConnection: 2 } } }));
      for (let i = 0; i < 6; i++) assert.equal((await send(env, request(env))).status, 200);
      assert.equal(sockets.size, 3, 'six sequential requests, two per connection');
      sockets.clear();
      const keep = track(envFor([good], {}));
      for (let i = 0; i < 6; i++) assert.equal((await send(keep, request(keep))).status, 200);
      assert.equal(sockets.size, 1, 'without the setting one kept-alive connection carries them all');
    } finally {
      good.server.off('connection', onConnection);
    }
    // a TLS upstream that never answers the handshake: the connect timeout, not the 5 s request timeout, ends it
    const silent = createNetServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const pool = new Pool({ host: '127.0.0.1', port: (silent.address() as AddressInfo).port, timeoutMs: 5000, idleMs: 1000, maxIdle: 1, tls: () => ({ rejectUnauthorized: false }) });
      const started = Date.now();
      await assert.rejects(pool.request({ method: 'GET', path: '/', authority: 'x', headers: {}, httpVersion: '1.1' }, null, { connectTimeoutMs: 150 }), /timed out/);
      assert.ok(Date.now() - started < 2000, `${Date.now() - started} ms`);
      pool.close();
    } finally {
      silent.close();
    }
  });

  it('outlier detection ejects the failing endpoint, and the load balancer then skips it', async () => {
    reset();
    const outlier = { Consecutive5xx: 2, ConsecutiveGatewayFailure: 5, BaseEjectionTime: 30, MaxEjectionTime: 300, MaxEjectionPercent: 50 };
    const env = track(envFor([bad, good], { OutlierDetection: outlier }));
    const statuses: number[] = [];
    const lb = httpLoadBalancing(env);
    for (let i = 0; i < 12; i++) {
      const ctx = request(env);
      await lb(ctx, async () => {});
      statuses.push(ctx.response!.status);
      await ctx.response!.body.bytes();
    }
    assert.equal(bad.hits, 2, 'ejected after two 503s in a row');
    assert.equal(statuses.filter((s) => s === 503).length, 2);
    assert.equal(stat(env, 'outlier_detection.ejections_enforced_total'), 1);
    assert.equal(stat(env, 'outlier_detection.ejections_active'), 1);
  });
});
