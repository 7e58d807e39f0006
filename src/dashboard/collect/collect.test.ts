import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SidecarMetrics } from '../../sidecar/observability/metrics.js';
import type { ProxyStatus } from '../../local/api-contract.js';
import { decisionOfLine } from './decisions.js';
import { EdgeHistory } from './history.js';
import { parsePrometheus } from './prom.js';
import { certificatesOf, chainsOf, proxyViewOf } from './proxies.js';
import { resourceViewOf, statusLine } from './resources.js';
import { buildTopology, countersOf, deltaOf, percentiles, resolveCaller, type PodFacts } from './topology.js';
import { policyCounters } from './collector.js';

const PODS: PodFacts[] = [
  { namespace: 'curl', name: 'curl-1', workload: 'curl', ready: true, serviceAccount: 'curl', ip: '10.0.0.2', meshed: true },
  { namespace: 'default', name: 'todos-1', workload: 'todos', ready: true, serviceAccount: 'todos', ip: '10.0.0.3', meshed: true },
  { namespace: 'default', name: 'todos-2', workload: 'todos', ready: false, serviceAccount: 'todos', ip: '10.0.0.4', meshed: true },
];

async function metricsText(fill: (m: SidecarMetrics) => void): Promise<string> {
  const m = new SidecarMetrics({ pod: 'todos-1', namespace: 'default' });
  fill(m);
  return m.text();
}

test('the sidecar\'s own /metrics text parses into labelled samples, escapes included', async () => {
  const text = await metricsText((m) => {
    m.recordRequest('inbound', 'curl.curl', 'todos.default', 200, 0.003);
    m.recordPolicyDecision('default/deny "x"', 'DENY', 'denied');
  });
  const samples = parsePrometheus(text, (n) => n.startsWith('tessera_') && !n.startsWith('tessera_sidecar_'));
  const req = samples.find((s) => s.name === 'tessera_requests_total');
  assert.deepEqual(req, { name: 'tessera_requests_total', labels: { pod: 'todos-1', namespace: 'default', direction: 'inbound', source: 'curl.curl', destination: 'todos.default', code: '200' }, value: 1 });
  assert.equal(samples.find((s) => s.name === 'tessera_policy_decisions_total')?.labels['policy'], 'default/deny "x"');
  assert.ok(!samples.some((s) => s.name.startsWith('tessera_sidecar_')));
});

test('edges come from inbound counters: rate from the delta, success without 5xx, mTLS when the caller is a verified identity', async () => {
  const m = new SidecarMetrics({});
  for (let i = 0; i < 10; i++) m.recordRequest('inbound', 'curl.curl', 'todos.default', 200, 0.002);
  m.recordRequest('outbound', 'todos.default', 'other.default', 200, 0.002);
  const before = countersOf(parsePrometheus(await m.text()));
  for (let i = 0; i < 18; i++) m.recordRequest('inbound', 'curl.curl', 'todos.default', 200, 0.004);
  m.recordRequest('inbound', 'curl.curl', 'todos.default', 503, 0.2);
  m.recordRequest('inbound', 'curl.curl', 'todos.default', 0, 0.2);
  const after = countersOf(parsePrometheus(await m.text()));
  const topo = buildTopology({
    pods: PODS,
    proxies: [{ namespace: 'default', pod: 'todos-1', cur: after, delta: deltaOf(after, before), seconds: 2 }],
    deniedInWindow: new Map(), deniedTotal: new Map(),
  });
  assert.equal(topo.edges.length, 1, 'outbound series to a meshed namespace are not edges (the receiving side reports them)');
  const e = topo.edges[0]!;
  assert.equal(e.id, 'curl/curl->default/todos');
  assert.equal(e.rps, 10);
  assert.equal(e.successRate, 0.9);
  assert.equal(e.mtls, true);
  assert.equal(e.requests, 30);
  assert.equal(e.errors, 2);
  assert.ok(e.latencyMs && e.latencyMs.p50 > 2.5 && e.latencyMs.p50 <= 5, JSON.stringify(e.latencyMs));
  assert.ok(e.latencyMs!.p99 > 100);
  const todos = topo.nodes.find((n) => n.id === 'default/todos');
  assert.deepEqual({ ready: todos?.podsReady, total: todos?.podsTotal }, { ready: 1, total: 2 });
});

