/** Per-upstream local listeners on the test mesh: announced in upstreams.json, piping into the outbound-tcp chain. */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ProxySnapshot } from '../../snapshot/types.js';
import { startMesh, type Mesh } from '../test-support/mesh.js';
import { RawConnection, until } from '../test-support/net.js';
import { UPSTREAMS_FILE, outboundTcpServices } from './upstreams.js';

describe('per-upstream local listeners', () => {
  let mesh: Mesh;
  before(async () => {
    mesh = await startMesh();
  });
  after(async () => {
    await mesh?.close();
  });

  const announced = async (dataDir: string): Promise<Record<string, string>> =>
    JSON.parse(await readFile(join(dataDir, UPSTREAMS_FILE), 'utf8')) as Record<string, string>;

  it('the client announces tcpecho.demo:9000 on its local address, at the service port', async () => {
    const map = await until(async () => (await announced(mesh.client.dataDir))['tcpecho.demo:9000'], 'upstreams.json');
    assert.equal(map, `${mesh.a.client.localIP}:9000`);
  });

  it('a connection to the listener reaches the TCP service', async () => {
    const [host, port] = (await announced(mesh.client.dataDir))['tcpecho.demo:9000']!.split(':') as [string, string];
    const c = await RawConnection.open(host, Number(port), mesh.tracker);
    try {
      assert.match((await c.readBytes('hello from tcp-echo-a\n'.length)).toString(), /^hello from tcp-echo-[ab]\n$/);
      c.write('piped');
      assert.equal((await c.readBytes(5)).toString(), 'piped');
    } finally {
      c.close();
    }
  });

  it('a pod whose own app listens on the service port gets another port', async () => {
    const map = await until(async () => (await announced(mesh.echoA.dataDir))['tcpecho.demo:9000'], 'echo-a upstreams.json');
    assert.match(map, new RegExp(`^${mesh.a.echoA.localIP.replace(/\./g, '\\.')}:\\d+$`));
    assert.notEqual(map, `${mesh.a.echoA.localIP}:9000`);
  });

  it('only TCP services with a cluster are listed', () => {
    const s = {
      Inbound: { TrafficMatches: {} },
      Outbound: {
        TrafficMatches: {
          '80': [{ Port: 80, Protocol: 'http', HttpServiceRouteRules: {} }],
          '9000': [{ Port: 9000, Protocol: 'tcp', TcpServiceRouteRules: { 'b.ns': { TargetClusters: { 'ns/b|9000': 100 } }, 'a.ns': { TargetClusters: {} } } }],
        },
      },
    } as unknown as ProxySnapshot;
    assert.deepEqual([...outboundTcpServices(s).keys()], ['b.ns:9000']);
  });
});
