/** Connection-level behaviour on raw sockets: keep-alive, chunked request bodies, HEAD framing, Connection: close. */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RawConnection, withServer } from './client-for-tests.js';

const get = (path: string, extra = ''): string => `GET ${path} HTTP/1.1\r\nHost: httpbin\r\n${extra}\r\n`;

describe('connections', () => {
  it('serves two requests on one keep-alive connection', async () => {
    await withServer(async (server) => {
      const conn = await RawConnection.open(server.address.port);
      try {
        conn.write(get('/get?n=1'));
        const first = await conn.readResponse();
        assert.equal(first.statusLine, 'HTTP/1.1 200 OK');
        assert.equal(first.headers.get('connection'), 'keep-alive');
        assert.equal(first.headers.get('keep-alive'), undefined);
        assert.equal(first.headers.get('server'), 'gunicorn/19.9.0');
        assert.equal((JSON.parse(first.body) as { url: string }).url, 'http://httpbin/get?n=1');

        conn.write(get('/status/418'));
        const second = await conn.readResponse();
        assert.equal(second.statusLine, "HTTP/1.1 418 I'M A TEAPOT");
        assert.equal(conn.closed, false);
      } finally {
        conn.destroy();
      }
    });
  });

  it('reassembles chunked request bodies', async () => {
    await withServer(async (server) => {
      const conn = await RawConnection.open(server.address.port);
      try {
        conn.write(
          'POST /post HTTP/1.1\r\nHost: httpbin\r\nContent-Type: application/json\r\n' +
            'Transfer-Encoding: chunked\r\n\r\n' +
            '7\r\n{"a": [\r\n' +
            '6\r\n1, 2]}\r\n' +
            '0\r\n\r\n',
        );
        const res = await conn.readResponse();
        const body = JSON.parse(res.body) as { data: string; json: unknown; headers: Record<string, string> };
        assert.equal(body.data, '{"a": [1, 2]}');
        assert.deepEqual(body.json, { a: [1, 2] });
        assert.equal(body.headers['Transfer-Encoding'], 'chunked');
        assert.equal(body.headers['Content-Length'], undefined);

        // The connection stays usable after a chunked body.
        conn.write(get('/ip'));
        assert.equal((await conn.readResponse()).statusLine, 'HTTP/1.1 200 OK');
      } finally {
        conn.destroy();
      }
    });
  });

  it('sends no body bytes for HEAD, so the next response parses cleanly', async () => {
    await withServer(async (server) => {
      const conn = await RawConnection.open(server.address.port);
      try {
        conn.write(`HEAD /get HTTP/1.1\r\nHost: httpbin\r\n\r\n`);
        const head = await conn.readResponse(true);
        assert.equal(head.statusLine, 'HTTP/1.1 200 OK');
        assert.ok(Number(head.headers.get('content-length')) > 0);
        conn.write(get('/get'));
        const full = await conn.readResponse();
        assert.equal(full.headers.get('content-length'), head.headers.get('content-length'));
        assert.equal(conn.pendingBytes(), 0);
      } finally {
        conn.destroy();
      }
    });
  });

  it('closes after answering a Connection: close request', async () => {
    await withServer(async (server) => {
      const conn = await RawConnection.open(server.address.port);
      conn.write(get('/get', 'Connection: close\r\n'));
      const res = await conn.readResponse();
      assert.equal(res.headers.get('connection'), 'close');
      await conn.waitClosed();
    });
  });

  it('falls back to the bound address for url when Host is missing (HTTP/1.0)', async () => {
    await withServer(async (server) => {
      const conn = await RawConnection.open(server.address.port);
      conn.write('GET /get HTTP/1.0\r\n\r\n');
      const res = await conn.readResponse();
      assert.match(res.statusLine, /^HTTP\/1\.[01] 200 OK$/); // Node always answers 1.1, gunicorn echoes 1.0
      assert.equal((JSON.parse(res.body) as { url: string }).url, `http://127.0.0.1:${server.address.port}/get`);
      await conn.waitClosed();
    });
  });
});
