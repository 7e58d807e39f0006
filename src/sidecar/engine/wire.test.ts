/**
 * Connection-nominated headers (RFC 9110 §7.6.1, security-rules.md §5 "`Connection:` naming other
 * headers"): authenticate on the received headers, then remove the hop-by-hop ones, then add the
 * proxy's own. The client's Connection header must never remove a header the proxy set, and an
 * upstream's must never remove a header the proxy adds to the response.
 */
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type IncomingHttpHeaders, type Server as HttpServer } from 'node:http';
import type { AddressInfo, Server } from 'node:net';
import type { HeaderMap } from '../http/types.js';
import type { HttpContext } from '../chain/types.js';
import { SidecarLog } from '../observability/log.js';
import type { UpstreamClient } from '../upstream/client.js';
import { rawExchange } from '../test-support/engine-harness.js';
import { Pool } from './client.js';
import { createHttpEngine } from './server.js';
import { NOT_FORWARDED_REQUEST, appendHeaderLines, headerMapFromRaw, receiveRequestConnection, receiveResponseConnection } from './wire.js';

const lines = (h: HeaderMap): string[] => appendHeaderLines('', h, NOT_FORWARDED_REQUEST).split('\r\n').filter(Boolean);

describe('wire: received Connection options on a request', () => {
  it('Connection: keep-alive (or close, Upgrade, TE) leaves the map untouched', () => {
    for (const c of ['keep-alive', 'close', 'Upgrade', 'keep-alive, Upgrade', ' TE , close ', 'close,,keep-alive']) {
      const h = headerMapFromRaw(['Host', 'a', 'Connection', c, 'X-A', '1']);
      const before = { ...h };
      receiveRequestConnection(h);
      assert.deepEqual(h, before, c);
      assert.deepEqual(Object.getOwnPropertySymbols(h), [], c);
      assert.deepEqual(lines(h), ['x-a: 1'], c);
    }
  });

  it('a nominated header keeps its received value for the chain, and the client copy is never forwarded', () => {
    const h = headerMapFromRaw(['Host', 'a', 'Connection', 'close, Authorization, X-Hop', 'Authorization', 'Bearer t', 'X-Hop', 'h', 'X-A', '1']);
    receiveRequestConnection(h);
    assert.equal(h['authorization'], 'Bearer t', 'authentication reads the received token');
    assert.equal(h['x-hop'], 'h');
    // still visible to whatever lists the headers (policies, the external authorizer)
    assert.deepEqual(Object.keys(h), ['host', 'connection', 'authorization', 'x-hop', 'x-a']);
    assert.deepEqual(Object.entries(h).find(([k]) => k === 'x-hop'), ['x-hop', 'h']);
    // the Connection entry keeps only the options, so nothing reading it later can reach these names
    assert.equal(h['connection'], 'close');
    assert.deepEqual(lines(h), ['x-a: 1']);
  });

  it('what the proxy sets under a nominated name is forwarded: set over it, deleted then set, or added later', () => {
    const h = headerMapFromRaw(['Host', 'a', 'Connection', 'X-Payload, X-Sub, ServiceIdentity, X-Ext', 'X-Payload', 'forged', 'X-Sub', 'admin', 'ServiceIdentity', 'evil.ns']);
    receiveRequestConnection(h);
    // what authentication does: remove the client's copies of its output headers, then set them
    delete h['x-payload'];
    delete h['x-sub'];
    h['x-payload'] = 'verified';
    // what routing does with serviceidentity, and ext-authz with headersToUpstreamOnAllow
    h['serviceidentity'] = 'client.demo';
    h['x-ext'] = 'allowed';
    assert.deepEqual(lines(h), ['serviceidentity: client.demo', 'x-payload: verified', 'x-ext: allowed']);
  });

  it('the proxy setting the same value the client sent still forwards it (the value is the proxy’s now)', () => {
    const h = headerMapFromRaw(['Host', 'a', 'Connection', 'X-Payload', 'X-Payload', 'eyJzdWIiOiJhIn0']);
    receiveRequestConnection(h);
    delete h['x-payload'];
    h['x-payload'] = 'eyJzdWIiOiJhIn0';
    assert.deepEqual(lines(h), ['x-payload: eyJzdWIiOiJhIn0']);
  });

  it('never touches Host or the framing headers, whatever Connection names', () => {
    const h = headerMapFromRaw(['Host', 'a', 'Connection', 'Host, Content-Length, Transfer-Encoding, X-Hop', 'Content-Length', '3', 'X-Hop', '1']);
    receiveRequestConnection(h);
    assert.equal(Object.getOwnPropertyDescriptor(h, 'host')?.value, 'a');
    assert.equal(Object.getOwnPropertyDescriptor(h, 'content-length')?.value, '3');
    assert.equal(h['connection'], 'content-length, transfer-encoding');
    assert.deepEqual(appendHeaderLines('', h).split('\r\n').filter(Boolean), ['host: a']);
  });

  it('a token that names no header of the request (constructor, __proto__) changes nothing but the Connection entry', () => {
    const h = headerMapFromRaw(['Host', 'a', 'Connection', 'close, constructor, __proto__, toString', 'X-A', '1']);
    receiveRequestConnection(h);
    assert.equal(Object.getPrototypeOf(h), Object.prototype);
    assert.deepEqual(Object.keys(h), ['host', 'connection', 'x-a']);
    assert.deepEqual(Object.getOwnPropertySymbols(h), []);
    assert.equal(h['connection'], 'close');
    assert.deepEqual(lines(h), ['x-a: 1']);
  });

  it('a value the chain sets under a nominated name is still validated', () => {
    const h = headerMapFromRaw(['Host', 'a', 'Connection', 'X-Hop', 'X-Hop', '1']);
    receiveRequestConnection(h);
    h['x-hop'] = 'a\r\nx-injected: 1';
    assert.throws(() => lines(h), /invalid value for header x-hop/);
  });
});

