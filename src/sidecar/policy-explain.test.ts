/**
 * Every denial names its cause, through a real sidecar (echo-a) running policies from the real
 * compiler: x-tessera-reason, the JSON body for `Accept: application/json` (Istio's text body
 * otherwise), the access line's policy and rule, tessera_policy_decisions_total, and istio.io/dry-run
 * policies that are logged and counted but never enforced. Raw HTTP/1.1 over loopback sockets.
 */
import assert from 'node:assert/strict';
import { get } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { Resource } from '../api/types.js';
import { meshConfig } from '../snapshot/testdata/builders.js';
import { rawExchange } from './test-support/engine-harness.js';
import { startMesh, type Mesh } from './test-support/mesh.js';
import { until } from './test-support/net.js';
import { MESH, NS, waitVersion } from './test-support/world.js';

let mesh: Mesh;

const selector = { matchLabels: { app: 'echo' } };
function ap(name: string, spec: Record<string, unknown>, annotations?: Record<string, string>): Resource {
  return { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name, namespace: NS, ...(annotations ? { annotations } : {}) }, spec: { selector, ...spec } } as Resource;
}

async function withPolicies(...policies: Resource[]): Promise<void> {
  const base = mesh.resources.filter((r) => r.kind !== 'MeshConfig');
  const mc = meshConfig({ featureFlags: { enableAccessControlPolicy: true }, sidecar: { sidecarDisabledMTLS: true } }, MESH);
  const versions = await mesh.publish([...base, mc, ...policies]);
  await waitVersion(mesh.echoA, versions.echoA);
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

async function send(method: string, path: string, extra = ''): Promise<Answer> {
  const bytes = `${method} ${path} HTTP/1.1\r\nHost: other.demo\r\n${extra}Connection: close\r\n\r\n`;
  const { text } = await rawExchange({ host: mesh.a.echoA.podIP, port: 8080 }, bytes, 2000, (s) => mesh.tracker.socket(s));
  const end = text.indexOf('\r\n\r\n');
  const head = text.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of head.slice(1)) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  const n = Number(headers['content-length'] ?? 0);
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head[0]!)?.[1]), headers, body: text.slice(end + 4, end + 4 + n) };
}

function metrics(): Promise<string> {
  return new Promise((resolve, reject) => {
    get({ host: mesh.echoA.admin.host, port: mesh.echoA.admin.port, path: '/stats/prometheus' }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

const accessFor = (path: string) => mesh.echoA.access.filter((l) => l['path'] === path && l['direction'] === 'inbound');

before(async () => {
  mesh = await startMesh();
  await withPolicies(
    ap('deny-delete', { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/public'] } }] }, { to: [{ operation: { methods: ['DELETE'] } }] }] }),
    ap('allow-public', { action: 'ALLOW', rules: [{ to: [{ operation: { methods: ['GET', 'DELETE'], paths: ['/ok*', '/shadow*'] } }] }] }),
    ap('shadow-deny', { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/shadow'] } }] }] }, { 'istio.io/dry-run': 'true' }),
  );
});
after(async () => {
  await mesh?.close();
});

describe('a DENY refusal', () => {
  it('names policy and rule in x-tessera-reason; the text body stays Istio\'s', async () => {
    const r = await send('DELETE', '/ok/1');
    assert.equal(r.status, 403);
    assert.equal(r.body, 'RBAC: access denied');
    assert.match(r.headers['x-tessera-reason'] ?? '', /^authorization: matched a DENY policy; policy demo\/deny-delete rule 1$/);
  });
  it('answers JSON to a client that asks for it', async () => {
    const r = await send('DELETE', '/ok/2', 'Accept: application/json\r\n');
    assert.equal(r.status, 403);
    assert.match(r.headers['content-type'] ?? '', /^application\/json/);
    assert.deepEqual(JSON.parse(r.body), { reason: 'authorization: matched a DENY policy', policy: 'demo/deny-delete', rule: 1, principal: null, condition: null });
  });
  it('the access line and the metric name the policy', async () => {
    await until(() => accessFor('/ok/1').length > 0, 'the access line of DELETE /ok/1');
    const line = accessFor('/ok/1')[0]!;
    assert.deepEqual([line['policy'], line['rule']], ['demo/deny-delete', 1]);
    assert.match(String(line['denied']), /demo\/deny-delete/);
    assert.match(await metrics(), /tessera_policy_decisions_total\{[^}]*policy="demo\/deny-delete",action="DENY",decision="denied"\} [1-9]/);
  });
});

describe('no ALLOW policy matched', () => {
  it('names the closest ALLOW rule and the field the request failed, never the expected values', async () => {
    const r = await send('POST', '/ok/3', 'Accept: application/json\r\n');
    assert.equal(r.status, 403);
    const body = JSON.parse(r.body) as Record<string, unknown>;
    assert.deepEqual(body, { reason: 'authorization: no ALLOW policy matched', policy: 'demo/allow-public', rule: 0, principal: null, condition: 'to[0].operation.methods' });
    assert.doesNotMatch(r.headers['x-tessera-reason'] ?? '', /GET/);
  });
});

describe('istio.io/dry-run', () => {
  it('a matching dry-run DENY does not refuse, and is logged and counted as a shadow denial', async () => {
    const r = await send('GET', '/shadow');
    assert.equal(r.status, 200, r.body);
    assert.equal(r.headers['x-tessera-reason'], undefined);
    await until(() => accessFor('/shadow').length > 0, 'the access line of GET /shadow');
    const line = accessFor('/shadow')[0]!;
    assert.equal(line['denied'], undefined);
    assert.deepEqual(line['shadow'], { decision: 'denied', policy: 'demo/shadow-deny', rule: 0 });
    assert.match(await metrics(), /tessera_policy_decisions_total\{[^}]*policy="demo\/shadow-deny",action="DENY",decision="shadow_denied"\} [1-9]/);
  });
});
