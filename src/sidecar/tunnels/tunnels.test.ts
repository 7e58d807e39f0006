/**
 * CONNECT on a real sidecar's outbound proxy (docs/security.md "Tunnels"): refused unless MeshConfig
 * allows the destination, and once allowed no way past the outbound chain — the client pod's
 * plugins (tagger adds headers, boomer fails /boom with 500) answer a request inside a tunnel as
 * they answer it in the open.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { MeshConfigSpec, Resource } from '../../api/types.js';
import { meshConfig } from '../../snapshot/testdata/builders.js';
import type { EchoReply } from '../test-support/apps.js';
import { startMesh, type Mesh } from '../test-support/mesh.js';
import { RawConnection, send, until, type RawResponse } from '../test-support/net.js';

let mesh: Mesh;

function withConnectAllowList(resources: Resource[], list: string[]): Resource[] {
  return resources.map((r) => {
    if (r.kind !== 'MeshConfig') return r;
    const spec = r.spec as MeshConfigSpec;
    return meshConfig({ ...spec, traffic: { ...(spec.traffic ?? {}), outboundConnectAllowList: list } });
  });
}

/** Opens a CONNECT tunnel through the client's proxy; its answer, and the connection to go on with. */
async function connectTo(authority: string, after = ''): Promise<{ c: RawConnection; answer: RawResponse }> {
  const c = await RawConnection.open(mesh.client.outbound.host, mesh.client.outbound.port, mesh.tracker);
  c.write(`CONNECT ${authority} HTTP/1.1\r\nhost: ${authority}\r\n\r\n${after}`);
  const answer = await c.readHead();
  return { c, answer };
}

/** One request inside a fresh tunnel to `authority`; the response. */
async function viaTunnel(authority: string, request: string): Promise<RawResponse> {
  const { c, answer } = await connectTo(authority);
  try {
    assert.equal(answer.status, 200, `CONNECT ${authority}: ${answer.status}`);
    c.write(request);
    return await c.readResponse();
  } finally {
    c.close();
  }
}

const get = (path: string, host: string, extra = ''): string => `GET ${path} HTTP/1.1\r\nhost: ${host}\r\n${extra}\r\n`;

