/**
 * The sidecar data path on real loopback sockets: a client pod's outbound proxy, the server pods'
 * inbound listeners, apps behind them, and snapshots compiled by the real compiler and delivered by
 * a fake control plane.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { after, before, describe, it } from 'node:test';
import type { EchoReply } from './test-support/apps.js';
import { startMesh, type Mesh } from './test-support/mesh.js';
import { RawConnection, send, until, type SimpleResponse } from './test-support/net.js';
import { MESH, startSidecar, tempDir } from './test-support/world.js';

let mesh: Mesh;

function viaClient(method: string, url: string, opts: Parameters<typeof send>[3] = {}): Promise<SimpleResponse> {
  return send(mesh.client.outbound, method, url, opts);
}

async function getEcho(url: string, headers?: Record<string, string>): Promise<EchoReply> {
  const r = await viaClient('GET', url, headers ? { headers } : {});
  assert.equal(r.status, 200, `GET ${url}: ${r.status} ${r.text}`);
  return r.json<EchoReply>();
}

function rawGet(target: string, host: string, extra = ''): string {
  return `GET ${target} HTTP/1.1\r\nhost: ${host}\r\n${extra}\r\n`;
}

describe('sidecar data path', () => {
  before(async () => {
    mesh = await startMesh();
  });
  after(async () => {
    await mesh?.close();
  });

  describe('routing', () => {
    for (const name of ['echo', 'echo.demo', 'echo.demo.svc.cluster.local']) {
      for (const port of ['', ':80']) {
        it(`reaches Service echo as ${name}${port}`, async () => {
          const reply = await getEcho(`http://${name}${port}/route?q=${encodeURIComponent(name)}`);
          assert.ok(['echo-a', 'echo-b'].includes(reply.app), reply.app);
          assert.equal(reply.url, `/route?q=${encodeURIComponent(name)}`);
          assert.equal(reply.headers.host, `${name}${port}`);
        });
      }
    }

    it('picks the service by Host on an inbound port two services share', async () => {
      for (let i = 0; i < 4; i++) assert.equal((await getEcho('http://other.demo/x')).app, 'echo-a');
    });

    it('sends an origin-form request with a Host header the same way', async () => {
      const r = await send(mesh.client.outbound, 'GET', '/origin', { headers: { host: 'echo.demo' } });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json<EchoReply>().url, '/origin');
    });

    it('round-robins across the two ready endpoints', async () => {
      const apps: string[] = [];
      for (let i = 0; i < 6; i++) apps.push((await getEcho('http://echo.demo/rr')).app);
      assert.deepEqual(new Set(apps), new Set(['echo-a', 'echo-b']));
      for (let i = 1; i < apps.length; i++) assert.notEqual(apps[i], apps[i - 1], `consecutive requests went to the same endpoint: ${apps.join(',')}`);
    });

    it("answers FSM's 403 Access denied for an unknown mesh name at once, with the reason in a header", async () => {
      for (const url of ['http://nosuch.demo/x', 'http://nosuch/x', 'http://nosuch.demo.svc.cluster.local:8080/x']) {
        const started = Date.now();
        const r = await viaClient('GET', url, { timeoutMs: 2000 });
        assert.equal(r.status, 403, `${url}: ${r.text}`);
        assert.equal(r.text, 'Access denied');
        assert.match(String(r.headers['x-tessera-reason']), /no mesh service answers to "nosuch/);
        assert.ok(Date.now() - started < 1000, `${url} took ${Date.now() - started} ms`);
      }
    });

    it('answers 503 for a service without a ready endpoint', async () => {
      const r = await viaClient('GET', 'http://down.demo/x', { timeoutMs: 2000 });
      assert.equal(r.status, 503, r.text);
      assert.match(r.text, /down/);
    });

    it('passes an upstream error status through unchanged', async () => {
      const r = await viaClient('GET', 'http://echo.demo/status?code=418');
      assert.equal(r.status, 418);
      assert.equal(r.headers['x-tessera-error'], undefined);
    });
  });

  describe('edges', () => {
    it('uses the absolute-form authority over a conflicting Host header', async () => {
      const reply = await getEcho('http://other.demo/abs', { host: 'echo.demo' });
      assert.equal(reply.app, 'echo-a');
      assert.equal(reply.headers.host, 'other.demo');
    });

    it('reaches a Service outside the mesh by its DNS name', async () => {
      const r = await viaClient('GET', 'http://ext.ext:7000/direct');
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json<EchoReply>().app, 'ext-0');
      // it arrives from the client pod's IP, straight from the client sidecar
      assert.equal(mesh.apps.ext.seen.find((x) => x.url === '/direct')?.remoteAddress, mesh.a.client.podIP);
    });

    it('answers 502 when an endpoint refuses the connection', async () => {
      const r = await viaClient('GET', `http://127.${mesh.a.block}.1.250:7000/nobody-home`, { timeoutMs: 3000 });
      assert.equal(r.status, 502, r.text);
      assert.equal(r.headers['x-tessera-error'], '502');
    });

    it('answers an Upgrade to an unknown service with 403 on the raw connection', async () => {
      const c = await RawConnection.open(mesh.client.outbound.host, mesh.client.outbound.port, mesh.tracker);
      try {
        c.write(`GET http://nosuch.demo/ws HTTP/1.1\r\nhost: nosuch.demo\r\nconnection: Upgrade\r\nupgrade: websocket\r\n\r\n`);
        const r = await c.readResponse({ timeoutMs: 2000 });
        assert.equal(r.status, 403);
        assert.equal(r.body.toString(), 'Access denied');
      } finally {
        c.close();
      }
    });

    it('handles Expect: 100-continue', async () => {
      const c = await RawConnection.open(mesh.client.outbound.host, mesh.client.outbound.port, mesh.tracker);
      try {
        c.write(`POST http://echo.demo/continue HTTP/1.1\r\nhost: echo.demo\r\ncontent-length: 5\r\nexpect: 100-continue\r\n\r\n`);
        const cont = await c.readResponse({ timeoutMs: 2000 });
        assert.equal(cont.status, 100);
        c.write('hello');
        const r = await c.readResponse();
        assert.equal(r.status, 200);
        const reply = JSON.parse(r.body.toString()) as EchoReply;
        assert.equal(reply.bodyBytes, 5);
        assert.equal(reply.headers['expect'], undefined);
      } finally {
        c.close();
      }
    });

    it('survives a client that goes away in the middle of a body', async () => {
      for (let round = 0; round < 3; round++) {
        const c = await RawConnection.open(mesh.client.outbound.host, mesh.client.outbound.port, mesh.tracker);
        c.write(`POST http://echo.demo/pipe HTTP/1.1\r\nhost: echo.demo\r\ncontent-length: ${64 * 1024 * 1024}\r\n\r\n`);
        c.write(Buffer.alloc(1024 * 1024, 1));
        if (round === 1) await c.readHead();
        await new Promise((r) => setTimeout(r, 20));
        c.close();
      }
      const r = await viaClient('GET', 'http://echo.demo/after-abort');
      assert.equal(r.status, 200);
    });

    it('routes on the inbound listener by Host and refuses an unknown Host', async () => {
      const inbound = { host: mesh.a.echoA.podIP, port: 8080 };
      const other = await send(inbound, 'GET', '/direct-in', { headers: { host: 'other.demo.svc.cluster.local:80' } });
      assert.equal(other.status, 200, other.text);
      assert.equal(other.json<EchoReply>().app, 'echo-a');
      const unknown = await send(inbound, 'GET', '/direct-in', { headers: { host: 'nosuch.demo' }, timeoutMs: 2000 });
      assert.equal(unknown.status, 403, unknown.text);
    });

    it('reuses upstream connections between the sidecars', async () => {
      const before = mesh.apps.echoA.seen.length;
      for (let i = 0; i < 10; i++) assert.equal((await viaClient('GET', 'http://other.demo/reuse')).status, 200);
      assert.equal(mesh.apps.echoA.seen.length - before, 10);
      let connections = 0;
      await new Promise<void>((resolve, reject) => mesh.apps.echoA.server.getConnections((err, n) => (err ? reject(err) : resolve(void (connections = n)))));
      assert.ok(connections <= 3, `${connections} connections from the inbound sidecar to the app`);
    });

    it('answers 503 while it has no configuration yet', async () => {
      // a sidecar whose control plane has nothing for it and whose data dir is empty
      const idle = await startSidecar(mesh.tracker, mesh.cp, mesh.a.down, await tempDir(mesh.tracker, 'idle'));
      try {
        const r = await send(idle.outbound, 'GET', 'http://echo.demo/x', { timeoutMs: 2000 });
        assert.equal(r.status, 503);
        assert.equal((await send(idle.admin, 'GET', '/ready')).status, 503);
      } finally {
        await idle.stop();
      }
    });
  });

  describe('HTTP/1.1', () => {
    it('keeps one client connection alive across requests', async () => {
      const c = await RawConnection.open(mesh.client.outbound.host, mesh.client.outbound.port, mesh.tracker);
      try {
        for (const path of ['/one', '/two', '/three']) {
          c.write(rawGet(`http://echo.demo${path}`, 'echo.demo'));
          const r = await c.readResponse();
          assert.equal(r.status, 200);
          assert.equal((JSON.parse(r.body.toString()) as EchoReply).url, path);
          assert.notEqual(r.headers['connection'], 'close');
        }
        assert.equal(c.isClosed, false);
      } finally {
        c.close();
      }
    });

    it('answers pipelined requests in order', async () => {
      const c = await RawConnection.open(mesh.client.outbound.host, mesh.client.outbound.port, mesh.tracker);
      try {
        c.write(rawGet('http://echo.demo/delay?ms=150', 'echo.demo') + rawGet('http://echo.demo/fast', 'echo.demo') + rawGet('http://other.demo/third', 'other.demo'));
        const urls: string[] = [];
        for (let i = 0; i < 3; i++) {
          const r = await c.readResponse();
          assert.equal(r.status, 200);
          urls.push((JSON.parse(r.body.toString()) as EchoReply).url);
        }
        assert.deepEqual(urls, ['/delay?ms=150', '/fast', '/third']);
      } finally {
        c.close();
      }
    });

    it('streams a chunked request body', async () => {
      const c = await RawConnection.open(mesh.client.outbound.host, mesh.client.outbound.port, mesh.tracker);
      try {
        const parts = ['hello ', 'chunked ', 'world'];
        c.write(`POST http://echo.demo/upload HTTP/1.1\r\nhost: echo.demo\r\ntransfer-encoding: chunked\r\ncontent-type: text/plain\r\n\r\n`);
        for (const p of parts) c.write(`${Buffer.byteLength(p).toString(16)}\r\n${p}\r\n`);
        c.write('0\r\n\r\n');
        const r = await c.readResponse();
        assert.equal(r.status, 200);
        const reply = JSON.parse(r.body.toString()) as EchoReply;
        assert.equal(reply.method, 'POST');
        assert.equal(reply.bodyBytes, Buffer.byteLength(parts.join('')));
        assert.equal(reply.bodySha256, createHash('sha256').update(parts.join('')).digest('hex'));
      } finally {
        c.close();
      }
    });

    it('streams a chunked request body chunk by chunk, before it has ended', async () => {
      const c = await RawConnection.open(mesh.client.outbound.host, mesh.client.outbound.port, mesh.tracker);
      try {
        c.write(`POST http://echo.demo/pipe HTTP/1.1\r\nhost: echo.demo\r\ntransfer-encoding: chunked\r\n\r\n`);
        c.write('5\r\nfirst\r\n');
        // the app echoes what it has received so far: the first chunk comes back while the request is still open
        const head = await c.readHead();
        assert.equal(head.status, 200);
        assert.equal(head.chunked, true);
        let got = '';
        while (got.length < 5) got += (await c.readChunk())!.toString();
        assert.equal(got, 'first');
        const seen = [...mesh.apps.echoA.seen, ...mesh.apps.echoB.seen].findLast((r) => r.url === '/pipe' && r.method === 'POST' && r.headers['content-length'] === undefined);
        assert.ok(seen?.chunked, 'the app received a chunked request');
        c.write('6\r\nsecond\r\n0\r\n\r\n');
        let rest = '';
        for (let chunk = await c.readChunk(); chunk !== null; chunk = await c.readChunk()) rest += chunk.toString();
        assert.equal(rest, 'second');
        // the connection is ready for the next request
        c.write(rawGet('http://echo.demo/after-chunked', 'echo.demo'));
        assert.equal((await c.readResponse()).status, 200);
      } finally {
        c.close();
      }
    });

    it('streams a chunked response body', async () => {
      const c = await RawConnection.open(mesh.client.outbound.host, mesh.client.outbound.port, mesh.tracker);
      try {
        c.write(rawGet('http://echo.demo/chunked', 'echo.demo'));
        const r = await c.readResponse();
        assert.equal(r.status, 200);
        assert.equal(r.chunked, true);
        assert.equal(r.body.toString(), 'part-0;part-1;part-2;part-3;');
        // the connection stays usable after a chunked response
        c.write(rawGet('http://echo.demo/after', 'echo.demo'));
        assert.equal((await c.readResponse()).status, 200);
      } finally {
        c.close();
      }
    });

    it('answers HEAD with the headers and no body, and the connection stays in sync', async () => {
      const c = await RawConnection.open(mesh.client.outbound.host, mesh.client.outbound.port, mesh.tracker);
      try {
        c.write(`HEAD http://echo.demo/head HTTP/1.1\r\nhost: echo.demo\r\n\r\n`);
        const h = await c.readResponse({ head: true });
        assert.equal(h.status, 200);
        assert.ok(Number(h.headers['content-length']) > 0, JSON.stringify(h.headers));
        c.write(rawGet('http://echo.demo/after-head', 'echo.demo'));
        const g = await c.readResponse();
        assert.equal(g.status, 200);
        assert.equal((JSON.parse(g.body.toString()) as EchoReply).url, '/after-head');
      } finally {
        c.close();
      }
    });

    it('streams a 64 MiB body through both sidecars without buffering it', async () => {
      setFlagsFromString('--expose_gc');
      const gc = runInNewContext('gc') as () => void;
      const size = 64 * 1024 * 1024;
      const chunk = Buffer.alloc(64 * 1024);
      for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 31 + 7) & 0xff;
      const sentHash = createHash('sha256');
      for (let i = 0; i < size / chunk.length; i++) sentHash.update(chunk);
      const expected = sentHash.digest('hex');

      gc();
      const base = process.memoryUsage();
      let peakHeap = 0;
      let peakBuffers = 0;
      const sampler = setInterval(() => {
        gc();
        const m = process.memoryUsage();
        peakHeap = Math.max(peakHeap, m.heapUsed - base.heapUsed);
        peakBuffers = Math.max(peakBuffers, m.arrayBuffers - base.arrayBuffers);
      }, 40);
      try {
        const result = await new Promise<{ status: number; bytes: number; hash: string }>((resolve, reject) => {
          const req = httpRequest({
            host: mesh.client.outbound.host,
            port: mesh.client.outbound.port,
            method: 'POST',
            path: 'http://echo.demo/pipe',
            agent: false,
            headers: { host: 'echo.demo', 'content-length': String(size), 'content-type': 'application/octet-stream' },
          });
          req.setTimeout(30_000, () => req.destroy(new Error('large body timed out')));
          req.on('error', reject);
          req.on('response', (res) => {
            const h = createHash('sha256');
            let bytes = 0;
            res.on('data', (c: Buffer) => {
              bytes += c.length;
              h.update(c);
            });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, hash: h.digest('hex') }));
            res.on('error', reject);
          });
          let written = 0;
          const pump = (): void => {
            while (written < size) {
              written += chunk.length;
              if (!req.write(chunk)) {
                req.once('drain', pump);
                return;
              }
            }
            req.end();
          };
          pump();
        });
        assert.equal(result.status, 200);
        assert.equal(result.bytes, size);
        assert.equal(result.hash, expected);
      } finally {
        clearInterval(sampler);
      }
      const MiB = 1024 * 1024;
      assert.ok(peakHeap < 32 * MiB, `heap grew by ${(peakHeap / MiB).toFixed(1)} MiB while streaming`);
      // Buffers in flight (and not yet swept) measure up to ~25 MiB whatever the body size (16 to 128 MiB
      // all alike); a body held whole would add its 64 MiB on top.
      assert.ok(peakBuffers < 48 * MiB, `buffers grew by ${(peakBuffers / MiB).toFixed(1)} MiB while streaming`);
    });

    it('passes an Upgrade through and pipes bytes both ways', async () => {
      const c = await RawConnection.open(mesh.client.outbound.host, mesh.client.outbound.port, mesh.tracker);
      try {
        c.write(`GET http://other.demo/ws HTTP/1.1\r\nhost: other.demo\r\nconnection: Upgrade\r\nupgrade: echo-protocol\r\n\r\n`);
        const r = await c.readResponse();
        assert.equal(r.status, 101);
        assert.equal(r.headers['upgrade'], 'echo-protocol');
        assert.equal(r.headers['x-app'], 'echo-a');
        for (const msg of ['ping-1', 'a longer second message', '\u0000\u0001binary\u00ff']) {
          const buf = Buffer.from(msg, 'latin1');
          c.write(buf);
          assert.deepEqual(await c.readBytes(buf.length), buf);
        }
        const seen = mesh.apps.echoA.seen.find((s) => s.url === '/ws');
        assert.ok(seen, 'the app saw the upgrade request');
        assert.equal(seen.headers['upgrade'], 'echo-protocol');
      } finally {
        c.close();
      }
    });
  });

  describe('CONNECT and TCP', () => {
    for (const authority of ['tcpecho.demo:9000', 'tcpecho:9000', 'tcpecho.demo.svc.cluster.local:9000']) {
      it(`tunnels CONNECT ${authority} to the TCP echo app through the inbound TCP listener`, async () => {
        const c = await RawConnection.open(mesh.client.outbound.host, mesh.client.outbound.port, mesh.tracker);
        try {
          c.write(`CONNECT ${authority} HTTP/1.1\r\nhost: ${authority}\r\n\r\n`);
          const r = await c.readResponse({ head: true });
          assert.equal(r.status, 200);
          const greeting = (await c.readBytes('hello from tcp-echo-a\n'.length)).toString();
          assert.match(greeting, /^hello from tcp-echo-[ab]\n$/);
          c.write('over tcp');
          assert.equal((await c.readBytes(8)).toString(), 'over tcp');
        } finally {
          c.close();
        }
      });
    }

    it('fails a CONNECT to an unknown service clearly', async () => {
      const c = await RawConnection.open(mesh.client.outbound.host, mesh.client.outbound.port, mesh.tracker);
      try {
        c.write(`CONNECT nosuch.demo:9000 HTTP/1.1\r\nhost: nosuch.demo:9000\r\n\r\n`);
        const r = await c.readResponse({ timeoutMs: 2000 });
        assert.ok(r.status >= 400 && r.status < 600, `status ${r.status}`);
        assert.match(r.body.toString(), /nosuch\.demo:9000/);
      } finally {
        c.close();
      }
    });
  });

  describe('headers the mesh adds', () => {
    const TP = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/;

    it('starts a trace when none comes in', async () => {
      const h = (await getEcho('http://echo.demo/trace')).headers;
      const m = TP.exec(String(h['traceparent']));
      assert.ok(m, `traceparent ${h['traceparent']}`);
      assert.equal(h['x-b3-traceid'], m[1]);
      assert.equal(h['x-b3-spanid'], m[2]);
      assert.match(String(h['x-b3-parentspanid']), /^[0-9a-f]{16}$/, 'the inbound hop is a child of the outbound hop');
      assert.equal(h['x-b3-sampled'], '1');
    });

    it('keeps an incoming traceparent trace id with a new span', async () => {
      const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
      const span = '00f067aa0ba902b7';
      const h = (await getEcho('http://echo.demo/trace', { traceparent: `00-${trace}-${span}-01` })).headers;
      const m = TP.exec(String(h['traceparent']));
      assert.ok(m);
      assert.equal(m[1], trace);
      assert.notEqual(m[2], span);
      assert.equal(h['x-b3-traceid'], trace);
    });

    it('keeps an incoming B3 trace', async () => {
      const trace = 'a3ce929d0e0e4736';
      const span = 'b7ad6b7169203331';
      const h = (await getEcho('http://echo.demo/trace', { 'x-b3-traceid': trace, 'x-b3-spanid': span, 'x-b3-sampled': '1' })).headers;
      assert.equal(h['x-b3-traceid'], trace);
      assert.notEqual(h['x-b3-spanid'], span);
      assert.equal(TP.exec(String(h['traceparent']))?.[1], trace.padStart(32, '0'));
    });

    it('never lets a claimed serviceidentity reach the app without a verified certificate (plaintext here)', async () => {
      // identity comes only from mTLS (mtls.test.ts shows the verified case); in plaintext the header is dropped
      assert.equal((await getEcho('http://echo.demo/id')).headers['serviceidentity'], undefined);
      assert.equal((await getEcho('http://echo.demo/id', { serviceidentity: 'admin.kube-system' })).headers['serviceidentity'], undefined);
    });

    it('strips hop-by-hop headers', async () => {
      const h = (await getEcho('http://echo.demo/hop', { 'proxy-authorization': 'Basic c2VjcmV0', 'x-drop': 'me', connection: 'x-drop' })).headers;
      assert.equal(h['proxy-authorization'], undefined);
      assert.equal(h['x-drop'], undefined);
    });
  });

  describe('admin', () => {
    it('exports request metrics by source and destination', async () => {
      await getEcho('http://echo.demo/metrics-traffic');
      const line = (text: string, direction: string): string | undefined =>
        text.split('\n').find((l) => l.startsWith('tessera_requests_total{') && l.includes(`direction="${direction}"`) && l.includes('destination="echo.demo"') && l.includes('code="200"'));
      const client = await send(mesh.client.admin, 'GET', '/stats/prometheus');
      assert.equal(client.status, 200);
      const out = line(client.text, 'outbound');
      assert.ok(out, client.text.split('\n').filter((l) => l.startsWith('tessera_requests_total')).join('\n'));
      assert.match(out, /source="client\.demo"/);
      assert.ok(Number(out.split(' ').pop()) > 0);
      // the server side counts the same traffic inbound, from the client pod
      const texts = await Promise.all([mesh.echoA, mesh.echoB].map((s) => send(s.admin, 'GET', '/stats/prometheus')));
      const inbound = texts.map((t) => line(t.text, 'inbound')).filter(Boolean);
      assert.ok(inbound.length > 0);
      for (const l of inbound) assert.doesNotMatch(l!, /source="unknown"/);
      assert.match(inbound[0]!, /source="demo\.client-0"|source="client\.demo"/);
    });

    it('dumps the config with the chain lists and without a private key', async () => {
      const r = await send(mesh.client.admin, 'GET', '/config_dump');
      assert.equal(r.status, 200);
      const dump = r.json<{ Chains: Record<string, string[]>; Version: string; Spec: { ServiceIdentity: string } }>();
      assert.deepEqual(Object.keys(dump.Chains).sort(), ['inbound-http', 'inbound-tcp', 'outbound-http', 'outbound-tcp']);
      assert.equal(dump.Chains['outbound-http']![0], 'modules/outbound-http-routing.js');
      assert.ok(dump.Chains['inbound-http']!.includes('modules/inbound-http-load-balancing.js'));
      assert.equal(dump.Version, mesh.client.sidecar.current?.version);
      assert.equal(dump.Spec.ServiceIdentity, 'client.demo');
      assert.doesNotMatch(r.text, /PRIVATE KEY/);
      assert.doesNotMatch(r.text, /"[^"]*private[_-]?key[^"]*"\s*:/i);
    });

    it('reports ready and lists its listeners', async () => {
      assert.equal((await send(mesh.echoA.admin, 'GET', '/ready')).status, 200);
      const listeners = (await send(mesh.echoA.admin, 'GET', '/listeners')).json<string[]>();
      assert.ok(listeners.includes(`inbound-http ${mesh.a.echoA.podIP}:8080`), listeners.join(', '));
      assert.ok(listeners.includes(`inbound-tcp ${mesh.a.echoA.podIP}:9000`), listeners.join(', '));
    });

    it('writes an access log line per request', async () => {
      await getEcho('http://echo.demo/logged');
      const line = await until(() => mesh.client.access.find((r) => r['path'] === '/logged'), 'the access log line');
      assert.equal(line['direction'], 'outbound');
      assert.equal(line['status'], 200);
      assert.equal(line['destination'], 'echo.demo');
    });
  });

  describe('access-log rules (Telemetry accessLogging)', () => {
    const telemetry = (accessLogging: unknown[]) => ({
      apiVersion: 'telemetry.istio.io/v1', kind: 'Telemetry', metadata: { name: 'mesh-default', namespace: `${MESH}-system` }, spec: { accessLogging },
    });
    const lineOf = (ua: string) => mesh.client.access.find((r) => r['userAgent'] === ua);
    // a later request's line arriving proves an earlier one was not merely late (lines keep their order)
    async function sendAll(tag: string): Promise<void> {
      assert.equal((await viaClient('GET', 'http://echo.demo/status?code=200', { headers: { 'user-agent': `${tag}-200` } })).status, 200);
      assert.equal((await viaClient('GET', 'http://echo.demo/status?code=418', { headers: { 'user-agent': `${tag}-418` } })).status, 418);
      assert.equal((await viaClient('GET', 'http://nosuch.demo/x', { headers: { 'user-agent': `${tag}-refused` } })).status, 403);
      await until(() => lineOf(`${tag}-refused`), `the refusal's line (${tag})`);
    }
    after(async () => {
      await mesh.publish(mesh.resources);
    });

    it("a filter keeps the errors and refusals and none of the successes (Istio's response.code >= 400)", async () => {
      await mesh.publish([...mesh.resources, telemetry([{ match: { mode: 'CLIENT' }, filter: { expression: 'response.code >= 400' } }])]);
      await sendAll('filtered');
      assert.equal(lineOf('filtered-418')?.['status'], 418);
      assert.equal(lineOf('filtered-200'), undefined, 'a 200 passed the error filter');
    });

    it('disabled writes refusals only; the server side keeps its own rule', async () => {
      await mesh.publish([...mesh.resources, telemetry([{ match: { mode: 'CLIENT' }, disabled: true }])]);
      await sendAll('disabled');
      assert.equal(lineOf('disabled-200'), undefined);
      assert.equal(lineOf('disabled-418'), undefined);
      // SERVER is not covered by the rule: the echo pods' sidecars still log every request
      await until(() => mesh.echoA.access.concat(mesh.echoB.access).find((r) => r['userAgent'] === 'disabled-200'), "the server side's line");
    });

    it('a 0 % sample writes refusals only; back to the default, every request is written', async () => {
      await mesh.publish([...mesh.resources, telemetry([{ randomSamplingPercentage: 0 }])]);
      await sendAll('sampled');
      assert.equal(lineOf('sampled-200'), undefined);
      await mesh.publish(mesh.resources);
      await sendAll('default');
      assert.equal(lineOf('default-200')?.['status'], 200);
      assert.equal(lineOf('default-418')?.['status'], 418);
    });
  });
});
