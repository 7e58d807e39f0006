/**
 * Raw bytes over real sockets against a real engine (security-rules.md §4, §5, §11 rules 1 and 8):
 * what the policy saw is what the upstream received, and every refused request closes the
 * connection with nothing reaching the upstream.
 */
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { rawExchange, startEngine, type EngineUnderTest } from '../test-support/engine-harness.js';

const get = (target: string, extra = ''): string => `GET ${target} HTTP/1.1\r\nHost: echo.demo\r\n${extra}Connection: close\r\n\r\n`;

/** Sends `bytes`, expects `status`, a closed connection and nothing at the upstream. */
async function refused(e: EngineUnderTest, bytes: string, status: number): Promise<void> {
  const r = await rawExchange(e.port, bytes);
  assert.deepEqual(r.statuses, [status], r.text);
  assert.ok(r.closed, 'the connection closes');
  assert.match(r.text, /\r\nconnection: close\r\n/i);
  assert.equal(e.policySaw.length, 0, `no chain ran, saw ${JSON.stringify(e.policySaw)}`);
  assert.equal(e.upstream.bytes, 0, 'nothing reached the upstream');
}

describe('engine: one normalized path for policy, routing and upstream (§4, §11 rule 1)', () => {
  let e: EngineUnderTest;
  before(async () => (e = await startEngine(false)));
  after(async () => e.close());
  beforeEach(() => e.reset());

  // a DENY on /admin and /admin/* cannot be bypassed through spelling
  for (const target of ['/admin', '/%61dmin', '//admin', '/x/../admin', '/%2e%2e/admin', '/admin%2Fsecret', '/x/..%2Fadmin', '/\\admin', '/admin#frag', '/v1/..;/admin', '///admin/x', '/./admin', '/%2F/admin']) {
    it(`denies ${JSON.stringify(target)}: the policy sees the normalized path`, async () => {
      const r = await rawExchange(e.port, get(target));
      assert.deepEqual(r.statuses, [403], r.text);
      assert.ok(e.policySaw[0] === '/admin' || e.policySaw[0]!.startsWith('/admin/'), e.policySaw[0]);
      assert.equal(e.upstream.bytes, 0);
    });
  }

  // §4: case and `;` parameters are not normalized; what the policy matched is exactly what is forwarded
  for (const [target, want] of [
    ['/admin;x', '/admin;x'],
    ['/ADMIN', '/ADMIN'],
    ['/Admin/x', '/Admin/x'],
    ['/a/./b/../c?x=%2F..//#f', '/a/c?x=%2F..//'],
    ['/%7e%41%2d', '/~A-'],
    ['/a%3bb', '/a%3Bb'],
    ['/a//b/', '/a/b/'],
    ['/%252F', '/%252F'],
  ] as const) {
    it(`forwards ${JSON.stringify(target)} as ${want}, the string the policy saw`, async () => {
      const r = await rawExchange(e.port, get(target));
      assert.deepEqual(r.statuses, [200], r.text);
      assert.deepEqual(e.policySaw, [want]);
      assert.deepEqual(
        e.upstream.seen.map((s) => s.url),
        [want],
      );
    });
  }

  for (const [target, status] of [
    ['/%00', 400],
    ['/admin%00', 400],
    ['/a%zz', 400],
    ['/a%2', 400],
    [`/${'a'.repeat(9000)}`, 414],
  ] as const) {
    it(`refuses ${JSON.stringify(target.slice(0, 20))} with ${status} and closes`, () => refused(e, get(target), status));
  }

  it('authorizes each pipelined request on its own (§5)', async () => {
    const r = await rawExchange(e.port, `GET /ok HTTP/1.1\r\nHost: a\r\n\r\nGET /%61dmin HTTP/1.1\r\nHost: a\r\n\r\nGET /ok2 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`);
    assert.deepEqual(r.statuses, [200, 403, 200], r.text);
    assert.deepEqual(
      e.upstream.seen.map((s) => s.url),
      ['/ok', '/ok2'],
    );
  });

  it('sends the normalized, lower-case authority upstream as Host', async () => {
    const r = await rawExchange(e.port, 'GET /x HTTP/1.1\r\nHost: Echo.DEMO:8080\r\nConnection: close\r\n\r\n');
    assert.deepEqual(r.statuses, [200], r.text);
    assert.deepEqual(e.authoritySaw, ['echo.demo:8080']);
    assert.equal(e.upstream.seen[0]!.headers.host, 'echo.demo:8080');
  });
});