test('refusals read from the access log lower the success rate of their edge', async () => {
  const m = new SidecarMetrics({});
  const base = countersOf(parsePrometheus(await m.text()));
  for (let i = 0; i < 4; i++) m.recordRequest('inbound', 'curl.curl', 'todos.default', 200, 0.001);
  m.recordRequest('inbound', 'curl.curl', 'todos.default', 403, 0.001);
  const cur = countersOf(parsePrometheus(await m.text()));
  const id = 'curl/curl->default/todos';
  const topo = buildTopology({ pods: PODS, proxies: [{ namespace: 'default', pod: 'todos-1', cur, delta: deltaOf(cur, base), seconds: 1 }], deniedInWindow: new Map([[id, 1]]), deniedTotal: new Map([[id, 1]]) });
  assert.equal(topo.edges[0]!.successRate, 0.8);
  assert.equal(topo.edges[0]!.errors, 1);
});

test('a plaintext caller (its pod named by address map) is not mTLS; TCP refusals count as failures; an unknown caller is outside', async () => {
  const m = new SidecarMetrics({});
  const base = countersOf(parsePrometheus(await m.text()));
  m.recordConnection('inbound', '10.0.0.2', 'todos.default');
  m.recordDeniedConnection('inbound', '10.0.0.2', 'todos.default');
  m.recordRequest('inbound', 'unknown', 'todos.default', 200, 0.001);
  const cur = countersOf(parsePrometheus(await m.text()));
  const topo = buildTopology({ pods: PODS, proxies: [{ namespace: 'default', pod: 'todos-1', cur, delta: deltaOf(cur, base), seconds: 1 }], deniedInWindow: new Map(), deniedTotal: new Map() });
  const tcp = topo.edges.find((e) => e.source === 'curl/curl')!;
  assert.deepEqual({ protocol: tcp.protocol, mtls: tcp.mtls, rps: tcp.rps, successRate: tcp.successRate }, { protocol: 'tcp', mtls: false, rps: 2, successRate: 0.5 });
  const outside = topo.edges.find((e) => e.source === 'external:unknown')!;
  assert.equal(outside.mtls, false);
  assert.equal(topo.nodes.find((n) => n.id === 'external:unknown')?.kind, 'unknown');
  assert.deepEqual(resolveCaller('curl.curl-1', PODS), { id: 'curl/curl', node: { id: 'curl/curl', namespace: 'curl', workload: 'curl', kind: 'workload' }, mtls: false });
});

test('a counter that went down restarted: its whole value is new; no traffic in the window gives a null success rate', () => {
  const prev = new Map([['http\tcurl.curl\t200', 50]]);
  const cur = new Map([['http\tcurl.curl\t200', 3]]);
  assert.equal(deltaOf(cur, prev).get('http\tcurl.curl\t200'), 3);
  const quiet = buildTopology({ pods: PODS, proxies: [{ namespace: 'default', pod: 'todos-1', cur, delta: new Map(), seconds: 1 }], deniedInWindow: new Map(), deniedTotal: new Map() });
  assert.equal(quiet.edges[0]!.successRate, null);
  assert.equal(quiet.edges[0]!.rps, 0);
  assert.equal(quiet.edges[0]!.requests, 3);
});

test('percentiles interpolate inside the bucket and stop at the open top bucket', () => {
  assert.deepEqual(percentiles(new Map([[0.001, 0], [0.002, 100], [Infinity, 100]])), { p50: 1.5, p90: 1.9, p99: 1.99 });
  assert.equal(percentiles(new Map([[0.01, 0], [Infinity, 10]]))?.p99, 10);
  assert.equal(percentiles(new Map()), undefined);
});

const FROM = { namespace: 'default', pod: 'todos-1', workload: 'todos' };

