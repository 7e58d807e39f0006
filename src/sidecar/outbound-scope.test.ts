/**
 * A scoped snapshot on the real data path (snapshot/scope.ts, docs/traffic-management.md "Outbound
 * scope"): with an Istio Sidecar listing only `echo` for the client, echo answers, and the other
 * services — HTTP by name, TCP through CONNECT, a Service outside the mesh by its FQDN — are refused
 * by the client's own sidecar with a reason naming the Sidecar, never sent out as egress.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Resource } from '../api/types.js';
import { startMesh, type Mesh } from './test-support/mesh.js';
import { RawConnection, send } from './test-support/net.js';
import { NS } from './test-support/world.js';

const SIDECAR: Resource = {
  apiVersion: 'networking.istio.io/v1',
  kind: 'Sidecar',
  metadata: { name: 'client', namespace: NS },
  spec: { workloadSelector: { labels: { app: 'client' } }, egress: [{ hosts: [`./echo.${NS}.svc.cluster.local`] }] },
};
const REASON = /in this proxy's outbound scope \(the egress hosts of Sidecar demo\/client\)/;

describe('sidecar data path with an outbound scope', () => {
  let mesh: Mesh;
  before(async () => {
    mesh = await startMesh();
    await mesh.publish([...mesh.resources, SIDECAR]);
  });
  after(async () => {
    await mesh?.close();
  });

  it('the listed service answers', async () => {
    const r = await send(mesh.client.outbound, 'GET', 'http://echo.demo/scoped');
    assert.equal(r.status, 200, r.text);
  });

  for (const url of ['http://other.demo/', 'http://other/', 'http://ext.ext.svc.cluster.local:7000/']) {
    it(`refuses ${url}, outside the scope, with the reason`, async () => {
      const r = await send(mesh.client.outbound, 'GET', url);
      assert.equal(r.status, 403, r.text);
      assert.match(String(r.headers['x-tessera-reason']), REASON);
    });
  }

  it('refuses a CONNECT to a TCP service outside the scope', async () => {
    const c = await RawConnection.open(mesh.client.outbound.host, mesh.client.outbound.port, mesh.tracker);
    try {
      c.write('CONNECT tcpecho.demo:9000 HTTP/1.1\r\nhost: tcpecho.demo:9000\r\n\r\n');
      const r = await c.readResponse({ timeoutMs: 2000 });
      assert.ok(r.status >= 400 && r.status < 600, `status ${r.status}`);
      assert.match(r.body.toString(), /tcpecho\.demo:9000/);
    } finally {
      c.close();
    }
  });

  it('the client is given only echo; the servers, not selected, keep every service', async () => {
    const dump = async (admin: { host: string; port: number }) => (await send(admin, 'GET', '/config_dump')).json<{ Outbound: { ClustersConfigs: Record<string, unknown>; Scope?: unknown } }>();
    const client = await dump(mesh.client.admin);
    assert.deepEqual(Object.keys(client.Outbound.ClustersConfigs), ['demo/echo|80']);
    assert.deepEqual(client.Outbound.Scope, { Sidecar: 'demo/client' });
    const server = await dump(mesh.echoA.admin);
    assert.equal(server.Outbound.Scope, undefined);
    assert.ok(Object.keys(server.Outbound.ClustersConfigs).length > 1);
  });

  it('with nothing in scope ("~/*"), `svc.ns` of a meshed namespace is still refused as a cluster name, not sent out as egress', async () => {
    const none = { ...SIDECAR, spec: { ...(SIDECAR.spec as object), egress: [{ hosts: ['~/*'] }] } };
    await mesh.publish([...mesh.resources, none]);
    // this world's Services have no cluster IP, so only the meshed pods tell the sidecar `demo` is a namespace
    const r = await send(mesh.client.outbound, 'GET', 'http://echo.demo/');
    assert.equal(r.status, 403, r.text);
    assert.match(String(r.headers['x-tessera-reason']), REASON);
  });
});
