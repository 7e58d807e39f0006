/**
 * security-rules.md §11 rule 8 (strict HTTP/1.1 on top of llhttp), the parts framing.test.ts does not
 * already pin down, with raw bytes over real loopback sockets at both ends of a real engine:
 *   - framing is re-serialized upstream: the upstream never receives the client's own framing bytes
 *     (chunk extensions, chunk sizes, header whitespace, trailers, absolute-form);
 *   - the requests of one connection are each authorized on their own, also when a client tries to
 *     turn the connection into a raw tunnel with an Upgrade the upstream does not accept;
 *   - `insecureHTTPParser` is never used: nothing in the source turns it on, every llhttp instance
 *     is strict, and what only the lenient parser accepts is refused with 400 and a close.
 */
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHttpEngine } from './server.js';
import { Pool } from './client.js';
import { SidecarLog } from '../observability/log.js';
import { kTunnel, type Tunnelable } from '../modules/index.js';
import { UpstreamClient } from '../upstream/client.js';
import type { HttpContext } from '../chain/types.js';
import { rawExchange, startEngine, type EngineUnderTest } from '../test-support/engine-harness.js';

const listenOn = (s: Server | HttpServer): Promise<number> =>
  new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Closes a server after destroying every connection it accepted. */
function closer(server: Server): () => Promise<void> {
  const open = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    open.add(s);
    s.once('close', () => open.delete(s));
  });
  return async () => {
    for (const s of open) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  };
}

