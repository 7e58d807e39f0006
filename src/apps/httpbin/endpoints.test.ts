/** Endpoint behaviour over real sockets: shapes, headers, methods, status codes, delays. */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request, withServer, type TestResponse } from './client-for-tests.js';
import { startHttpbin, type HttpbinServer } from './index.js';
import { delaySeconds } from './routes.js';

let server: HttpbinServer;
const logLines: string[] = [];

before(async () => {
  server = await startHttpbin({ host: '127.0.0.1', port: 0, log: (line) => logLines.push(line) });
});
after(() => server.close());

const send = (req: Parameters<typeof request>[1]): Promise<TestResponse> => request(server.address.port, req);
const json = (res: TestResponse): Record<string, unknown> => JSON.parse(res.body) as Record<string, unknown>;

function assertGunicornHeaders(res: TestResponse, method = 'GET'): void {
  assert.equal(res.headers.server, 'gunicorn/19.9.0');
  assert.equal(res.headers['access-control-allow-credentials'], 'true');
  assert.equal(res.headers['keep-alive'], undefined, 'gunicorn sends no Keep-Alive header');
  if (method !== 'HEAD') assert.equal(Number(res.headers['content-length']), res.bodyBytes.length);
}

describe('GET /get', () => {
  it('prints Flask-style pretty JSON with the request fields', async () => {
    const res = await send({ path: '/get?a=1&b=two', headers: { 'User-Agent': 'ua/1' } });
    const port = server.address.port;
    assert.equal(res.status, 200);
    assert.equal(res.statusMessage, 'OK');
    assert.equal(res.headers['content-type'], 'application/json');
    assert.equal(res.headers['access-control-allow-origin'], '*');
    assertGunicornHeaders(res);
    assert.equal(
      res.body,
      '{\n' +
        '  "args": {\n    "a": "1", \n    "b": "two"\n  }, \n' +
        '  "headers": {\n' +
        '    "Connection": "close", \n' +
        `    "Host": "127.0.0.1:${port}", \n` +
        '    "User-Agent": "ua/1"\n' +
        '  }, \n' +
        '  "origin": "127.0.0.1", \n' +
        `  "url": "http://127.0.0.1:${port}/get?a=1&b=two"\n` +
        '}\n',
    );
  });

  it('gives repeated query keys as lists', async () => {
    const body = json(await send({ path: '/get?x=1&x=2&y=&z=a+b%21' }));
    assert.deepEqual(body.args, { x: ['1', '2'], y: '', z: 'a b!' });
  });

  it('echoes Origin into access-control-allow-origin', async () => {
    const res = await send({ path: '/get', headers: { Origin: 'http://app.example' } });
    assert.equal(res.headers['access-control-allow-origin'], 'http://app.example');
  });

  it('builds url from Host and the forwarded scheme', async () => {
    const body = json(await send({ path: '/get?q=a/b', headers: { Host: 'httpbin:14001', 'X-Forwarded-Proto': 'https' } }));
    assert.equal(body.url, 'https://httpbin:14001/get?q=a%2Fb');
  });
});

describe('/headers', () => {
  it('title-cases each dash-separated word and hides proxy headers', async () => {
    const res = await send({
      path: '/headers',
      headers: {
        'x-canary-tag': 'v2',
        'user-agent': 'curl/7.85.0-DEV',
        serviceidentity: 'sleep.sleep',
        'x-iam-token': 'tok',
        'X-B3-TRACEID': 'abc',
        'x-forwarded-for': '10.0.0.1',
        'x-request-id': 'r1',
        'x-dup': ['a', 'b'],
      },
    });
    const headers = json(res).headers as Record<string, string>;
    assert.equal(headers['X-Canary-Tag'], 'v2');
    assert.equal(headers['User-Agent'], 'curl/7.85.0-DEV');
    assert.equal(headers.Serviceidentity, 'sleep.sleep');
    assert.equal(headers['X-Iam-Token'], 'tok');
    assert.equal(headers['X-B3-Traceid'], 'abc');
    assert.equal(headers['X-Dup'], 'a,b', 'gunicorn joins repeated headers with a bare comma');
    assert.equal(headers['X-Forwarded-For'], undefined);
    assert.equal(headers['X-Request-Id'], undefined);
  });

  it('shows the hidden headers when the query has show_env', async () => {
    const res = await send({ path: '/headers?show_env=1', headers: { 'x-forwarded-for': '10.0.0.1' } });
    assert.equal((json(res).headers as Record<string, string>)['X-Forwarded-For'], '10.0.0.1');
  });
});

