import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../../api/types.js';
import type { LogsQuery, MeshStatus } from '../../local/api-contract.js';
import { SidecarMetrics } from '../../sidecar/observability/metrics.js';
import type { Decision } from '../model.js';
import { Collector, type MeshReader } from './collector.js';

const pod = (ns: string, name: string, workload: string, ip: string): Pod => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name, namespace: ns, labels: { app: workload, 'fsm-proxy-uuid': `${name}-uuid` }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: workload, uid: 'u', controller: true }] },
  spec: { serviceAccountName: workload, containers: [{ name: workload, image: 'x' }] },
  status: { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: 'True' }] },
} as unknown as Pod);

const STATUS: MeshStatus = {
  meshName: 'fsm', stateDir: '/tmp/x', apiUrl: 'https://127.0.0.1:1', pid: 1, controlPlane: { ready: true },
  proxies: [
    { namespace: 'default', pod: 'todos-1', uuid: 'a', connected: true, sentVersion: 'v1', appliedVersion: 'v1' },
    { namespace: 'default', pod: 'stuck-1', uuid: 'b', connected: true, sentVersion: 'v1', appliedVersion: 'v1' },
  ],
  workloads: [],
};

/**
 * The mesh as the collector reads it, without a mesh: todos-1 answers with real sidecar metrics,
 * stuck-1 never answers (a SIGSTOPped sidecar), and todos-1's log stream yields what the test pushes.
 */
function stubMesh(metrics: SidecarMetrics, opts: { stuck: boolean }) {
  // opts is read at each call: a test flips `stuck` to stop the sidecar
  const calls = { stuck: 0 };
  const logLines: string[] = [];
  let wake: (() => void) | undefined;
  const api: MeshReader = {
    status: async () => STATUS,
    list: async (q) => (q.kind === 'Pod' ? [pod('curl', 'curl-1', 'curl', '10.0.0.2'), pod('default', 'todos-1', 'todos', '10.0.0.3'), pod('default', 'stuck-1', 'stuck', '10.0.0.4')] : []),
    proxyGet: async (_ns, name, path) => {
      if (name === 'stuck-1') {
        calls.stuck++;
        if (opts.stuck) return new Promise(() => undefined);
      }
      if (path === 'metrics') return { status: 200, contentType: 'text/plain', body: await metrics.text() };
      if (path === 'config_dump') return { status: 200, contentType: 'application/json', body: JSON.stringify({ Chains: { 'inbound-http': ['modules/inbound-http-routing.js'] } }) };
      return { status: 404, contentType: 'text/plain', body: 'no workload certificate yet\n' };
    },
    streamLogs: async (_ns, name, q: LogsQuery) => {
      assert.equal(q.container, 'sidecar');
      assert.equal(q.follow, true);
      if (name !== 'todos-1') return (async function* () {})();
      return (async function* () {
        for (let i = 0; i < 100; i++) {
          while (logLines.length === 0) await new Promise<void>((r) => (wake = r));
          yield new TextEncoder().encode(logLines.shift()!);
        }
      })();
    },
  };
  return { api, calls, log: (text: string) => (logLines.push(text), wake?.()) };
}