test('access-log refusals become decisions of the right kind, naming policy and rule, never a token', () => {
  const authz = decisionOfLine(JSON.stringify({
    time: '2026-01-01T00:00:00.000Z', type: 'access', direction: 'inbound', source: '10.0.0.2:5000', sourceService: 'curl.curl', method: 'DELETE', authority: 'todos.default:14001',
    path: '/anything/x?access_token=***', status: 403, destination: 'todos.default', upstream: null, durationMs: 1, traceId: null, userAgent: 'curl/8',
    denied: 'authorization: matched a DENY policy; policy default/no-delete rule 1; principal cluster.local/ns/curl/sa/curl', policy: 'default/no-delete', rule: 1,
  }), FROM, 7)!;
  assert.equal(authz.kind, 'AuthorizationPolicy');
  assert.equal(authz.policy, 'default/no-delete');
  assert.equal(authz.rule, '1');
  assert.equal(authz.principal, 'cluster.local/ns/curl/sa/curl');
  assert.equal(authz.path, '/anything/x?access_token=***');
  assert.equal(authz.status, 403);
  assert.equal(authz.id, 'default/todos-1#2026-01-01T00:00:00.000Z#7');

  const jwt = decisionOfLine('{"time":"t","type":"access","direction":"inbound","status":401,"upstream":null,"denied":"authentication: token rejected by default/jwt (issuer \\"https://i\\"): JWT_EXPIRED: token has expired"}', FROM, 0)!;
  assert.deepEqual([jwt.kind, jwt.policy], ['JWT', 'default/jwt']);
  const rl = decisionOfLine('{"time":"t","type":"access","direction":"inbound","status":429,"upstream":null,"denied":"local rate limit: inbound port 14001"}', FROM, 0)!;
  assert.equal(rl.kind, 'RateLimit');
  const cb = decisionOfLine('{"time":"t","type":"access","direction":"outbound","status":503,"upstream":null,"denied":"circuit breaker open: default/todos-settings (5xx)"}', FROM, 0)!;
  assert.deepEqual([cb.kind, cb.policy, cb.direction], ['CircuitBreaker', 'default/todos-settings', 'outbound']);
  const smi = decisionOfLine('{"time":"t","type":"access","direction":"inbound","method":"GET","path":"/","status":403,"destination":"unknown","upstream":null}', FROM, 0)!;
  assert.equal(smi.kind, 'SMI');
  const tcp = decisionOfLine('{"time":"t","type":"access","protocol":"tcp","direction":"inbound","source":"10.0.0.2:4000","sourceService":"curl.curl","port":9000,"destination":"db.default","upstream":null,"denied":"authorization: default/deny-db matched a DENY policy"}', FROM, 0)!;
  assert.deepEqual([tcp.kind, tcp.protocol, tcp.policy, tcp.authority], ['AuthorizationPolicy', 'tcp', 'default/deny-db', 'db.default:9000']);
  const plugin = decisionOfLine('{"time":"t","type":"access","direction":"inbound","status":401,"upstream":null,"denied":"token-exchange: missing token"}', FROM, 0)!;
  assert.equal(plugin.kind, 'Plugin');
  const ac = decisionOfLine('{"time":"t","level":"warn","msg":"plaintext connection refused: mesh traffic must use mTLS","peer":"10.1.0.9","port":14001}', FROM, 0)!;
  assert.deepEqual([ac.kind, ac.protocol, ac.authority], ['AccessControl', 'tcp', '10.1.0.9:14001']);
});

test('lines that are not refusals are no decisions: a served request, an app\'s own 403, an info line, not JSON', () => {
  assert.equal(decisionOfLine('{"time":"t","type":"access","direction":"inbound","status":200,"upstream":"10.0.0.3:14001"}', FROM, 0), undefined);
  assert.equal(decisionOfLine('{"time":"t","type":"access","direction":"inbound","status":403,"upstream":"10.0.0.3:14001"}', FROM, 0), undefined);
  assert.equal(decisionOfLine('{"time":"t","level":"info","msg":"snapshot applied"}', FROM, 0), undefined);
  assert.equal(decisionOfLine('starting sidecar', FROM, 0), undefined);
  assert.equal(decisionOfLine('{"broken', FROM, 0), undefined);
  // a dry-run denial is reported by the sidecar but was not enforced
  assert.equal(decisionOfLine('{"time":"t","type":"access","direction":"inbound","status":200,"upstream":"x","shadow":{"decision":"denied","policy":"default/shadow"}}', FROM, 0), undefined);
});