/** A TCP upstream that records the exact bytes it receives and answers every request head with a fixed 200. */
async function rawUpstream(): Promise<{ port: number; bytes: () => string; reset: () => void; close: () => Promise<void> }> {
  let got = '';
  const sockets = new Set<Socket>();
  const server = createNetServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    let pending = '';
    s.on('data', (d: Buffer) => {
      const text = d.toString('latin1');
      got += text;
      pending += text;
      // answer once per complete request (head, and a chunked body up to its terminating empty line)
      for (;;) {
        const head = pending.indexOf('\r\n\r\n');
        if (head < 0) return;
        const headText = pending.slice(0, head);
        let end = head + 4;
        if (/\r\ntransfer-encoding: chunked/i.test(headText)) {
          const last = pending.indexOf('\r\n0\r\n', head);
          if (last < 0) return;
          const close = pending.indexOf('\r\n\r\n', last + 2);
          if (close < 0) return;
          end = close + 4;
        } else {
          const cl = /\r\ncontent-length: (\d+)/i.exec(headText);
          if (cl) {
            end += Number(cl[1]);
            if (pending.length < end) return;
          }
        }
        pending = pending.slice(end);
        s.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
      }
    });
  });
  const port = await listenOn(server);
  return {
    port,
    bytes: () => got,
    reset: () => void (got = ''),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('rule 8: framing is re-serialized upstream (raw bytes at both ends)', () => {
  let up: Awaited<ReturnType<typeof rawUpstream>>;
  let engine: Server;
  let closeEngine: () => Promise<void>;
  let port = 0;
  let pool: Pool;
  before(async () => {
    up = await rawUpstream();
    pool = new Pool({ host: '127.0.0.1', port: up.port, timeoutMs: 5000, idleMs: 1000, maxIdle: 4 });
    const chain = async (ctx: HttpContext): Promise<void> => {
      const r = ctx.request;
      ctx.response = await pool.request({ method: r.method, path: r.path, authority: r.authority, headers: r.headers, httpVersion: r.httpVersion }, r.body);
    };
    engine = createHttpEngine({ direction: 'outbound', mountPoint: 'outbound-http', chain: () => chain, proxy: true, upstream: {} as UpstreamClient, log: new SidecarLog('error'), timeoutMs: 5000 });
    closeEngine = closer(engine);
    port = await listenOn(engine);
  });
  after(async () => {
    pool.close();
    await closeEngine();
    await up.close();
  });
  beforeEach(() => up.reset());

  it('a chunked body reaches the upstream without the client chunk extensions, chunk sizes or trailers', async () => {
    const r = await rawExchange(
      port,
      'POST /c HTTP/1.1\r\nHost: svc.demo\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n' +
        '3;ext="one"\r\nabc\r\n000002;y=2\r\nde\r\n0;last\r\nX-Trailer: smuggled\r\n\r\n',
    );
    assert.deepEqual(r.statuses, [200], r.text);
    const sent = up.bytes();
    assert.match(sent, /^POST \/c HTTP\/1\.1\r\n/);
    assert.doesNotMatch(sent, /ext=|y=2|;last|000002/, 'the client chunk framing is not forwarded');
    assert.doesNotMatch(sent, /X-Trailer|smuggled/i, 'client trailers are not forwarded');
    // whatever framing the proxy chose, the body decodes to what the client sent
    const body = sent.slice(sent.indexOf('\r\n\r\n') + 4);
    const decoded = /transfer-encoding: chunked/i.test(sent) ? dechunk(body) : body;
    assert.equal(decoded, 'abcde');
  });

  it('header lines are rewritten: optional whitespace trimmed, one line per field', async () => {
    const r = await rawExchange(port, 'GET /h HTTP/1.1\r\nHost: svc.demo\r\nX-Spaced:    v   \r\nX-Tab:\tw\t\r\nConnection: close\r\n\r\n');
    assert.deepEqual(r.statuses, [200], r.text);
    const sent = up.bytes();
    assert.match(sent, /\r\nx-spaced: v\r\n/i);
    assert.match(sent, /\r\nx-tab: w\r\n/i);
    assert.doesNotMatch(sent, /x-spaced: {2}|v {2}|\tw/i);
  });

  it('an absolute-form target is forwarded in origin form with the authority as Host', async () => {
    const r = await rawExchange(port, 'GET http://Svc.Demo:8080/a/../b?q=1 HTTP/1.1\r\nHost: svc.demo:8080\r\nConnection: close\r\n\r\n');
    assert.deepEqual(r.statuses, [200], r.text);
    const sent = up.bytes();
    assert.match(sent, /^GET \/b\?q=1 HTTP\/1\.1\r\n/);
    assert.match(sent, /\r\nhost: svc\.demo:8080\r\n/i);
    assert.doesNotMatch(sent, /http:\/\//i);
  });

  it('bytes after a Content-Length body are parsed as the next request, never forwarded as part of the first', async () => {
    const r = await rawExchange(
      port,
      'POST /one HTTP/1.1\r\nHost: svc.demo\r\nContent-Length: 3\r\n\r\nabcGET /two HTTP/1.1\r\nHost: svc.demo\r\nConnection: close\r\n\r\n',
    );
    assert.deepEqual(r.statuses, [200, 200], r.text);
    const sent = up.bytes();
    assert.deepEqual(
      [...sent.matchAll(/(GET|POST) \/\w+ HTTP\/1\.1\r\n/g)].map((m) => m[0].trim()),
      ['POST /one HTTP/1.1', 'GET /two HTTP/1.1'],
    );
    // the first request's body is exactly its three bytes, framed by the proxy
    assert.match(sent, /^POST \/one HTTP\/1\.1\r\n(?:[^\r\n]+\r\n)*?content-length: 3\r\n(?:[^\r\n]+\r\n)*\r\nabc(?:GET \/two|$)/i);
  });
});

/** Decodes a chunked body (the proxy's own framing, so strict). */
function dechunk(body: string): string {
  let out = '';
  let rest = body;
  for (;;) {
    const eol = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, eol), 16);
    if (size === 0) return out;
    out += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
}

describe('rule 8: an Upgrade the upstream refuses does not turn the connection into an unauthorized tunnel', () => {
  // The upstream is a plain node:http app with no 'upgrade' listener: it answers an Upgrade request
  // like any other (200, keep-alive), as §5 notes for h2c. Whatever the client sends next on that
  // connection is a new request, and it must be authorized like every request (§11 rule 8).
  let upstream: HttpServer;
  let upstreamPort = 0;
  const seen: string[] = [];
  const bodies: string[] = [];
  let engine: Server;
  let closeEngine: () => Promise<void>;
  let pool: Pool;
  let port = 0;
  let client: UpstreamClient;
  const policySaw: string[] = [];
  // the upstream behind /switch accepts the Upgrade (101, after 200 ms), then echoes
  let switching: Awaited<ReturnType<typeof switchingUpstream>>;
  before(async () => {
    upstream = createHttpServer((req, res) => {
      seen.push(req.url ?? '');
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString('latin1')));
      req.on('end', () => {
        bodies.push(body);
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 }).end('ok');
      });
    });
    upstreamPort = await listenOn(upstream);
    switching = await switchingUpstream(200);
    client = new UpstreamClient({ timeoutMs: 5000, tls: () => undefined });
    pool = new Pool({ host: '127.0.0.1', port: upstreamPort, timeoutMs: 5000, idleMs: 1000, maxIdle: 4 });
    const chain = async (ctx: HttpContext): Promise<void> => {
      const path = ctx.request.path.split('?')[0]!;
      policySaw.push(path);
      // the DENY policy of the harness: /admin and /admin/*
      if (path === '/admin' || path.startsWith('/admin/')) return ctx.respond(403, 'RBAC: access denied');
      const endpoint = `127.0.0.1:${path.startsWith('/switch') ? switching.port : upstreamPort}`;
      const tunnel = (ctx as HttpContext & Tunnelable)[kTunnel];
      if (ctx.upgrade && tunnel) {
        // what modules/http-load-balancing.ts does for an Upgrade
        ctx.upstream = endpoint;
        await tunnel(endpoint, undefined);
        return;
      }
      const r = ctx.request;
      ctx.response = await pool.request({ method: r.method, path: r.path, authority: r.authority, headers: r.headers, httpVersion: r.httpVersion }, r.body);
    };
    engine = createHttpEngine({ direction: 'inbound', mountPoint: 'inbound-http', chain: () => chain, proxy: false, upstream: client, log: new SidecarLog('error'), timeoutMs: 5000 });
    closeEngine = closer(engine);
    port = await listenOn(engine);
  });
  after(async () => {
    await client.close();
    await closeEngine();
    await switching.close();
    upstream.closeAllConnections();
    await new Promise<void>((r) => upstream.close(() => r()));
  });
  beforeEach(() => {
    seen.length = 0;
    bodies.length = 0;
    policySaw.length = 0;
    switching.reset();
  });

  it('a request sent after the upstream refused an Upgrade is authorized on its own: /admin never reaches the upstream', async () => {
    const c = connect({ host: '127.0.0.1', port });
    c.on('error', () => undefined);
    let got = '';
    c.on('data', (d: Buffer) => (got += d.toString('latin1')));
    c.write('GET /ws HTTP/1.1\r\nHost: echo.demo\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
    for (let i = 0; i < 100 && !got.includes('\r\n\r\n'); i++) await sleep(10);
    assert.match(got, /^HTTP\/1\.1 200 /, 'the upstream refused the upgrade with a plain 200');
    c.write('GET /admin/secret HTTP/1.1\r\nHost: echo.demo\r\n\r\n');
    await sleep(300);
    c.destroy();
    assert.ok(!seen.includes('/admin/secret'), `the denied path reached the upstream unauthorized: ${JSON.stringify(seen)}`);
  });

  it('the refused answer reaches the client whole, with connection: close, and the connection closes; bytes sent with the Upgrade head never reach the upstream', async () => {
    const r = await rawExchange(
      port,
      'GET /ws HTTP/1.1\r\nHost: echo.demo\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n' +
        'GET /admin/secret HTTP/1.1\r\nHost: echo.demo\r\nX-Payload: forged\r\n\r\n' +
        'GET /other HTTP/1.1\r\nHost: echo.demo\r\n\r\n',
      3000,
    );
    assert.deepEqual(r.statuses, [200], r.text);
    assert.match(r.text, /\r\nconnection: close\r\n\r\nok$/);
    assert.ok(r.closed, 'the connection closes after the refused Upgrade');
    assert.deepEqual(seen, ['/ws']);
    assert.deepEqual(policySaw, ['/ws']);
  });

  it('an Upgrade the policy denies gets its 403 and a close; nothing reaches the upstream and the bytes after it are never parsed', async () => {
    const r = await rawExchange(port, 'GET /admin/ws HTTP/1.1\r\nHost: echo.demo\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nGET /x HTTP/1.1\r\nHost: echo.demo\r\n\r\n', 3000);
    assert.deepEqual(r.statuses, [403], r.text);
    assert.ok(r.closed);
    assert.deepEqual(seen, []);
    assert.deepEqual(policySaw, ['/admin/ws']);
  });

  it('an Upgrade request with a body is served as plain HTTP/1.1: its body is forwarded, what follows is parsed and authorized as the next request', async () => {
    const r = await rawExchange(
      port,
      'POST /ws-body HTTP/1.1\r\nHost: echo.demo\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nContent-Length: 3\r\n\r\nabc' +
        'GET /admin/x HTTP/1.1\r\nHost: echo.demo\r\n\r\n' +
        'GET /after HTTP/1.1\r\nHost: echo.demo\r\nConnection: close\r\n\r\n',
      3000,
    );
    assert.deepEqual(r.statuses, [200, 403, 200], r.text);
    assert.doesNotMatch(r.text, /101 Switching/);
    assert.deepEqual(seen, ['/ws-body', '/after']);
    assert.deepEqual(bodies, ['abc', '']);
    assert.deepEqual(policySaw, ['/ws-body', '/admin/x', '/after']);
  });

  it('an Upgrade the upstream accepts (101) becomes a tunnel: client bytes sent before the 101 wait for it and follow it in order, then bytes flow both ways', async () => {
    const c = connect({ host: '127.0.0.1', port });
    c.on('error', () => undefined);
    let got = '';
    c.on('data', (d: Buffer) => (got += d.toString('latin1')));
    const until = async (cond: () => boolean, what: string): Promise<void> => {
      for (let i = 0; i < 300 && !cond(); i++) await sleep(10);
      assert.ok(cond(), `${what}: ${JSON.stringify(got)}`);
    };
    try {
      // early bytes in the same segment as the head, and in a later one, both before the upstream's 101 (200 ms)
      c.write('GET /switch HTTP/1.1\r\nHost: echo.demo\r\nConnection: Upgrade, X-Hop\r\nUpgrade: websocket\r\nX-Hop: 1\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\nearly-1;');
      await sleep(30);
      c.write('early-2;');
      await until(() => got.endsWith('early-1;early-2;'), 'the 101, the upstream greeting, then the early bytes echoed');
      const end = got.indexOf('\r\n\r\n');
      const head = got.slice(0, end + 4);
      assert.match(head, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
      assert.match(head, /\r\nupgrade: websocket\r\n/i);
      assert.match(head, /\r\nconnection: upgrade\r\n/i);
      assert.match(head, /\r\nsec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n/i);
      assert.equal(got.slice(end + 4), 'srv-hello;early-1;early-2;');
      c.write('late;');
      await until(() => got.endsWith('late;'), 'bytes after the 101 are echoed');
      // the upstream received nothing but the (re-serialized) head before it switched
      const before = switching.beforeSwitch();
      assert.match(before, /^GET \/switch HTTP\/1\.1\r\n/);
      assert.ok(before.endsWith('\r\n\r\n'), JSON.stringify(before));
      assert.equal(before.indexOf('\r\n\r\n'), before.length - 4, `only the head arrived before the 101: ${JSON.stringify(before)}`);
      assert.match(before, /\r\nconnection: upgrade\r\n/i);
      assert.match(before, /\r\nupgrade: websocket\r\n/i);
      assert.doesNotMatch(before, /x-hop/i, 'a header the client Connection header nominates is hop-by-hop');
      assert.equal(switching.afterSwitch(), 'early-1;early-2;late;');
      assert.deepEqual(policySaw, ['/switch']);
    } finally {
      c.destroy();
    }
  });
});

