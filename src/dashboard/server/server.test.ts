import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readEventStream } from '../../lib/sse.js';
import { isLoopbackAddress, newToken } from '../auth/index.js';
import type { DashboardState, Decision } from '../model.js';
import { startDashboardServer, type DashboardServer, type StateSource } from './index.js';

const EMPTY: DashboardState = {
  meshName: 'fsm', generatedAt: '2026-01-01T00:00:00.000Z', topology: { nodes: [], edges: [] }, proxies: [],
  decisions: { recent: [], counters: [] }, resources: [], problems: [],
};

/** A source the test drives by hand: the server only reads it. */
function stubSource(): StateSource & { push(s: DashboardState): void; decide(d: Decision): void } {
  const states = new Set<(s: DashboardState) => void>();
  const decisions = new Set<(d: Decision) => void>();
  const src = {
    state: EMPTY,
    series: (id: string) => (id === 'a/x->b/y' ? { edgeId: id, points: [{ t: EMPTY.generatedAt, rps: 1, successRate: 1 }] } : undefined),
    onState: (fn: (s: DashboardState) => void) => (states.add(fn), () => void states.delete(fn)),
    onDecision: (fn: (d: Decision) => void) => (decisions.add(fn), () => void decisions.delete(fn)),
    push(s: DashboardState) {
      src.state = s;
      for (const fn of states) fn(s);
    },
    decide(d: Decision) {
      for (const fn of decisions) fn(d);
    },
  };
  return src;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function start(bundle: 'with' | 'without' = 'with', maxQueuedBytes?: number): Promise<{ server: DashboardServer; base: string; token: string; source: ReturnType<typeof stubSource> }> {
  const dir = mkdtempSync(join(tmpdir(), 'dash-bundle-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const bundleDir = join(dir, 'ui-bundle');
  mkdirSync(bundleDir);
  if (bundle === 'with') {
    writeFileSync(join(bundleDir, 'index.html'), '<!doctype html><script src="app.js"></script>');
    writeFileSync(join(bundleDir, 'app.js'), 'console.log(1)');
    writeFileSync(join(bundleDir, 'app.css'), 'body{}');
  }
  writeFileSync(join(dir, 'secret.txt'), 'outside the bundle');
  const token = newToken();
  const source = stubSource();
  const server = await startDashboardServer({ address: '127.0.0.1', port: 0, token, source, bundleDir, heartbeatMs: 50, ...(maxQueuedBytes !== undefined ? { maxQueuedBytes } : {}) });
  cleanups.push(() => server.close());
  return { server, base: `http://127.0.0.1:${server.port}`, token, source };
}

/** A raw GET with a chosen Host header (fetch does not let a caller set Host). */
function getWithHost(port: number, path: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

test('everything but /login needs the session: 401 JSON without it, for the page, its files and the API', async () => {
  const { base } = await start();
  for (const path of ['/', '/app.js', '/api/state', '/api/events', '/api/edges/x/series', '/nope']) {
    const res = await fetch(`${base}${path}`);
    assert.equal(res.status, 401, path);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.equal(((await res.json()) as { code: string }).code, 'unauthorized');
  }
});

test('/login with the token answers 303 to / and an HttpOnly, SameSite=Strict cookie; a wrong or missing token gets 401 and no cookie', async () => {
  const { base, token } = await start();
  for (const q of ['', '?token=', `?token=${token.slice(0, -1)}`, `?token=${token}x`]) {
    const res = await fetch(`${base}/login${q}`, { redirect: 'manual' });
    assert.equal(res.status, 401, q);
    assert.equal(res.headers.get('set-cookie'), null);
  }
  const res = await fetch(`${base}/login?token=${token}`, { redirect: 'manual' });
  assert.equal(res.status, 303);
  assert.equal(res.headers.get('location'), '/');
  const cookie = res.headers.get('set-cookie')!;
  assert.match(cookie, /^tessera_dashboard=[^;]+; HttpOnly; SameSite=Strict; Path=\/$/);
  const page = await fetch(`${base}/`, { headers: { cookie: cookie.split(';')[0]! } });
  assert.equal(page.status, 200);
  assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.match(page.headers.get('content-security-policy')!, /default-src 'self'; script-src 'self'/);
  const forged = await fetch(`${base}/api/state`, { headers: { cookie: 'tessera_dashboard=forged' } });
  assert.equal(forged.status, 401);
});

test('a Host other than the bound address and port is refused with 403, even with the token (DNS rebinding)', async () => {
  const { server, token } = await start();
  assert.equal(await getWithHost(server.port, `/login?token=${token}`, `rebind.example:${server.port}`), 403);
  assert.equal(await getWithHost(server.port, `/login?token=${token}`, `127.0.0.1:${server.port + 1}`), 403);
  assert.equal(await getWithHost(server.port, `/login?token=${token}`, '127.0.0.1'), 403);
  assert.equal(await getWithHost(server.port, `/login?token=${token}`, `localhost:${server.port}`), 303);
  assert.equal(await getWithHost(server.port, `/login?token=${token}`, `127.0.0.1:${server.port}`), 303);
});

test('the API: state as JSON with no-store, edge series by URI-encoded id (404 when unknown), GET only', async () => {
  const { base, token } = await start();
  const auth = { authorization: `Bearer ${token}` };
  const state = await fetch(`${base}/api/state`, { headers: auth });
  assert.equal(state.status, 200);
  assert.equal(state.headers.get('cache-control'), 'no-store');
  assert.deepEqual(await state.json(), EMPTY);
  const series = await fetch(`${base}/api/edges/${encodeURIComponent('a/x->b/y')}/series`, { headers: auth });
  assert.equal(series.status, 200);
  assert.equal(((await series.json()) as { edgeId: string }).edgeId, 'a/x->b/y');
  assert.equal((await fetch(`${base}/api/edges/${encodeURIComponent('c->d')}/series`, { headers: auth })).status, 404);
  assert.equal((await fetch(`${base}/api/edges/%E0%A4%A/series`, { headers: auth })).status, 400);
  assert.equal((await fetch(`${base}/api/state`, { method: 'POST', headers: auth })).status, 405);
});

test('static files with their content types; nothing outside the bundle; 503 naming the missing bundle', async () => {
  const { base, token } = await start();
  const auth = { authorization: `Bearer ${token}` };
  const js = await fetch(`${base}/app.js`, { headers: auth });
  assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
  assert.equal(await js.text(), 'console.log(1)');
  assert.equal((await fetch(`${base}/app.css`, { headers: auth })).headers.get('content-type'), 'text/css; charset=utf-8');
  assert.equal((await fetch(`${base}/%2e%2e/secret.txt`, { headers: auth })).status, 404);
  assert.equal((await fetch(`${base}/..%2fsecret.txt`, { headers: auth })).status, 404);
  const missing = await start('without');
  const res = await fetch(`${missing.base}/`, { headers: { authorization: `Bearer ${missing.token}` } });
  assert.equal(res.status, 503);
  assert.match(((await res.json()) as { error: string }).error, /ui-bundle\/index\.html is missing/);
});

test('events: the state at once, each new state and each decision pushed as they come, heartbeats between', async () => {
  const { base, token, source } = await start();
  const abort = new AbortController();
  cleanups.push(() => abort.abort());
  const res = await fetch(`${base}/api/events`, { headers: { authorization: `Bearer ${token}` }, signal: abort.signal });
  assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  const seen: { event: string; data: string }[] = [];
  const decision: Decision = { id: 'd1', time: 't', namespace: 'default', workload: 'todos', pod: 'todos-1', direction: 'inbound', protocol: 'http', kind: 'AuthorizationPolicy', policy: 'default/deny-admin', reason: 'authorization: matched a DENY policy' };
  const done = readEventStream(res.body!, (e) => {
    seen.push(e);
    if (seen.length === 1) {
      source.push({ ...EMPTY, meshName: 'second' });
      source.decide(decision);
    }
    if (seen.length === 3) abort.abort();
  }).catch(() => undefined);
  await done;
  assert.deepEqual(seen.map((e) => e.event), ['state', 'state', 'decision']);
  assert.equal((JSON.parse(seen[1]!.data) as DashboardState).meshName, 'second');
  assert.deepEqual(JSON.parse(seen[2]!.data), decision);
  // heartbeats are comments; read the raw stream for one
  const raw = await fetch(`${base}/api/events`, { headers: { authorization: `Bearer ${token}` } });
  const reader = raw.body!.getReader();
  let text = '';
  for (let i = 0; i < 20 && !text.includes(': heartbeat'); i++) text += new TextDecoder().decode((await reader.read()).value);
  await reader.cancel();
  assert.match(text, /: heartbeat\n\n/);
});

test('only loopback addresses are accepted for binding', () => {
  for (const a of ['127.0.0.1', '127.1.2.3', '::1']) assert.ok(isLoopbackAddress(a), a);
  for (const a of ['0.0.0.0', '10.0.0.1', '::', '128.0.0.1', '127.0.0.256', 'localhost']) assert.ok(!isLoopbackAddress(a), a);
});

test('an event stream client that stops reading is dropped once its queue passes the bound', async () => {
  const { server, token, source } = await start('with', 64 * 1024);
  const res = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path: '/api/events', headers: { authorization: `Bearer ${token}` } }, resolve);
    req.on('error', reject);
    req.end();
  });
  assert.equal(res.statusCode, 200);
  res.pause(); // stops reading: the server's queue grows once the socket buffers are full
  const big: DashboardState = { ...EMPTY, problems: ['x'.repeat(1 << 20)] };
  const pushes = 50;
  for (let i = 0; i < pushes; i++) {
    source.push(big);
    await new Promise((r) => setImmediate(r));
  }
  // reading again, the client finds its stream cut short rather than every state it missed
  let received = 0;
  const ended = new Promise<void>((resolve) => {
    res.on('data', (chunk: Buffer) => (received += chunk.length));
    res.on('close', () => resolve());
    res.on('error', () => resolve());
  });
  res.resume();
  await ended;
  assert.ok(received < (pushes / 2) * (1 << 20), `received ${received} bytes`);
});