describe('wire: received Connection options on a response', () => {
  it('the nominated headers are removed at once; keep-alive alone changes nothing', () => {
    const plain = headerMapFromRaw(['Connection', 'keep-alive', 'X-A', '1']);
    receiveResponseConnection(plain);
    assert.deepEqual(plain, { connection: 'keep-alive', 'x-a': '1' });
    const h = headerMapFromRaw(['Connection', 'keep-alive, X-Hop, Strict-Transport-Security', 'X-Hop', '1', 'X-A', '2']);
    receiveResponseConnection(h);
    assert.deepEqual(Object.entries(h), [
      ['connection', 'keep-alive'],
      ['x-a', '2'],
    ]);
    // what the proxy adds afterwards goes out
    h['strict-transport-security'] = 'max-age=1';
    assert.deepEqual(appendHeaderLines('', h).split('\r\n').filter(Boolean), ['x-a: 2', 'strict-transport-security: max-age=1']);
  });
});

describe('engine: Connection-nominated headers through a real engine and pool (§5)', () => {
  // The chain stands for authentication (reads the received header, then sets the verified one) and
  // for a response module (adds a header to the upstream's response).
  let upstream: HttpServer;
  const seen: IncomingHttpHeaders[] = [];
  let engine: Server;
  let pool: Pool;
  let port = 0;
  const chainSaw: (string | string[] | undefined)[] = [];
  before(async () => {
    upstream = createHttpServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(200, { 'content-length': 2, connection: 'keep-alive, X-Proxy-Added, X-Up-Hop', 'x-up-hop': '1', 'x-up': 'kept' }).end('ok');
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    pool = new Pool({ host: '127.0.0.1', port: (upstream.address() as AddressInfo).port, timeoutMs: 5000, idleMs: 1000, maxIdle: 4 });
    const chain = async (ctx: HttpContext): Promise<void> => {
      const h = ctx.request.headers;
      chainSaw.push(h['authorization'], h['x-identity']);
      delete h['x-identity'];
      h['x-identity'] = 'verified';
      const r = ctx.request;
      const res = await pool.request({ method: r.method, path: r.path, authority: r.authority, headers: r.headers, httpVersion: r.httpVersion }, r.body);
      res.headers['x-proxy-added'] = 'yes';
      ctx.response = res;
    };
    engine = createHttpEngine({ direction: 'inbound', mountPoint: 'inbound-http', chain: () => chain, proxy: false, upstream: {} as UpstreamClient, log: new SidecarLog('error'), timeoutMs: 5000 });
    await new Promise<void>((r) => engine.listen(0, '127.0.0.1', r));
    port = (engine.address() as AddressInfo).port;
  });
  after(async () => {
    pool.close();
    await new Promise<void>((r) => engine.close(() => r()));
    upstream.closeAllConnections();
    await new Promise<void>((r) => upstream.close(() => r()));
  });
  beforeEach(() => {
    seen.length = 0;
    chainSaw.length = 0;
  });

  it('the chain reads the nominated headers as received; the upstream gets what the chain set, not the client copies', async () => {
    const r = await rawExchange(
      port,
      'GET /x HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer t\r\nX-Identity: forged\r\nX-Hop: 1\r\nConnection: close, Authorization, X-Identity, X-Hop\r\n\r\n',
    );
    assert.deepEqual(r.statuses, [200], r.text);
    assert.deepEqual(chainSaw, ['Bearer t', 'forged']);
    const h = seen[0]!;
    assert.equal(h['x-identity'], 'verified', 'the proxy-set header survives the client Connection header');
    assert.equal(h['authorization'], undefined, 'the nominated client header is hop-by-hop');
    assert.equal(h['x-hop'], undefined);
  });

  it('the upstream Connection header removes its own hop-by-hop headers, never one the proxy adds to the response', async () => {
    const r = await rawExchange(port, 'GET /y HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    assert.deepEqual(r.statuses, [200], r.text);
    assert.match(r.text, /\r\nx-proxy-added: yes\r\n/);
    assert.match(r.text, /\r\nx-up: kept\r\n/);
    assert.doesNotMatch(r.text, /x-up-hop/i);
    assert.match(r.text, /\r\nconnection: close\r\n/);
  });
});
