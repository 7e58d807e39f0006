/**
 * The upstream pool reads plaintext sockets into one shared buffer (engine/client.ts, READ_BUFFER).
 * What the chain receives must never be a view of that buffer: a response body left unread while
 * later reads (the next response, on another connection or the same one) reuse the buffer keeps
 * its own bytes.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { Pool } from './client.js';

/** A raw HTTP/1.1 server answering request n with a body of 5000 bytes of one letter ('a' + n). */
function letterServer(): Server {
  let n = 0;
  return createServer((s: Socket) => {
    let seen = '';
    s.on('data', (d: Buffer) => {
      seen += d.toString('latin1');
      while (seen.includes('\r\n\r\n')) {
        seen = seen.slice(seen.indexOf('\r\n\r\n') + 4);
        const body = String.fromCharCode(97 + (n++ % 26)).repeat(5000);
        s.write(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\nx-n: ${n}\r\n\r\n${body}`);
      }
    });
  });
}

describe('engine/client: reads through the shared buffer', () => {
  let server: Server;
  let pool: Pool;
  before(async () => {
    server = letterServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    pool = new Pool({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, timeoutMs: 5000, idleMs: 4000, maxIdle: 4 });
  });
  after(() => {
    pool.close();
    server.close();
  });

  it('a body read after later responses arrived still holds its own bytes', async () => {
    const head = { method: 'GET', path: '/', authority: 'up', headers: {}, httpVersion: '1.1', rawHeaders: [] };
    // sequential: each reuses the keep-alive connection (and the buffer) while the earlier bodies sit unread
    const responses = [];
    for (let i = 0; i < 4; i++) responses.push(await pool.request(head, null));
    // with several responses read since, the first ones' bytes would have been overwritten if kept as views
    for (const [i, res] of responses.entries()) {
      assert.equal(res.status, 200);
      assert.equal(res.headers['x-n'], String(i + 1));
      const body = await res.body.bytes();
      assert.equal(body.length, 5000);
      assert.equal(body.toString('latin1'), String.fromCharCode(97 + i).repeat(5000), `body ${i + 1}`);
    }
  });
});

describe('engine/client: end of stream on a socket read through onread', () => {
  it('an upstream closing its idle keep-alive connection is noticed, and the next request opens a fresh one', async () => {
    const conns: Socket[] = [];
    const server = createServer((s: Socket) => {
      conns.push(s);
      s.once('data', () => {
        // answer, then close the connection while it sits idle in the pool
        s.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok', () => setImmediate(() => s.end()));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const pool = new Pool({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, timeoutMs: 5000, idleMs: 4000, maxIdle: 4 });
    try {
      const head = { method: 'GET', path: '/', authority: 'up', headers: {}, httpVersion: '1.1', rawHeaders: [] };
      const first = await pool.request(head, null);
      assert.equal((await first.body.bytes()).toString(), 'ok');
      // the FIN must reach the pool (an 'end' read as EOF, then 'close') without a 'data' listener
      // (the server's half-closed socket only closes once the pool's side read the EOF and ended too)
      for (let i = 0; i < 300 && !conns[0]!.closed; i++) await new Promise((r) => setTimeout(r, 10));
      assert.ok(conns[0]!.closed, 'the pool read the end of the stream and closed its side');
      const second = await pool.request(head, null);
      assert.equal((await second.body.bytes()).toString(), 'ok');
      assert.equal(conns.length, 2, 'the second request went on a new connection');
    } finally {
      pool.close();
      server.close();
    }
  });
});
