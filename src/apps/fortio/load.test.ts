/**
 * Real sockets on loopback: the echo server answers fortio's query parameters, `fortio load` and
 * `fortio curl` against it print fortio's lines; the process entry serves and loads as the image would.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runFortio, startEchoServer, startTcpEcho, type RunningServer } from './index.js';
import { makeLogger } from './log.js';

const quietLogger = makeLogger('Error', () => {});

async function fortio(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runFortio(argv, {
    stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; }, env, signal: AbortSignal.timeout(30_000),
  });
  return { code, stdout, stderr };
}

function get(port: number, path: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: init.method ?? 'GET', headers: init.headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => { body += c; }).on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.end(init.body);
  });
}

describe('fortio echo server and client over loopback', () => {
  let server: RunningServer;
  let port = 0;
  before(async () => {
    server = await startEchoServer({ host: '127.0.0.1', port: 0, logger: quietLogger, limits: { maxDelayNs: 200e6, maxPayloadBytes: 1024 } });
    port = server.address.port;
  });
  after(async () => {
    await server?.close();
  });

  it('echoes the body with its content type on any path, and shapes the reply from the query', async () => {
    const r = await get(port, '/echo?header=X-Extra:yes', { method: 'POST', body: 'hello', headers: { 'content-type': 'text/x-test' } });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'hello');
    assert.equal(r.headers['content-type'], 'text/x-test');
    assert.equal(r.headers['x-extra'], 'yes');
    assert.equal((await get(port, '/anything?status=418')).status, 418);
    assert.equal((await get(port, '/?size=5000')).body.length, 1024, 'size capped at -maxpayloadsizekb');
    assert.equal((await get(port, '/echo?status=nope')).status, 400);
  });

  it('delays by the drawn duration, capped at -max-echo-delay', async () => {
    const began = Date.now();
    const r = await get(port, '/echo?delay=5s');
    assert.equal(r.status, 200);
    const waited = Date.now() - began;
    assert.ok(waited >= 190 && waited < 4000, `waited ${waited} ms: the 5s delay is capped at 200ms`);
  });

  it('/debug dumps the request', async () => {
    const r = await get(port, '/debug?x=1', { headers: { 'x-probe': 'p1' } });
    assert.match(r.body, /^Φορτίο version .* echo debug server up for/);
    assert.match(r.body, /GET \/debug\?x=1 HTTP\/1\.1/);
    assert.match(r.body, /x-probe: p1/i);
  });

  it('fortio load -n 20 -c 2 -qps 0: exactly 20 calls, all 200, with fortio\'s summary', async () => {
    const r = await fortio(['load', '-c', '2', '-qps', '0', '-n', '20', '-loglevel', 'Warning', `http://127.0.0.1:${port}/echo`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Fortio 1\.60\.3 running at 0 queries per second, \d+->\d+ procs, for 20 calls: http:\/\/127\.0\.0\.1:\d+\/echo$/m);
    assert.match(r.stdout, /^Starting at max qps with 2 thread\(s\) \[gomax \d+\] for exactly 20 calls \(10 per thread \+ 0\)$/m);
    assert.match(r.stdout, /^Ended after \S+ : 20 calls\. qps=[\d.]+$/m);
    assert.match(r.stdout, /^Aggregated Function Time : count 20 avg /m);
    for (const p of ['50', '75', '90', '99', '99.9']) assert.match(r.stdout, new RegExp(`^# target ${p.replace('.', '\\.')}% [\\d.e-]+$`, 'm'));
    assert.match(r.stdout, /^Code 200 : 20 \(100\.0 %\)$/m);
    assert.match(r.stdout, /^Sockets used: 2 \(for perfect keepalive, would be 2\)$/m);
    assert.match(r.stdout, /^Response Header Sizes : count 20 /m);
    assert.match(r.stdout, /^All done 20 calls \(plus 0 warmup\) [\d.]+ ms avg, [\d.]+ qps$/m);
    assert.equal(r.stderr, '', 'no warnings when all calls succeed');
  });

  it('?status=503:50 gives both codes, adding up to the calls, with a warning per non-200', async () => {
    const r = await fortio(['load', '-quiet', '-c', '10', '-qps', '0', '-n', '100', `http://127.0.0.1:${port}/echo?status=503:50`]);
    assert.equal(r.code, 0, r.stderr);
    const ok = Number(/^Code 200 : (\d+) \(/m.exec(r.stdout)?.[1]);
    const failed = Number(/^Code 503 : (\d+) \(/m.exec(r.stdout)?.[1]);
    assert.ok(ok > 0 && failed > 0, r.stdout);
    assert.equal(ok + failed, 100);
    assert.doesNotMatch(r.stdout, /^Fortio .* running at/m, '-quiet drops the banner');
    assert.doesNotMatch(r.stdout, /^# range/m, '-quiet drops the ranges');
    const second = await fortio(['load', '-c', '2', '-n', '10', '-loglevel', 'Warning', `http://127.0.0.1:${port}/echo?status=503`]);
    assert.match(second.stdout, /^Code 503 : 10 \(100\.0 %\)$/m);
    assert.equal(second.stderr.match(/Non ok http code 503/g)?.length, 10);
  });

  it('-t with -qps paces the run: a warmup call per connection, then about qps × t calls', async () => {
    const r = await fortio(['load', '-quiet', '-c', '2', '-qps', '20', '-t', '1s', `127.0.0.1:${port}/echo`]);
    assert.equal(r.code, 0, r.stderr);
    const calls = Number(/^All done (\d+) calls \(plus 2 warmup\)/m.exec(r.stdout)?.[1]);
    assert.ok(calls >= 10 && calls <= 22, `${calls} calls at 20 qps for 1s`);
  });

  it('a refused connection counts as Code -1', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadPort = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const r = await fortio(['load', '-quiet', '-c', '1', '-n', '3', `http://127.0.0.1:${deadPort}/`]);
    assert.match(r.stdout, /^Code  -1 : 3 \(100\.0 %\)$/m);
  });

  it('sends through http_proxy with the absolute URL, as a loopback-mode pod reaches its sidecar', async () => {
    const seen: string[] = [];
    const proxy = http.createServer((req, res) => {
      seen.push(`${req.url} host=${req.headers.host}`);
      res.writeHead(204).end();
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const proxyPort = (proxy.address() as net.AddressInfo).port;
      const r = await fortio(['load', '-quiet', '-c', '1', '-n', '2', 'http://fortio.server.svc.cluster.local:8080/echo'], { http_proxy: `http://127.0.0.1:${proxyPort}` });
      assert.match(r.stdout, /^Code 204 : 2 \(100\.0 %\)$/m);
      assert.deepEqual(seen, Array(2).fill('http://fortio.server.svc.cluster.local:8080/echo host=fortio.server.svc.cluster.local:8080'));
    } finally {
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    }
  });

  it('fortio curl prints the status line, headers and body; a non-200 exits 1', async () => {
    const r = await fortio(['curl', '-H', 'Content-Type: text/plain', '-payload', 'ping', `http://127.0.0.1:${port}/echo?header=X-Curl:1`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(r.stdout, /\r\nX-Curl: 1\r\n/);
    assert.ok(r.stdout.endsWith('\r\n\r\nping'), JSON.stringify(r.stdout));
    assert.equal((await fortio(['curl', `http://127.0.0.1:${port}/?status=503`])).code, 1);
  });

  it('refuses bad flags naming the flag, and unbounded counts', async () => {
    assert.match((await fortio(['load', '-c', 'x', 'http://127.0.0.1:1/'])).stderr, /-c x: want a whole number/);
    assert.match((await fortio(['load', '-n', '5000000', 'http://127.0.0.1:1/'])).stderr, /-n 5000000: want a whole number from 0 to 1000000/);
    assert.match((await fortio(['load', '-bogus', 'http://127.0.0.1:1/'])).stderr, /flag provided but not defined: -bogus/);
    assert.match((await fortio(['load', 'https://127.0.0.1:1/'])).stderr, /only http:\/\/ URLs/);
    assert.equal((await fortio(['load', '-n', '1'])).code, 2);
  });
});

describe('fortio tcp echo', () => {
  it('sends the bytes back on the same connection', async () => {
    const echo = await startTcpEcho('127.0.0.1', 0);
    try {
      const got = await new Promise<string>((resolve, reject) => {
        const s = net.connect(echo.address.port, '127.0.0.1', () => s.end('abc'));
        let data = '';
        s.setEncoding('utf8').on('data', (d: string) => { data += d; }).on('end', () => resolve(data)).on('error', reject);
      });
      assert.equal(got, 'abc');
    } finally {
      await echo.close();
    }
  });
});

describe('fortio process entry', () => {
  it('`fortio server` binds HOST, then `fortio load` in another process reaches it', async () => {
    const main = fileURLToPath(new URL('./main.js', import.meta.url));
    const server = spawn(process.execPath, [main, 'server', '-http-port', '0', '-tcp-port', 'disabled', '-udp-port', 'disabled', '-grpc-port', 'disabled'], {
      env: { ...process.env, HOST: '127.0.0.1' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let log = '';
        const timer = setTimeout(() => reject(new Error(`no listening line: ${log}`)), 10_000);
        server.stderr!.setEncoding('utf8').on('data', (d: string) => {
          log += d;
          const m = /http-echo server listening on tcp 127\.0\.0\.1:(\d+)/.exec(log);
          if (m) {
            clearTimeout(timer);
            resolve(Number(m[1]));
          }
        });
      });
      const load = spawn(process.execPath, [main, 'load', '-c', '2', '-qps', '0', '-n', '20', '-loglevel', 'Warning', `http://127.0.0.1:${port}/echo`], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      load.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
      const code = await new Promise<number | null>((resolve) => load.on('close', resolve));
      assert.equal(code, 0);
      assert.match(out, /^Code 200 : 20 \(100\.0 %\)$/m);
      const version = spawn(process.execPath, [main, 'version'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let v = '';
      version.stdout!.setEncoding('utf8').on('data', (d: string) => { v += d; });
      await new Promise((resolve) => version.on('close', resolve));
      assert.match(v, /^1\.60\.3 tessera-builtin /);
    } finally {
      server.kill('SIGTERM');
      const exit = await new Promise<number | null>((resolve) => server.on('close', resolve));
      assert.equal(exit, 0, 'SIGTERM stops the server cleanly');
    }
  });
});

describe('fortio server ports', () => {
  it('a TCP echo port already taken is reported and skipped; the HTTP echo server still serves', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const taken = (holder.address() as net.AddressInfo).port;
    let log = '';
    const stop = new AbortController();
    const running = runFortio(['server', '-http-port', '127.0.0.1:0', '-tcp-port', String(taken), '-udp-port', 'disabled', '-grpc-port', 'disabled'], {
      stdout: () => {}, stderr: (t) => { log += t; }, env: { HOST: '127.0.0.1' }, signal: stop.signal,
    });
    try {
      const port = await eventuallyPort(() => (log.includes('tcp-echo') ? /http-echo server listening on tcp 127\.0\.0\.1:(\d+)/.exec(log)?.[1] : undefined));
      assert.match(log, new RegExp(`E tcp-echo server not started: 127\\.0\\.0\\.1:${taken} is in use`));
      assert.equal((await get(port, '/echo?status=202')).status, 202);
    } finally {
      stop.abort();
      assert.equal(await running, 0);
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    }
  });
});

async function eventuallyPort(read: () => string | undefined): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const found = read();
    if (found) return Number(found);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the server never said where it listens');
}