/**
 * A raw upstream that accepts any Upgrade: once a request head arrived it waits `delayMs`, answers
 * 101 (with a first message of the new protocol, `srv-hello;`, in the same segment) and then echoes
 * every byte. Records what arrived before and after its 101.
 */
async function switchingUpstream(delayMs: number): Promise<{ port: number; beforeSwitch: () => string; afterSwitch: () => string; reset: () => void; close: () => Promise<void> }> {
  let before = '';
  let after = '';
  const server = createNetServer((s) => {
    s.on('error', () => undefined);
    let switched = false;
    let answering = false;
    s.on('data', (d: Buffer) => {
      if (switched) {
        after += d.toString('latin1');
        s.write(d);
        return;
      }
      before += d.toString('latin1');
      if (answering || !before.includes('\r\n\r\n')) return;
      answering = true;
      setTimeout(() => {
        switched = true;
        s.write(
          'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\nsrv-hello;',
        );
      }, delayMs);
    });
  });
  const close = closer(server);
  const port = await listenOn(server);
  return {
    port,
    beforeSwitch: () => before,
    afterSwitch: () => after,
    reset: () => {
      before = '';
      after = '';
    },
    close,
  };
}

describe('rule 8: CONNECT becomes a tunnel only once the proxy answered 200', () => {
  // The engine's CONNECT hand-over, with an onConnect like the sidecar's: it connects (after a delay)
  // then answers 200 and pipes, or refuses with 502 and end().
  let echo: Server;
  let closeEcho: () => Promise<void>;
  let engine: Server;
  let closeEngine: () => Promise<void>;
  let port = 0;
  const engineSockets: Socket[] = [];
  before(async () => {
    echo = createNetServer((s) => {
      s.on('error', () => undefined);
      s.pipe(s);
    });
    closeEcho = closer(echo);
    const echoPort = await listenOn(echo);
    engine = createHttpEngine({
      direction: 'outbound',
      mountPoint: 'outbound-http',
      chain: () => async (ctx) => ctx.respond(404),
      proxy: true,
      upstream: {} as UpstreamClient,
      log: new SidecarLog('error'),
      timeoutMs: 5000,
      onConnect: (authority, socket, head) => {
        socket.on('error', () => undefined);
        setTimeout(() => {
          if (authority.startsWith('refused')) {
            socket.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
            return;
          }
          const up = connect({ host: '127.0.0.1', port: echoPort }, () => {
            socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
            if (head.length > 0) up.write(head);
            socket.pipe(up).pipe(socket);
          });
          up.on('error', () => socket.destroy());
        }, 100);
      },
    });
    engine.on('connection', (s: Socket) => engineSockets.push(s));
    closeEngine = closer(engine);
    port = await listenOn(engine);
  });
  after(async () => {
    await closeEngine();
    await closeEcho();
  });

  it('client bytes sent before the 200 are kept and delivered after it, in order', async () => {
    const c = connect({ host: '127.0.0.1', port });
    c.on('error', () => undefined);
    let got = '';
    c.on('data', (d: Buffer) => (got += d.toString('latin1')));
    try {
      c.write('CONNECT svc.demo:9000 HTTP/1.1\r\nHost: svc.demo:9000\r\n\r\nearly-1;');
      await sleep(30);
      c.write('early-2;');
      for (let i = 0; i < 200 && !got.endsWith('early-2;'); i++) await sleep(10);
      assert.equal(got, 'HTTP/1.1 200 Connection Established\r\n\r\nearly-1;early-2;');
      c.write('late;');
      for (let i = 0; i < 200 && !got.endsWith('late;'); i++) await sleep(10);
      assert.ok(got.endsWith('early-2;late;'), JSON.stringify(got));
    } finally {
      c.destroy();
    }
  });

  it('a refused CONNECT is answered and its connection closes on the proxy side too', async () => {
    const mark = engineSockets.length;
    const r = await rawExchange(port, 'CONNECT refused.demo:9000 HTTP/1.1\r\nHost: refused.demo:9000\r\n\r\nignored bytes', 3000);
    assert.deepEqual(r.statuses, [502], r.text);
    assert.ok(r.closed);
    const s = engineSockets[mark]!;
    for (let i = 0; i < 100 && !s.destroyed; i++) await sleep(10);
    assert.ok(s.destroyed, 'the proxy-side socket closed (it was paused; the refusal drains it)');
  });
});

