/**
 * The transparent outbound listener with an out-of-scope Service address (snapshot/scope.ts): no
 * match gives its protocol, so the client's first bytes pick the HTTP engine (which answers the
 * refusal) or the TCP chain; the bytes read to decide are handed on, not lost. Real sockets; the
 * original destination is given, as the kernel would.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { SidecarLog } from '../observability/log.js';
import { createTransparentOutbound, looksLikeHttp } from './transparent.js';

const DST = { address: '10.96.0.5', port: 14001, family: 4 as const };

describe('transparent outbound: an out-of-scope Service address', () => {
  const seen: { via: 'http' | 'tcp'; first: string; target?: { host: string; port: number } }[] = [];
  let wake: (() => void) | undefined;
  const record = (entry: (typeof seen)[number]): void => {
    seen.push(entry);
    wake?.();
  };
  // the HTTP engine's stand-in reads what the socket holds, as the real one does
  const http = createServer((s) => s.once('data', (b: Buffer) => (record({ via: 'http', first: b.toString('latin1') }), s.end('HTTP/1.1 403 Access denied\r\n\r\n'))));
  const tcp = (s: Socket, target: { host: string; port: number }): void => {
    const got: Buffer[] = [];
    s.on('data', (b: Buffer) => got.push(b));
    s.resume();
    setImmediate(() => (record({ via: 'tcp', first: Buffer.concat(got).toString('latin1'), target }), s.destroy()));
  };
  const server = createTransparentOutbound({ http, tcp, matches: () => ({}), outOfScope: () => true, log: new SidecarLog('error'), originalDst: () => DST });
  after(() => server.close());

  async function connect(send?: string): Promise<(typeof seen)[number]> {
    if (!server.listening) await once(server.listen(0, '127.0.0.1'), 'listening');
    const before = seen.length;
    const arrived = new Promise<void>((resolve) => (wake = () => seen.length > before && resolve()));
    const c = createConnection((server.address() as AddressInfo).port, '127.0.0.1');
    c.on('error', () => undefined);
    if (send !== undefined) c.write(send);
    await arrived;
    c.destroy();
    return seen[seen.length - 1]!;
  }

  it('an HTTP/1 request goes to the HTTP engine with its first bytes intact', async () => {
    const r = await connect('GET /get HTTP/1.1\r\nhost: beta.default:14001\r\n\r\n');
    assert.equal(r.via, 'http');
    assert.match(r.first, /^GET \/get HTTP\/1\.1\r\nhost: beta\.default:14001/);
  });

  it('other bytes go to the TCP chain, for the address dialed, bytes intact', async () => {
    const r = await connect('\x16\x03\x01hello');
    assert.equal(r.via, 'tcp');
    assert.deepEqual(r.target, { host: DST.address, port: DST.port });
    assert.equal(r.first, '\x16\x03\x01hello');
  });

  it('a client that waits for the server goes to the TCP chain', async () => {
    const r = await connect();
    assert.equal(r.via, 'tcp');
  });

  it('looksLikeHttp: request lines and the HTTP/2 preface, nothing else', () => {
    assert.ok(looksLikeHttp(Buffer.from('POST /x HTTP/1.1\r\n')));
    assert.ok(looksLikeHttp(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')));
    assert.ok(!looksLikeHttp(Buffer.from('\x16\x03\x01\x02\x00')));
    assert.ok(!looksLikeHttp(Buffer.from('hello there')));
  });
});