test('sync states as istioctl names them; chains from config_dump', () => {
  const now = Date.parse('2026-01-01T00:01:00Z');
  const p = (over: Partial<ProxyStatus>): ProxyStatus => ({ namespace: 'default', pod: 'todos-1', uuid: 'u', connected: true, ...over });
  const dump = { Chains: { 'inbound-http': ['modules/inbound-tls-termination.js', 'modules/inbound-http-routing.js'], 'outbound-tcp': ['modules/outbound-tcp-load-balancing.js'] } };
  const synced = proxyViewOf(p({ sentVersion: 'v1', appliedVersion: 'v1', sentAt: '2026-01-01T00:00:00Z', ackedAt: '2026-01-01T00:00:01Z' }), { configDump: dump }, now);
  assert.equal(synced.sync, 'SYNCED');
  assert.equal(synced.lastAck, '2026-01-01T00:00:01Z');
  assert.deepEqual(synced.chains.map((c) => c.mount), ['inbound-http', 'outbound-tcp']);
  assert.equal(proxyViewOf(p({ sentVersion: 'v2', appliedVersion: 'v1', sentAt: '2026-01-01T00:00:00Z' }), {}, now).sync, 'STALE');
  const nacked = proxyViewOf(p({ sentVersion: 'v2', appliedVersion: 'v1', sentAt: '2026-01-01T00:00:00Z', nackedAt: '2026-01-01T00:00:02Z', lastError: 'version v2: bad' }), {}, now);
  assert.deepEqual([nacked.sync, nacked.lastError], ['NACKED', 'version v2: bad']);
  assert.equal(proxyViewOf(p({}), {}, now).sync, 'NOT SENT');
  assert.deepEqual(chainsOf(undefined), []);
});

test('resources: status on one line, lint warnings for a policy naming what does not exist', () => {
  assert.equal(statusLine({ conditions: [{ type: 'Ready', status: 'True' }, { type: 'Accepted', status: 'False', message: 'no such service' }] }), 'Ready=True, Accepted=False: no such service');
  assert.equal(statusLine({ currentStatus: 'committed', reason: 'successfully committed by the system' }), 'committed: successfully committed by the system');
  assert.equal(statusLine(undefined), undefined);
  const world = { namespaces: new Set(['default']), serviceAccounts: new Set(['default/default']), services: new Set<string>(), workloadLabels: new Map(), mtlsDisabled: false };
  const policy = { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'p', namespace: 'default' }, spec: { rules: [{ from: [{ source: { principals: ['cluster.local/ns/default/sa/ghost'] } }] }] } };
  const v = resourceViewOf(policy, world);
  assert.equal(v.namespace, 'default');
  assert.ok(v.warnings.some((w) => /ghost/.test(w)), JSON.stringify(v.warnings));
});

test('per-policy counters sum over sidecars; dry-run decisions are not counted', async () => {
  const a = new SidecarMetrics({ pod: 'a' });
  const b = new SidecarMetrics({ pod: 'b' });
  a.recordPolicyDecision('default/deny-admin', 'DENY', 'denied');
  b.recordPolicyDecision('default/deny-admin', 'DENY', 'denied');
  b.recordPolicyDecision('default/readers', 'ALLOW', 'allowed');
  b.recordPolicyDecision('default/shadow', 'DENY', 'shadow_denied');
  b.recordPolicyDecision('', 'REQUEST_AUTHENTICATION', 'denied');
  const counters = policyCounters([parsePrometheus(await a.text()), parsePrometheus(await b.text())]);
  assert.deepEqual(counters.find((c) => c.policy === 'default/deny-admin'), { policy: 'default/deny-admin', kind: 'AuthorizationPolicy', allow: 0, deny: 2 });
  assert.deepEqual(counters.find((c) => c.policy === 'default/readers'), { policy: 'default/readers', kind: 'AuthorizationPolicy', allow: 1, deny: 0 });
  assert.deepEqual(counters.find((c) => c.kind === 'JWT'), { policy: '(request authentication)', kind: 'JWT', allow: 0, deny: 1 });
  assert.deepEqual(counters.find((c) => c.policy === 'default/shadow'), { policy: 'default/shadow', kind: 'AuthorizationPolicy', allow: 0, deny: 0 });
});