describe('rule 8: never insecureHTTPParser', () => {
  const here = dirname(fileURLToPath(import.meta.url));
  // dist/src/sidecar/engine → the repository root, then its TypeScript sources
  const root = join(here, '..', '..', '..', '..');
  const sources = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
      const p = join(dir, d.name);
      if (d.isDirectory()) return d.name === 'node_modules' ? [] : sources(p);
      return /\.(ts|mts|js|mjs|json|sh)$/.test(d.name) && !d.name.includes('rules-11') ? [p] : [];
    });
  const FLAGS = [['insecure', 'HTTPParser'].join(''), ['--insecure', '-http-parser'].join('')];

  it('no source file, script or package.json turns the lenient parser on', () => {
    const files = [...sources(join(root, 'src')), ...sources(join(root, 'test')), ...sources(join(root, 'scripts')), join(root, 'package.json')];
    assert.ok(files.length > 100, `found ${files.length} files under ${root}`);
    const offenders = files.filter((f) => FLAGS.some((flag) => readFileSync(f, 'utf8').includes(flag))).map((f) => relative(root, f));
    assert.deepEqual(offenders, []);
  });

  it('this process runs without --insecure-http-parser (the sidecar inherits it when spawned)', () => {
    assert.ok(!process.execArgv.some((a) => a.startsWith(FLAGS[1]!)), process.execArgv.join(' '));
    assert.ok(!(process.env['NODE_OPTIONS'] ?? '').includes(FLAGS[1]!));
  });

  it('every llhttp instance of the engine is initialized with no lenient flags', () => {
    for (const file of ['server.ts', 'client.ts']) {
      const text = readFileSync(join(root, 'src', 'sidecar', 'engine', file), 'utf8');
      const calls = [...text.matchAll(/\.initialize\(([^)]*)\)/g)].map((m) => m[1]!);
      assert.ok(calls.length > 0, file);
      for (const args of calls) assert.match(args, /,\s*0\s*$/, `${file}: initialize(${args}) must pass lenientFlags 0`);
    }
  });

  describe('what only the lenient parser accepts is refused with 400 and a close, with nothing upstream', () => {
    let e: EngineUnderTest;
    before(async () => (e = await startEngine(false)));
    after(async () => e.close());
    beforeEach(() => e.reset());
    // Each of these is served 200 by node:http with insecureHTTPParser: true (checked by hand on Node 20).
    const cases: [string, string][] = [
      ['a control character in a header value', 'GET /x HTTP/1.1\r\nHost: a\r\nX-A: a\x01b\r\n\r\n'],
      ['DEL in a header value', 'GET /x HTTP/1.1\r\nHost: a\r\nX-A: a\x7fb\r\n\r\n'],
      ['Content-Length with Transfer-Encoding', 'POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
      ['obs-fold', 'GET /x HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n 2\r\n\r\n'],
      ['a control character in a chunk extension', 'POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;a=\x01\r\nabc\r\n0\r\n\r\n'],
      ['a space inside a header name', 'GET /x HTTP/1.1\r\nHost: a\r\nX A: b\r\n\r\n'],
      ['trailing whitespace after the request line version', 'GET /x HTTP/1.1 \r\nHost: a\r\n\r\n'],
      ['CR-only line ends', 'GET /x HTTP/1.1\rHost: a\r\r\n'],
    ];
    for (const [name, bytes] of cases) {
      it(`refuses ${name}`, async () => {
        const r = await rawExchange(e.port, bytes);
        assert.deepEqual(r.statuses, [400], r.text);
        assert.ok(r.closed, 'the connection closes');
        assert.equal(e.upstream.bytes, 0);
        assert.deepEqual(e.policySaw, []);
      });
    }
  });
});