test('a sidecar that stops answering costs one deadline per round, is not called again while its call is outstanding, and keeps its last data', async () => {
  const metrics = new SidecarMetrics({});
  metrics.recordRequest('inbound', 'curl.curl', 'todos.default', 200, 0.001);
  const behaviour = { stuck: false };
  const mesh = stubMesh(metrics, behaviour);
  const c = new Collector(mesh.api, { intervalMs: 1000, proxyTimeoutMs: 100 });
  try {
    const first = await c.round();
    assert.deepEqual(first.problems, []);
    const seenAt = first.proxies.find((p) => p.pod === 'stuck-1')?.adminSeenAt;
    assert.ok(seenAt);
    behaviour.stuck = true;
    const callsBefore = mesh.calls.stuck;
    const second = await c.round();
    assert.ok(second.problems.some((p) => p.startsWith('sidecar default/stuck-1: its admin server (metrics) did not answer within 100 ms')), second.problems.join('\n'));
    const stuck = second.proxies.find((p) => p.pod === 'stuck-1')!;
    assert.match(stuck.adminError ?? '', /did not answer/);
    assert.equal(stuck.adminSeenAt, seenAt, 'its data is as of its last answer');
    assert.deepEqual(stuck.chains, [{ mount: 'inbound-http', plugins: ['modules/inbound-http-routing.js'] }]);
    assert.equal(stuck.sync, 'SYNCED', 'the control plane\'s view is not the admin server\'s');
    assert.equal(second.topology.edges.find((e) => e.id === 'curl/curl->default/stuck')?.requests, 1, 'its last counters still draw its edge');
    for (let i = 0; i < 3; i++) metrics.recordRequest('inbound', 'curl.curl', 'todos.default', 200, 0.001);
    const third = await c.round();
    assert.equal(mesh.calls.stuck, callsBefore + 1, 'no second call piled on the outstanding one');
    assert.ok(third.problems.some((p) => p.includes('still waiting')));
    const edge = third.topology.edges.find((e) => e.id === 'curl/curl->default/todos');
    assert.ok(edge && edge.rps > 0 && edge.requests === 4, JSON.stringify(third.topology.edges));
  } finally {
    c.stop();
  }
});

test('a refusal in a sidecar\'s log is pushed at once, kept in the state, and counted against its edge', async () => {
  const metrics = new SidecarMetrics({});
  const mesh = stubMesh(metrics, { stuck: false });
  const c = new Collector(mesh.api, { intervalMs: 1000, proxyTimeoutMs: 100 });
  try {
    await c.round();
    const pushed = new Promise<Decision>((resolve) => c.onDecision(resolve));
    const time = new Date(Date.now() + 1000).toISOString();
    // split across chunks, with a served request before it: only the refusal is a decision
    const served = `{"time":"${time}","type":"access","direction":"inbound","sourceService":"curl.curl","status":200,"upstream":"10.0.0.3:14001"}\n`;
    const refused = `{"time":"${time}","type":"access","direction":"inbound","sourceService":"curl.curl","method":"GET","path":"/admin","status":403,"upstream":null,"denied":"authorization: matched a DENY policy; policy default/deny-admin rule 0","policy":"default/deny-admin","rule":0}\n`;
    mesh.log(served + refused.slice(0, 40));
    mesh.log(refused.slice(40));
    const d = await pushed;
    assert.deepEqual([d.kind, d.policy, d.rule, d.workload, d.pod], ['AuthorizationPolicy', 'default/deny-admin', '0', 'todos', 'todos-1']);
    assert.equal(c.state.decisions.recent[0]?.id, d.id, 'in the state before the next round');
    metrics.recordRequest('inbound', 'curl.curl', 'todos.default', 403, 0.001);
    const s = await c.round();
    const edge = s.topology.edges.find((e) => e.id === 'curl/curl->default/todos');
    assert.equal(edge?.successRate, 0);
    assert.equal(edge?.errors, 1);
  } finally {
    c.stop();
  }
});

test('what the user\'s credentials may not list is a problem line; with part of the lint world unreadable no warnings are guessed', async () => {
  const policy = { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'p', namespace: 'default' }, spec: { rules: [{ from: [{ source: { principals: ['cluster.local/ns/default/sa/ghost'] } }] }] } };
  const base = stubMesh(new SidecarMetrics({}), { stuck: false }).api;
  const api: MeshReader = {
    ...base,
    list: async (q) => {
      if (q.kind === 'Namespace') throw new Error('namespaces is forbidden: User "alice" cannot list resource "namespaces" at the cluster scope');
      if (q.kind === 'AuthorizationPolicy') return [policy];
      return base.list(q);
    },
  };
  const c = new Collector(api, { intervalMs: 1000, proxyTimeoutMs: 100 });
  try {
    const s = await c.round();
    assert.ok(s.problems.includes('Namespace: namespaces is forbidden: User "alice" cannot list resource "namespaces" at the cluster scope'), s.problems.join('\n'));
    assert.ok(s.problems.some((p) => p.startsWith('validation warnings are not shown')));
    assert.deepEqual(s.resources.map((r) => [r.kind, r.name, r.warnings]), [['AuthorizationPolicy', 'p', []]]);
  } finally {
    c.stop();
  }
});