describe('engine: request-target forms per listener (RFC 9112 §3.2, §5)', () => {
  let inbound: EngineUnderTest;
  let proxy: EngineUnderTest;
  before(async () => {
    inbound = await startEngine(false);
    proxy = await startEngine(true);
  });
  after(async () => {
    await inbound.close();
    await proxy.close();
  });
  beforeEach(() => {
    inbound.reset();
    proxy.reset();
  });

  it('accepts absolute-form on an inbound listener: the target authority, canonical, is Host for policy and upstream', async () => {
    const r = await rawExchange(inbound.port, 'GET http://Svc.Demo./a//b HTTP/1.1\r\nHost: other.demo\r\nConnection: close\r\n\r\n');
    assert.deepEqual(r.statuses, [200], r.text);
    assert.deepEqual(inbound.authoritySaw, ['svc.demo']);
    assert.deepEqual(inbound.policySaw, ['/a/b']);
    assert.equal(inbound.upstream.seen[0]!.url, '/a/b');
    assert.equal(inbound.upstream.seen[0]!.headers.host, 'svc.demo');
  });
  it('gives an HTTP/1.0 absolute-form request without Host the target authority as Host', async () => {
    const r = await rawExchange(inbound.port, 'GET http://svc.demo:8080/x HTTP/1.0\r\n\r\n');
    assert.deepEqual(r.statuses, [200], r.text);
    assert.deepEqual(inbound.authoritySaw, ['svc.demo:8080']);
    assert.equal(inbound.upstream.seen[0]!.headers.host, 'svc.demo:8080');
  });
  it('refuses an absolute-form target with another scheme inbound', () => refused(inbound, get('ftp://echo.demo/x'), 400));
  it('refuses GET * (asterisk-form is for OPTIONS only)', () => refused(inbound, get('*'), 400));
  it('refuses POST * on the proxy too', () => refused(proxy, 'POST * HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n', 400));

  it('serves OPTIONS *', async () => {
    const r = await rawExchange(inbound.port, get('*').replace('GET', 'OPTIONS'));
    assert.deepEqual(r.statuses, [200], r.text);
    assert.equal(inbound.upstream.seen[0]!.url, '*');
  });

  it('normalizes an absolute-form target on the proxy and uses its authority', async () => {
    const r = await rawExchange(proxy.port, 'GET http://Svc.Demo:8080/a/..//admin/../b?q=1#f HTTP/1.1\r\nHost: svc.demo:8080\r\nConnection: close\r\n\r\n');
    assert.deepEqual(r.statuses, [200], r.text);
    assert.deepEqual(proxy.policySaw, ['/b?q=1']);
    assert.equal(proxy.upstream.seen[0]!.url, '/b?q=1');
    assert.equal(proxy.upstream.seen[0]!.headers.host, 'svc.demo:8080');
  });

  it('uses the absolute-form authority over a different Host, for policy and upstream alike', async () => {
    const r = await rawExchange(proxy.port, 'GET http://other.demo/x HTTP/1.1\r\nHost: secret.demo\r\nConnection: close\r\n\r\n');
    assert.deepEqual(r.statuses, [200], r.text);
    assert.deepEqual(proxy.authoritySaw, ['other.demo']);
    assert.equal(proxy.upstream.seen[0]!.headers.host, 'other.demo');
  });

  it('denies /admin reached through an absolute-form spelling', async () => {
    const r = await rawExchange(proxy.port, 'GET http://svc.demo//%61dmin HTTP/1.1\r\nHost: svc.demo\r\nConnection: close\r\n\r\n');
    assert.deepEqual(r.statuses, [403], r.text);
    assert.equal(proxy.upstream.bytes, 0);
  });

  it('refuses userinfo in an absolute-form authority', () => refused(proxy, 'GET http://user@svc.demo/x HTTP/1.1\r\nHost: svc.demo\r\n\r\n', 400));
  it('refuses an https absolute-form target', () => refused(proxy, 'GET https://svc.demo/x HTTP/1.1\r\nHost: svc.demo\r\n\r\n', 400));
  it('refuses CONNECT without an authority-form target', () => refused(proxy, 'CONNECT /x HTTP/1.1\r\nHost: svc.demo:443\r\n\r\n', 400));
});