test('edge history keeps a bounded window of points per edge', () => {
  const h = new EdgeHistory(10_000, 5);
  const edge = { id: 'a->b', source: 'a', target: 'b', protocol: 'http' as const, rps: 1, successRate: 1, mtls: true, requests: 1, errors: 0, latencyMs: { p50: 1, p90: 2, p99: 3 } };
  for (let i = 0; i < 8; i++) h.record(new Date(Date.parse('2026-01-01T00:00:00Z') + i * 1000), { nodes: [], edges: [edge] });
  assert.equal(h.get('a->b')?.points.length, 5);
  assert.equal(h.get('a->b')?.points[0]?.p99Ms, 3);
  h.record(new Date(Date.parse('2026-01-01T00:01:00Z')), { nodes: [], edges: [] });
  assert.equal(h.get('a->b'), undefined, 'an edge quiet for the whole window is forgotten');
});

test('certificates from /certs: subject, SANs, serial, expiry and the days left', async () => {
  const { execFileSync } = await import('node:child_process');
  const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'dash-cert-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'),
      '-subj', '/CN=todos.default.cluster.local', '-addext', 'subjectAltName=URI:spiffe://cluster.local/ns/default/sa/todos', '-days', '2'], { stdio: 'ignore' });
    const pem = readFileSync(join(dir, 'c.pem'), 'utf8');
    const [c] = certificatesOf({ certChain: pem, notAfter: 'ignored' }, Date.now());
    assert.equal(c?.role, 'workload identity');
    assert.equal(c?.subject, 'CN=todos.default.cluster.local');
    assert.deepEqual(c?.sans, ['URI:spiffe://cluster.local/ns/default/sa/todos']);
    assert.ok(c!.daysLeft > 1.8 && c!.daysLeft <= 2, String(c?.daysLeft));
    assert.ok(!JSON.stringify(c).includes('PRIVATE'));
    assert.deepEqual(certificatesOf({ certChain: 'not a certificate' }, Date.now()), []);
    assert.deepEqual(certificatesOf(undefined, Date.now()), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('traffic to a destination outside the mesh is read from the caller\'s outbound series, as a plaintext edge to an external node', async () => {
  const m = new SidecarMetrics({});
  m.recordRequest('outbound', 'curl.curl', 'httpbin.org:80', 200, 0.01);
  const base = countersOf(parsePrometheus(await m.text()));
  m.recordRequest('outbound', 'curl.curl', 'httpbin.org:80', 200, 0.01);
  m.recordRequest('outbound', 'curl.curl', 'httpbin.org:80', 502, 0.01);
  m.recordRequest('outbound', 'curl.curl', 'todos.default', 200, 0.01);
  const cur = countersOf(parsePrometheus(await m.text()));
  const topo = buildTopology({ pods: PODS, proxies: [{ namespace: 'curl', pod: 'curl-1', cur, delta: deltaOf(cur, base), seconds: 1 }], deniedInWindow: new Map(), deniedTotal: new Map() });
  assert.deepEqual(topo.edges.map((e) => [e.id, e.rps, e.successRate, e.mtls, e.requests]), [['curl/curl->external:httpbin.org:80', 2, 0.5, false, 3]]);
  assert.equal(topo.nodes.find((n) => n.id === 'external:httpbin.org:80')?.kind, 'external');
});
