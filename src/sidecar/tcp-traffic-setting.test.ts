/**
 * UpstreamTrafficSetting on TCP, on the data path (real loopback sockets, compiled snapshots):
 * `rateLimit.local.tcp` — each server pod's inbound TCP listener lets `connections` a minute through
 * and closes the rest before anything is forwarded; `connectionSettings.tcp.maxConnections` — the
 * client's sidecar holds at most that many connections open to the service. Both count and log.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { Resource } from '../api/types.js';
import { startMesh, type Mesh } from './test-support/mesh.js';
import { RawConnection } from './test-support/net.js';
import { NS, type RunningSidecar } from './test-support/world.js';

let mesh: Mesh;

const limit: Resource = {
  apiVersion: 'policy.flomesh.io/v1alpha1',
  kind: 'UpstreamTrafficSetting',
  metadata: { name: 'tcpecho', namespace: NS },
  spec: { host: 'tcpecho', rateLimit: { local: { tcp: { connections: 2, unit: 'minute' } } } },
};

/** A CONNECT to the TCP echo service through the client's outbound; the connection when the app's greeting came back. */
async function connectEcho(): Promise<RawConnection | undefined> {
  const c = await RawConnection.open(mesh.client.outbound.host, mesh.client.outbound.port, mesh.tracker);
  try {
    c.write('CONNECT tcpecho.demo:9000 HTTP/1.1\r\nhost: tcpecho.demo:9000\r\n\r\n');
    const r = await c.readResponse({ head: true });
    if (r.status === 200 && /^hello from tcp-echo-[ab]\n$/.test((await c.readBytes('hello from tcp-echo-a\n'.length, 2000)).toString())) return c;
  } catch {
    // refused: closed without the greeting
  }
  c.close();
  return undefined;
}

/** One CONNECT, closed at once: true when the app's greeting came back. */
async function greeted(): Promise<boolean> {
  const c = await connectEcho();
  c?.close();
  return c !== undefined;
}

function stat(s: RunningSidecar, name: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request({ host: s.admin.host, port: s.admin.port, path: '/stats' }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(Number(new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: (\\d+)$`, 'm').exec(body)?.[1] ?? 'NaN')));
    })
      .on('error', reject)
      .end();
  });
}

describe('UpstreamTrafficSetting on TCP', () => {
  before(async () => {
    mesh = await startMesh();
  });
  after(async () => {
    await mesh?.close();
  });

  it('no setting: every connection goes through and no stat is listed', async () => {
    for (let i = 0; i < 6; i++) assert.equal(await greeted(), true);
    assert.ok(Number.isNaN(await stat(mesh.echoA, 'local_rate_limit.inbound_tcp.rate_limited')));
  });

  it('2 connections a minute per server pod: 4 of 6 get through (two pods), the rest are closed, counted and logged', async () => {
    await mesh.publish([...mesh.resources, limit]);
    const results: boolean[] = [];
    for (let i = 0; i < 6; i++) results.push(await greeted());
    assert.equal(results.filter(Boolean).length, 4, results.join(','));
    assert.deepEqual(results.slice(4), [false, false]);
    const limited = (await stat(mesh.echoA, 'local_rate_limit.inbound_tcp.rate_limited')) + (await stat(mesh.echoB, 'local_rate_limit.inbound_tcp.rate_limited'));
    assert.equal(limited, 2);
    const denied = [...mesh.echoA.access, ...mesh.echoB.access].filter((l) => l['denied'] === 'local rate limit: port 9000 2/minute');
    assert.equal(denied.length, 2);
  });

  it('maxConnections 2: a third connection while two are open is closed, counted as upstream_cx_overflow; one closes, the next gets through', async () => {
    const cap: Resource = { ...limit, metadata: { name: 'tcpecho-cap', namespace: NS }, spec: { host: 'tcpecho.demo', connectionSettings: { tcp: { maxConnections: 2 } } } };
    await mesh.publish([...mesh.resources, cap]);
    const first = await connectEcho();
    const second = await connectEcho();
    assert.ok(first && second, 'two connections under the limit');
    assert.equal(await greeted(), false, `the third is refused; client log: ${JSON.stringify(mesh.client.access.slice(-2))} ${JSON.stringify(mesh.client.lines.slice(-3))}`);
    assert.equal(await stat(mesh.client, 'cluster.demo/tcpecho|9000.upstream_cx_overflow'), 1, JSON.stringify(mesh.client.access.slice(-2)));
    assert.ok(mesh.client.access.some((l) => l['denied'] === 'upstream overflow: demo/tcpecho-cap maxConnections 2 (upstream_cx_overflow)'), JSON.stringify(mesh.client.access.slice(-3)));
    first.close();
    await new Promise((r) => setTimeout(r, 200));
    const third = await connectEcho();
    assert.ok(third, 'a slot freed by a close is reused');
    third.close();
    second.close();
  });
});