describe('engine: framing checks the proxy adds on top of llhttp (§5, §11 rule 8)', () => {
  let e: EngineUnderTest;
  before(async () => (e = await startEngine(false)));
  after(async () => e.close());
  beforeEach(() => e.reset());

  const cases: readonly (readonly [string, string, number])[] = [
    ['duplicate Host', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400],
    ['duplicate Host, differing in case only', 'GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n', 400],
    ['invalid Host', 'GET / HTTP/1.1\r\nHost: admin.local .evil\r\n\r\n', 400],
    ['Host with userinfo', 'GET / HTTP/1.1\r\nHost: u@admin.local\r\n\r\n', 400],
    ['empty Host', 'GET / HTTP/1.1\r\nHost:\r\n\r\n', 400],
    ['HTTP/0.9 request line', 'GET /get\r\n\r\n', 400],
    ['HTTP/2.0 request line', 'GET / HTTP/2.0\r\nHost: a\r\n\r\n', 400],
    ['empty Transfer-Encoding', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['Transfer-Encoding: gzip, chunked', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n', 501],
    ['TE.TE: an unknown coding and chunked on two lines', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 501],
    ['Transfer-Encoding in HTTP/1.0', 'POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
    ['header name with an underscore', 'GET / HTTP/1.1\r\nHost: a\r\nX_Forwarded_Client_Cert: By=spiffe://x\r\n\r\n', 400],
    ['duplicate Authorization', 'GET / HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer a\r\nAuthorization: Bearer b\r\n\r\n', 400],
    ['duplicate Content-Type', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\nContent-Type: application/json\r\nContent-Length: 0\r\n\r\n', 400],
    ['more than 100 header fields', `GET / HTTP/1.1\r\nHost: a\r\n${Array.from({ length: 100 }, (_, i) => `X-H${i}: v\r\n`).join('')}\r\n`, 431],
    ['percent-encoded NUL in the path', 'GET /a%00 HTTP/1.1\r\nHost: a\r\n\r\n', 400],
  ];
  for (const [name, bytes, status] of cases) it(`refuses ${name} with ${status} and closes`, () => refused(e, bytes, status));

  it('takes the HTTP/2 preface as h2c (engine/h2.ts): an HTTP/2 SETTINGS frame back, no HTTP/1 answer, nothing upstream', async () => {
    const r = await rawExchange(e.port, Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'), 500);
    assert.deepEqual(r.statuses, [], r.text);
    // a frame header: 24-bit length, then the type; SETTINGS is 0x4
    assert.equal(r.text.charCodeAt(3), 4, JSON.stringify(r.text.slice(0, 16)));
    assert.equal(e.policySaw.length, 0);
    assert.equal(e.upstream.bytes, 0);
  });

  it('a bare "PRI" request line that is not the preface is still refused as HTTP/1.1', () => refused(e, `PRI / HTTP/1.1\r\nHost: a\r\n\r\n`, 400));

  it('serves exactly 100 header fields', async () => {
    const r = await rawExchange(e.port, `GET / HTTP/1.1\r\nHost: a\r\n${Array.from({ length: 98 }, (_, i) => `X-H${i}: v\r\n`).join('')}Connection: close\r\n\r\n`);
    assert.deepEqual(r.statuses, [200], r.text);
  });

  // §5 says llhttp refuses OWS before the coding; 9.3.1 here trims it, and both sides agree on chunked
  it('serves Transfer-Encoding with OWS before chunked, de-chunked and re-framed', async () => {
    const r = await rawExchange(e.port, 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \t chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n');
    assert.deepEqual(r.statuses, [200], r.text);
    assert.equal(e.upstream.seen[0]!.body, 'abc');
  });

  it('serves Transfer-Encoding: chunked in any case', async () => {
    const r = await rawExchange(e.port, 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n');
    assert.deepEqual(r.statuses, [200], r.text);
    assert.equal(e.upstream.seen[0]!.body, 'abc');
  });

  it('serves an h2c upgrade as plain HTTP/1.1, strips Upgrade and HTTP2-Settings, and parses what follows', async () => {
    const r = await rawExchange(
      e.port,
      'POST /one HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\nContent-Length: 3\r\n\r\nabc' +
        'GET /two HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
    );
    assert.deepEqual(r.statuses, [200, 200], r.text);
    assert.doesNotMatch(r.text, /101 Switching/);
    assert.deepEqual(
      e.upstream.seen.map((s) => s.url),
      ['/one', '/two'],
    );
    const h = e.upstream.seen[0]!.headers;
    assert.equal(h['upgrade'], undefined);
    assert.equal(h['http2-settings'], undefined);
    assert.equal(e.upstream.seen[0]!.body, 'abc');
  });

  it('answers the requests before a framing error, then closes without running the bad one', async () => {
    const r = await rawExchange(e.port, 'GET /first HTTP/1.1\r\nHost: a\r\n\r\nGET /second HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\nGET /third HTTP/1.1\r\nHost: a\r\n\r\n');
    assert.equal(r.statuses[0], 200, r.text);
    assert.ok(r.closed);
    assert.deepEqual(
      e.upstream.seen.map((s) => s.url),
      ['/first'],
    );
  });
});

describe('engine: what llhttp already refuses still closes with nothing upstream (§5)', () => {
  let e: EngineUnderTest;
  before(async () => (e = await startEngine(false)));
  after(async () => e.close());
  beforeEach(() => e.reset());

  const smuggled = 'GET /admin HTTP/1.1\r\nHost: a\r\n\r\n';
  const cases: readonly (readonly [string, string, number])[] = [
    ['CL.TE', `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`, 400],
    ['TE.CL', `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n5c\r\n${smuggled}\r\n0\r\n\r\n`, 400],
    ['CL: 0 with TE', `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 400],
    ['TE.TE: chunked, identity', `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n`, 400],
    ['TE.TE: chunked twice', `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 400],
    ['TE.TE: quoted chunked', `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: "chunked"\r\n\r\n0\r\n\r\n`, 400],
    ['TE.TE: obs-fold', `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n`, 400],
    ['TE.TE: vertical tab', `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \x0bchunked\r\n\r\n0\r\n\r\n`, 400],
    // llhttp refuses `identity` only after the head callback; the proxy's own check answers first (501)
    ['Transfer-Encoding: identity', `POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n${smuggled}`, 501],
    ['duplicate identical Content-Length', `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc`, 400],
    ['duplicate differing Content-Length', `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 40\r\n\r\nabc`, 400],
    ['Content-Length list', `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc`, 400],
    ['Content-Length +3', `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc`, 400],
    ['Content-Length 0x3', `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x3\r\n\r\nabc`, 400],
    ['Content-Length -1', `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n`, 400],
    ['Content-Length overflow', `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n`, 400],
    ['whitespace before the colon', `POST / HTTP/1.1\r\nHost: a\r\nContent-Length : 3\r\n\r\nabc`, 400],
    ['obs-fold', `GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n 2\r\n\r\n`, 400],
    ['leading space before the first header', `GET / HTTP/1.1\r\n Host: a\r\n\r\n`, 400],
    ['header line without a colon', `GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n`, 400],
    ['bare LF line ends', `GET / HTTP/1.1\nHost: a\n\n`, 400],
    ['bare CR in a header', `GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r2\r\n\r\n`, 400],
    ['NUL in a header value', `GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\x002\r\n\r\n`, 400],
    ['NUL in the target', `GET /a\x00b HTTP/1.1\r\nHost: a\r\n\r\n`, 400],
    ['raw non-ASCII in the target', `GET /caf\xe9 HTTP/1.1\r\nHost: a\r\n\r\n`, 400],
    ['a space inside the target', `GET /a b HTTP/1.1\r\nHost: a\r\n\r\n`, 400],
    ['a lower-case method', `get / HTTP/1.1\r\nHost: a\r\n\r\n`, 400],
    ['a tab as request-line separator', `GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n`, 400],
    ['a header over 64 KiB', `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(70_000)}\r\n\r\n`, 431],
    ['chunk size 0x3', `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0x3\r\nabc\r\n0\r\n\r\n`, 400],
    ['chunk size -3', `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n-3\r\nabc\r\n0\r\n\r\n`, 400],
    ['chunk size with trailing space', `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3 \r\nabc\r\n0\r\n\r\n`, 400],
    ['chunk size overflow', `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\nabc\r\n0\r\n\r\n`, 400],
    ['empty chunk extension', `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;\r\nabc\r\n0\r\n\r\n`, 400],
    ['chunk data longer than declared', `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcdef\r\n0\r\n\r\n`, 400],
    ['bare LF after the chunk size', `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n`, 400],
    ['bare LF after the chunk data', `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\n0\r\n\r\n`, 400],
    ['Content-Length in trailers', `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nContent-Length: 3\r\n\r\nabc`, 400],
    ['HTTP/1.2', `GET / HTTP/1.2\r\nHost: a\r\n\r\n`, 400],
    ['a missing Host', `GET / HTTP/1.1\r\n\r\n`, 400],
  ];
  for (const [name, bytes, status] of cases) it(`refuses ${name} with ${status} and closes`, () => refused(e, bytes, status));

  it('takes the HTTP/2 preface as h2c (engine/h2.ts): an HTTP/2 SETTINGS frame back, no HTTP/1 answer, nothing upstream', async () => {
    const r = await rawExchange(e.port, Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'), 500);
    assert.deepEqual(r.statuses, [], r.text);
    // a frame header: 24-bit length, then the type; SETTINGS is 0x4
    assert.equal(r.text.charCodeAt(3), 4, JSON.stringify(r.text.slice(0, 16)));
    assert.equal(e.policySaw.length, 0);
    assert.equal(e.upstream.bytes, 0);
  });

  it('a bare "PRI" request line that is not the preface is still refused as HTTP/1.1', () => refused(e, `PRI / HTTP/1.1\r\nHost: a\r\n\r\n`, 400));

  it('CL.TE after a good request: the good one is answered, the smuggled one never forwarded', async () => {
    const r = await rawExchange(e.port, `GET /ok HTTP/1.1\r\nHost: a\r\n\r\nPOST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`);
    assert.equal(r.statuses[0], 200, r.text);
    assert.ok(r.closed);
    assert.deepEqual(
      e.upstream.seen.map((s) => s.url),
      ['/ok'],
    );
  });

  it('a chunked body that goes bad after the request started is never delivered whole, and the connection closes', async () => {
    const c = connect({ host: '127.0.0.1', port: e.port });
    const closed = new Promise<void>((r) => c.on('close', () => r()));
    c.on('error', () => undefined);
    let got = '';
    c.on('data', (d: Buffer) => (got += d.toString('latin1')));
    c.write('POST /stream HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n');
    // the head parsed cleanly, so the request started streaming upstream; then a bad chunk arrives
    for (let i = 0; i < 100 && e.policySaw.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(e.policySaw, ['/stream']);
    c.write('0x3\r\nabc\r\n0\r\n\r\n');
    const outcome = await Promise.race([closed.then(() => 'closed'), new Promise((r) => setTimeout(() => r('still open'), 3000))]);
    c.destroy();
    assert.equal(outcome, 'closed');
    // the request had started, so its answer is the forwarder's (502, upstream request aborted), with close
    assert.match(got, /^HTTP\/1\.1 502 [^]*\r\nconnection: close\r\n/);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(e.upstream.seen, [], 'the upstream never saw a complete request');
  });
});