describe('rule 8: what stays after a framing error', () => {
  let e: EngineUnderTest;
  before(async () => (e = await startEngine(false)));
  after(async () => e.close());
  beforeEach(() => e.reset());

  it('a framing error in the second request of a keep-alive connection closes it: a third request is never parsed', async () => {
    const r = await rawExchange(
      e.port,
      'GET /first HTTP/1.1\r\nHost: a\r\n\r\n' + 'GET /second HTTP/1.1\r\nHost: a\r\nX_Evil: 1\r\n\r\n' + 'GET /third HTTP/1.1\r\nHost: a\r\n\r\n',
    );
    assert.equal(r.statuses[0], 200, r.text);
    assert.ok(r.statuses.length <= 2 && !r.statuses.slice(1).includes(200), r.text);
    assert.ok(r.closed);
    assert.deepEqual(e.policySaw, ['/first']);
    assert.deepEqual(
      e.upstream.seen.map((s) => s.url),
      ['/first'],
    );
  });

  it('a Host with trailing whitespace is trimmed before any consumer sees it (CVE-2019-18802)', async () => {
    const r = await rawExchange(e.port, 'GET /x HTTP/1.1\r\nHost: Echo.Demo \r\nConnection: close\r\n\r\n');
    assert.deepEqual(r.statuses, [200], r.text);
    assert.deepEqual(e.authoritySaw, ['echo.demo']);
    assert.equal(e.upstream.seen[0]!.headers.host, 'echo.demo');
  });
});

describe('rule 1: never new URL(req.url, base) for the request target', () => {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
  it('the engine files that parse, normalize and route the target do not call the WHATWG URL parser', () => {
    for (const file of ['normalize.ts', 'target.ts', 'server.ts', 'framing.ts', 'wire.ts']) {
      const code = readFileSync(join(root, 'src', 'sidecar', 'engine', file), 'utf8')
        .replace(/\/\*[^]*?\*\//g, '')
        .replace(/\/\/.*$/gm, '');
      assert.doesNotMatch(code, /new URL\(|URL\.parse\(|url\.parse\(/, file);
    }
  });
  it('and the behaviour differs where it matters: //admin/x is the path /admin/x, not the authority "admin"', async () => {
    assert.equal(new URL('//admin/x', 'http://base').pathname, '/x', 'what WHATWG URL would have said');
    const e = await startEngine(false);
    try {
      const r = await rawExchange(e.port, 'GET //admin/x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
      assert.deepEqual(r.statuses, [403], r.text);
      assert.deepEqual(e.policySaw, ['/admin/x']);
    } finally {
      await e.close();
    }
  });
});