describe('/ip and /user-agent', () => {
  it('reports the peer address, or the X-Forwarded-For chain', async () => {
    assert.deepEqual(json(await send({ path: '/ip' })), { origin: '127.0.0.1' });
    const chained = await send({ path: '/ip', headers: { 'X-Forwarded-For': ['1.2.3.4', '10.0.0.1,127.0.0.6'] } });
    assert.deepEqual(json(chained), { origin: '1.2.3.4, 10.0.0.1, 127.0.0.6' });
  });

  it('reports the User-Agent, or null without one', async () => {
    assert.deepEqual(json(await send({ path: '/user-agent', headers: { 'User-Agent': 'curl/8' } })), {
      'user-agent': 'curl/8',
    });
    assert.deepEqual(json(await send({ path: '/user-agent' })), { 'user-agent': null });
  });
});

describe('body endpoints', () => {
  it('/anything accepts any method and reports it', async () => {
    for (const method of ['GET', 'PUT', 'PROPFIND']) {
      const body = json(await send({ method, path: '/anything/some/path?k=v' }));
      assert.equal(body.method, method);
      assert.deepEqual(Object.keys(body), ['args', 'data', 'files', 'form', 'headers', 'json', 'method', 'origin', 'url']);
      assert.match(String(body.url), /\/anything\/some\/path\?k=v$/);
    }
  });

  it('/anything/ with nothing after the slash is a 404, like Flask', async () => {
    assert.equal((await send({ path: '/anything/' })).status, 404);
  });

  it('/post parses a JSON body into json, keeping Python number forms', async () => {
    const res = await send({
      method: 'POST',
      path: '/post',
      headers: { 'Content-Type': 'application/json' },
      body: '{"name":"tessera","n":1.0,"big":12345678901234567890}',
    });
    const body = json(res);
    assert.deepEqual(Object.keys(body), ['args', 'data', 'files', 'form', 'headers', 'json', 'origin', 'url']);
    assert.equal(body.data, '{"name":"tessera","n":1.0,"big":12345678901234567890}');
    assert.match(res.body, /"big": 12345678901234567890, \n {4}"n": 1\.0, \n {4}"name": "tessera"\n/);
  });

  it('/post parses urlencoded bodies into form and leaves data empty', async () => {
    const body = json(
      await send({
        method: 'POST',
        path: '/post',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: 'a=1&a=2&b=x+y',
      }),
    );
    assert.deepEqual(body.form, { a: ['1', '2'], b: 'x y' });
    assert.equal(body.data, '');
    assert.equal(body.json, null);
  });

  it('/put parses multipart files and fields', async () => {
    const boundary = 'XyZ';
    const multipart =
      `--${boundary}\r\nContent-Disposition: form-data; name="field"\r\n\r\nvalue\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="upload"; filename="a.txt"\r\n` +
      `Content-Type: text/plain\r\n\r\nfile text\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="bin"; filename="b.bin"\r\n` +
      `Content-Type: application/octet-stream\r\n\r\n`;
    const bytes = Buffer.concat([
      Buffer.from(multipart),
      Buffer.from([0xff, 0x00, 0xfe]),
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const body = json(
      await send({
        method: 'PUT',
        path: '/put',
        headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}` },
        body: bytes,
      }),
    );
    assert.deepEqual(body.form, { field: 'value' });
    assert.deepEqual(body.files, { upload: 'file text', bin: 'data:application/octet-stream;base64,/wD+' });
    assert.equal(body.data, '');
  });

  it('/patch keeps other bodies as text and binary as a data URL', async () => {
    const text = json(await send({ method: 'PATCH', path: '/patch', headers: { 'Content-Type': 'text/plain' }, body: 'hello' }));
    assert.equal(text.data, 'hello');
    assert.equal(text.json, null);
    const binary = json(await send({ method: 'PATCH', path: '/patch', body: Buffer.from([0xc3, 0x28]) }));
    assert.equal(binary.data, 'data:application/octet-stream;base64,wyg=');
  });

  it('/delete answers DELETE', async () => {
    const res = await send({ method: 'DELETE', path: '/delete?id=7' });
    assert.equal(res.status, 200);
    assert.deepEqual(json(res).args, { id: '7' });
  });
});

describe('method restrictions', () => {
  const cases: Array<[string, string, string]> = [
    ['POST', '/get', 'GET, HEAD, OPTIONS'],
    ['GET', '/post', 'OPTIONS, POST'],
    ['HEAD', '/put', 'OPTIONS, PUT'],
    ['POST', '/patch', 'OPTIONS, PATCH'],
    ['GET', '/delete', 'DELETE, OPTIONS'],
    ['PUT', '/headers', 'GET, HEAD, OPTIONS'],
    ['DELETE', '/response-headers', 'GET, HEAD, OPTIONS, POST'],
  ];
  for (const [method, path, allow] of cases) {
    it(`${method} ${path} is 405 with Allow: ${allow}`, async () => {
      const res = await send({ method, path });
      assert.equal(res.status, 405);
      assert.equal(res.statusMessage, 'METHOD NOT ALLOWED');
      assert.equal(res.headers.allow, allow);
      assertGunicornHeaders(res, method);
    });
  }

  it('OPTIONS is answered automatically with CORS preflight headers', async () => {
    const res = await send({
      method: 'OPTIONS',
      path: '/post',
      headers: { Origin: 'http://a', 'Access-Control-Request-Headers': 'x-token' },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.allow, 'OPTIONS, POST');
    assert.equal(res.headers['access-control-allow-methods'], 'GET, POST, PUT, DELETE, PATCH, OPTIONS');
    assert.equal(res.headers['access-control-allow-headers'], 'x-token');
    assert.equal(res.headers['access-control-max-age'], '3600');
  });

  it('unknown paths are werkzeug 404 pages', async () => {
    const res = await send({ path: '/nope' });
    assert.equal(res.status, 404);
    assert.equal(res.statusMessage, 'NOT FOUND');
    assert.match(res.body, /<title>404 Not Found<\/title>/);
  });
});

describe('/status', () => {
  it('418 is a teapot with x-more-info and no content-type', async () => {
    const res = await send({ path: '/status/418' });
    assert.equal(res.status, 418);
    assert.equal(res.statusMessage, "I'M A TEAPOT");
    assert.match(res.body, /-=\[ teapot \]=-/);
    assert.equal(res.headers['x-more-info'], 'http://tools.ietf.org/html/rfc2324');
    assert.equal(res.headers['content-type'], undefined);
    assertGunicornHeaders(res);
  });

  it('302 redirects to /redirect/1 with an empty body', async () => {
    const res = await send({ method: 'POST', path: '/status/302' });
    assert.equal(res.status, 302);
    assert.equal(res.statusMessage, 'FOUND');
    assert.equal(res.headers.location, '/redirect/1');
    assert.equal(res.headers['content-length'], '0');
  });

  it('plain codes are empty HTML responses; lists pick one of their codes', async () => {
    const res = await send({ path: '/status/503' });
    assert.equal(res.status, 503);
    assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(res.body, '');
    const seen = new Set<number>();
    for (let i = 0; i < 20; i++) seen.add((await send({ path: '/status/201,202,203:0' })).status);
    assert.ok([...seen].every((code) => code === 201 || code === 202), `picked ${[...seen]}`);
  });

  it('rejects codes that are not integers', async () => {
    const res = await send({ path: '/status/abc' });
    assert.equal(res.status, 400);
    assert.equal(res.body, 'Invalid status code');
  });
});

describe('/delay', () => {
  it('waits n seconds then answers like /get plus form fields', async () => {
    const started = Date.now();
    const res = await send({ method: 'POST', path: '/delay/0.2?x=1' });
    assert.ok(Date.now() - started >= 190, 'delayed');
    assert.deepEqual(Object.keys(json(res)), ['args', 'data', 'files', 'form', 'headers', 'origin', 'url']);
  });

  it('is bounded at 10 seconds and rejects what Python float() or sleep() would', () => {
    assert.equal(delaySeconds('100'), 10);
    assert.equal(delaySeconds('inf'), 10);
    assert.equal(delaySeconds('1.5'), 1.5);
    assert.equal(delaySeconds('-1'), undefined);
    assert.equal(delaySeconds('nan'), undefined);
    assert.equal(delaySeconds('soon'), undefined);
  });

  it('answers 500 for an unusable delay', async () => {
    assert.equal((await send({ path: '/delay/soon' })).status, 500);
  });

  it('does not keep a closing server waiting for a long delay', async () => {
    await withServer(async (own) => {
      const pending = request(own.address.port, { path: '/delay/60' }).catch(() => 'aborted');
      await new Promise((resolve) => setTimeout(resolve, 100));
      const started = Date.now();
      await own.close();
      assert.ok(Date.now() - started < 1000, 'close() returned promptly');
      assert.equal(await pending, 'aborted');
    });
  });
});

describe('/response-headers', () => {
  it('turns query params into headers and lists them in the body', async () => {
    for (const method of ['GET', 'POST']) {
      const res = await send({ method, path: '/response-headers?X-Canary=v2&multi=1&multi=2' });
      assert.equal(res.headers['x-canary'], 'v2');
      assert.equal(res.headers.multi, '1, 2');
      assert.deepEqual(json(res), {
        'Content-Length': String(res.bodyBytes.length),
        'Content-Type': 'application/json',
        'X-Canary': 'v2',
        multi: ['1', '2'],
      });
    }
  });
});

describe('/ and HEAD', () => {
  it('serves an HTML landing page', async () => {
    const res = await send({ path: '/' });
    assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
    assert.match(res.body, /<html/);
  });

  // (/anything is left out: its body names the method, so HEAD's length differs by design.)
  for (const path of ['/', '/get', '/headers', '/ip', '/user-agent', '/response-headers?a=b', '/status/418']) {
    it(`HEAD ${path} has GET's headers and no body`, async () => {
      const head = await send({ method: 'HEAD', path, headers: { 'User-Agent': 'same' } });
      const get = await send({ method: 'GET', path, headers: { 'User-Agent': 'same' } });
      assert.equal(head.status, get.status);
      assert.equal(head.bodyBytes.length, 0);
      assert.equal(head.headers['content-length'], get.headers['content-length']);
      assert.equal(head.headers['content-type'], get.headers['content-type']);
    });
  }
});

describe('access log', () => {
  it('writes one gunicorn-format line per request', async () => {
    const before = logLines.length;
    await send({ path: '/get?z=1', headers: { 'User-Agent': 'curl/7.85.0-DEV', Referer: 'http://r/' } });
    const line = logLines.slice(before).find((l) => l.includes('/get?z=1'));
    assert.match(
      line ?? '',
      /^127\.0\.0\.1 - - \[\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d \+0000\] "GET \/get\?z=1 HTTP\/1\.1" 200 \d+ "http:\/\/r\/" "curl\/7\.85\.0-DEV"$/,
    );
  });
});