describe('CONNECT tunnels on the outbound proxy', () => {
  before(async () => {
    mesh = await startMesh({ plugins: true });
  });
  after(async () => {
    await mesh?.close();
  });

  describe('with no outboundConnectAllowList', () => {
    it('refuses CONNECT to a mesh HTTP service with 403 naming the rule, logs the refusal, and nothing reaches the app', async () => {
      const seen = mesh.apps.echoA.seen.length + mesh.apps.echoB.seen.length;
      const { c, answer } = await connectTo('echo.demo:80', get('/smuggled', 'echo.demo'));
      try {
        assert.equal(answer.status, 403);
        assert.match(answer.headers['x-tessera-reason'] ?? '', /CONNECT to echo\.demo:80 refused: .*spec\.traffic\.outboundConnectAllowList/);
        await until(() => c.isClosed, 'the refused connection to close');
      } finally {
        c.close();
      }
      const line = await until(() => mesh.client.access.find((l) => l['method'] === 'CONNECT' && l['target'] === 'echo.demo:80'), 'the refusal access line');
      assert.equal(line['status'], 403);
      assert.match(String(line['refused']), /outboundConnectAllowList/);
      assert.equal(line['destination'], 'echo.demo');
      assert.equal(mesh.apps.echoA.seen.length + mesh.apps.echoB.seen.length, seen);
    });

    it('refuses CONNECT to a destination outside the mesh too, egress on or not', async () => {
      const { c, answer } = await connectTo('ext.ext:7000');
      c.close();
      assert.equal(answer.status, 403);
    });
  });

  describe('with echo.demo:80, ext.ext:7000 and a greeting TCP app allowed', () => {
    before(async () => {
      // and a TCP echo app by its address (it greets first, as SMTP or MySQL servers do)
      await mesh.publish(withConnectAllowList(mesh.resources, ['echo.demo:80', 'ext.ext:7000', `${mesh.a.echoA.localIP}:9000`]));
    });

    it('answers the same request the same way in the open and inside a tunnel: the outbound plugins run on both', async () => {
      const open = await send(mesh.client.outbound, 'GET', 'http://echo.demo/boom');
      const tunnelled = await viaTunnel('echo.demo:80', get('/boom', 'echo.demo'));
      assert.equal(open.status, 500, open.text);
      assert.equal(tunnelled.status, open.status, tunnelled.body.toString());

      const plain = (await send(mesh.client.outbound, 'GET', 'http://echo.demo/tagged')).json<EchoReply>();
      const inside = JSON.parse((await viaTunnel('echo.demo:80', get('/tagged-in-tunnel', 'echo.demo'))).body.toString()) as EchoReply;
      for (const r of [plain, inside]) {
        assert.equal(r.headers['x-tagged'], 'yes');
        assert.equal(r.headers['x-plugin-config'], 'config-for-echo', 'routed to Service echo, its PluginConfig applied');
      }
      // and logged as the request it is
      const line = await until(() => mesh.client.access.find((l) => l['path'] === '/tagged-in-tunnel'), 'the access line of the tunnelled request');
      assert.equal(line['status'], 200);
      assert.equal(line['authority'], 'echo.demo');
      assert.equal(line['destination'], 'echo.demo');
    });

    it('a request without Host goes to the tunnel destination; keep-alive serves several', async () => {
      const { c, answer } = await connectTo('echo.demo:80');
      try {
        assert.equal(answer.status, 200);
        c.write('GET /one HTTP/1.0\r\nconnection: keep-alive\r\n\r\n');
        const one = await c.readResponse();
        assert.equal(one.status, 200, one.body.toString());
        assert.equal((JSON.parse(one.body.toString()) as EchoReply).headers['x-tagged'], 'yes');
        c.write(get('/two', 'echo.demo:80'));
        const two = await c.readResponse();
        assert.equal((JSON.parse(two.body.toString()) as EchoReply).url, '/two');
      } finally {
        c.close();
      }
    });

    it('a request for another host inside the tunnel is refused with 421 and goes nowhere', async () => {
      const seen = mesh.apps.echoA.seen.length;
      const r = await viaTunnel('echo.demo:80', get('/elsewhere', 'other.demo'));
      assert.equal(r.status, 421);
      const abs = await viaTunnel('echo.demo:80', get('http://other.demo/elsewhere', 'echo.demo'));
      assert.equal(abs.status, 421);
      assert.equal(mesh.apps.echoA.seen.length, seen);
    });

    it('a CONNECT inside a tunnel is refused with 403', async () => {
      const r = await viaTunnel('echo.demo:80', 'CONNECT ext.ext:7000 HTTP/1.1\r\nhost: ext.ext:7000\r\n\r\n');
      assert.equal(r.status, 403);
    });

    it('a mesh HTTP service is served as HTTP whatever the first bytes: a TLS hello gets 400, not a raw pipe', async () => {
      const { c, answer } = await connectTo('echo.demo:80');
      try {
        assert.equal(answer.status, 200);
        c.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00]));
        const r = await c.readResponse();
        assert.equal(r.status, 400);
      } finally {
        c.close();
      }
    });

    it('a tunnel outside the mesh carrying HTTP runs the HTTP chain; carrying anything else, the TCP chain', async () => {
      const http = await viaTunnel('ext.ext:7000', get('/ext-in-tunnel', 'ext.ext:7000'));
      assert.equal(http.status, 200, http.body.toString());
      assert.equal((JSON.parse(http.body.toString()) as EchoReply).headers['x-tagged'], 'yes');
      assert.ok(mesh.client.access.some((l) => l['path'] === '/ext-in-tunnel'));

      // bytes that are not HTTP are relayed as they are (the ext app, an HTTP server, answers 400 to them)
      const { c, answer } = await connectTo('ext.ext:7000');
      try {
        assert.equal(answer.status, 200);
        c.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00, 0x0d, 0x0a, 0x0d, 0x0a]));
        const r = await c.readHead();
        assert.equal(r.status, 400, 'the upstream itself refused the bytes');
      } finally {
        c.close();
      }
      const line = await until(() => mesh.client.access.find((l) => l['protocol'] === 'tcp' && l['target'] === 'ext.ext:7000'), 'the TCP access line');
      assert.equal(typeof line['bytesFromClient'], 'number');
    });

    it('an HTTP/2 preface inside a tunnel is refused, not relayed: no h2c past the chain', async () => {
      for (const authority of ['echo.demo:80', 'ext.ext:7000']) {
        const seen = mesh.apps.ext.seen.length + mesh.apps.echoA.seen.length + mesh.apps.echoB.seen.length;
        const r = await viaTunnel(authority, 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
        assert.ok(r.status === 400 || r.status === 505, `${authority}: ${r.status}`);
        assert.equal(mesh.apps.ext.seen.length + mesh.apps.echoA.seen.length + mesh.apps.echoB.seen.length, seen);
      }
    });

    it('a client silent until the server spoke is relayed as TCP: a command line passes, an HTTP request is refused before it reaches anything', async () => {
      const tcp = `${mesh.a.echoA.localIP}:9000`;
      const { c, answer } = await connectTo(tcp);
      try {
        assert.equal(answer.status, 200);
        assert.match((await c.readBytes('hello from tcp-echo-a\n'.length, 5000)).toString(), /^hello from tcp-echo-a\n$/, 'the greeting, after the wait for the client');
        c.write('EHLO client.example\r\n');
        assert.equal((await c.readBytes(21)).toString(), 'EHLO client.example\r\n');
      } finally {
        c.close();
      }

      const seen = mesh.apps.ext.seen.length;
      const silent = await connectTo('ext.ext:7000');
      try {
        assert.equal(silent.answer.status, 200);
        await new Promise((r) => setTimeout(r, 1300));
        silent.c.write(get('/late-http', 'ext.ext:7000', 'x-user-id: mallory\r\n'));
        await until(() => silent.c.isClosed, 'the tunnel closed');
      } finally {
        silent.c.close();
      }
      assert.equal(mesh.apps.ext.seen.length, seen, 'nothing reached the app');
      const line = await until(() => mesh.client.access.find((l) => l['target'] === 'ext.ext:7000' && /HTTP inside a tunnel that began silent/.test(String(l['refused']))), 'the refusal line');
      assert.equal(line['method'], 'CONNECT');
    });

    it('a destination the list does not name is still refused', async () => {
      const { c, answer } = await connectTo('other.demo:80');
      c.close();
      assert.equal(answer.status, 403);
    });
  });
});
