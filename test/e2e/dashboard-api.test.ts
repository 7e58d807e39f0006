/**
 * `tessera dashboard` against a real mesh, as a real child process, over real HTTP: nothing is
 * served without the login (401) or to another Host name (403); /login trades the printed token for
 * a session cookie; traffic from curl to todos shows as an edge with a rate and mTLS; a request the
 * DENY policy refuses reaches the event stream as a `decision` naming the policy within 2 s; SIGTERM
 * stops the server cleanly.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readEventStream } from '../../src/lib/sse.js';
import type { DashboardState, Decision, TopologyEdge } from '../../src/dashboard/model.js';
import { deploySample, waitReady } from '../support/deploy.js';
import { httpbinApp } from '../support/manifests.js';
import { CLI, eventually, podOf, startMesh, type TestMesh } from '../support/mesh.js';

const DENY_ADMIN = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: deny-admin, namespace: default }
spec:
  selector: { matchLabels: { app: todos } }
  action: DENY
  rules: [{ to: [{ operation: { paths: ["/admin"] } }] }]
`;

const EDGE = 'curl/curl->default/todos';

describe('tessera dashboard: auth, state and pushed refusals over HTTP', () => {
  let mesh: TestMesh;
  let dashboard: ChildProcessWithoutNullStreams | undefined;
  let stderr = '';
  let base = '';
  let token = '';
  let cookie = '';
  let curlPod = '';

  const curl = async (path: string): Promise<string> => {
    const r = await mesh.tessera(['exec', curlPod, '-n', 'curl', '--', 'curl', '-s', '-m', '10', '-o', '/dev/null', '-w', '%{http_code}', `http://todos.default:14001${path}`]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim();
  };
  const state = async (): Promise<DashboardState> => {
    const res = await fetch(`${base}/api/state`, { headers: { cookie } });
    assert.equal(res.status, 200);
    return (await res.json()) as DashboardState;
  };

  before(async () => {
    mesh = await startMesh('fsm');
    const r = await mesh.sh(
      `
      tessera namespace add default
${deploySample('curl')}
      kubectl apply -f - <<'EOF_APPS'
${httpbinApp('todos')}
---
${DENY_ADMIN}
EOF_APPS
${waitReady([['default', 'todos'], ['curl', 'curl']])}
      `,
      { timeoutMs: 180_000 },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    curlPod = (await podOf(mesh, 'curl', 'curl')).name;
    await eventually(async () => (await curl('/admin')) === '403', 30_000, 'the DENY policy in force');

    dashboard = spawn(process.execPath, [CLI, '--state', mesh.stateDir, 'dashboard', '--no-open', '--interval', '1s'], { stdio: ['pipe', 'pipe', 'pipe'] });
    dashboard.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let out = '';
    const line = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no login URL within 30 s; stdout: ${out}; stderr: ${stderr}`)), 30_000);
      dashboard!.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) {
          clearTimeout(timer);
          resolve(out.split('\n')[0]!);
        }
      });
      dashboard!.on('exit', (code) => reject(new Error(`dashboard exited (${code}): ${stderr}`)));
    });
    const m = /^dashboard: (http:\/\/127\.0\.0\.1:\d+)\/login\?token=([A-Za-z0-9_-]{43})$/.exec(line);
    assert.ok(m, `the one stdout line: ${line}`);
    base = m[1]!;
    token = m[2]!;
  });

  after(async () => {
    if (dashboard && dashboard.exitCode === null) dashboard.kill('SIGKILL');
    await mesh?.stop();
  });

  test('without the session everything is 401; another Host name is 403; /login sets an HttpOnly SameSite=Strict cookie', async () => {
    for (const path of ['/', '/api/state', '/api/events', '/app.js', `/api/edges/${encodeURIComponent(EDGE)}/series`]) {
      const res = await fetch(`${base}${path}`);
      assert.equal(res.status, 401, path);
      assert.match(res.headers.get('content-type') ?? '', /application\/json/);
      await res.body?.cancel();
    }
    const wrong = await fetch(`${base}/login?token=${'A'.repeat(43)}`, { redirect: 'manual' });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get('set-cookie'), null);
    // a rebound DNS name pointing at 127.0.0.1 carries its own Host
    const rebound = await new Promise<number>((resolve, reject) => {
      const u = new URL(base);
      import('node:http').then(({ request }) => {
        const req = request({ host: u.hostname, port: u.port, path: `/login?token=${token}`, headers: { host: `evil.example:${u.port}` } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      }, reject);
    });
    assert.equal(rebound, 403);
    const login = await fetch(`${base}/login?token=${token}`, { redirect: 'manual' });
    assert.equal(login.status, 303);
    assert.equal(login.headers.get('location'), '/');
    const setCookie = login.headers.get('set-cookie') ?? '';
    assert.match(setCookie, /HttpOnly/);
    assert.match(setCookie, /SameSite=Strict/);
    assert.match(setCookie, /Path=\//);
    cookie = setCookie.split(';')[0]!;
    const res = await fetch(`${base}/api/state`, { headers: { cookie } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    const bearer = await fetch(`${base}/api/state`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(bearer.status, 200);
    await bearer.body?.cancel();
  });

  test('traffic from curl to todos is an edge with a rate, over mTLS, and the proxies show their sync state', async () => {
    assert.ok(cookie, 'logged in by the previous test');
    let edge: TopologyEdge | undefined;
    // each call is one request; the loop ends when the edge shows a rate or after 30 calls
    for (let i = 0; i < 30 && !edge; i++) {
      assert.equal(await curl('/get'), '200');
      edge = (await state()).topology.edges.find((e) => e.id === EDGE && e.rps > 0);
    }
    assert.ok(edge, `edge ${EDGE} with rps > 0; edges: ${JSON.stringify((await state()).topology.edges)}`);
    assert.equal(edge.source, 'curl/curl');
    assert.equal(edge.target, 'default/todos');
    assert.equal(edge.protocol, 'http');
    assert.equal(edge.mtls, true);
    assert.ok(edge.requests >= 1);
    const s = await state();
    assert.ok(s.topology.nodes.some((n) => n.id === 'default/todos' && n.kind === 'workload'));
    const todos = s.proxies.find((p) => p.namespace === 'default' && p.pod.startsWith('todos-'));
    assert.ok(todos, JSON.stringify(s.proxies));
    assert.equal(todos.sync, 'SYNCED');
    assert.ok(todos.chains.length > 0, 'chains from config_dump');
    assert.ok(todos.certificates.some((c) => c.role === 'workload identity' && c.daysLeft >= 0), 'certificate from /certs');
    assert.ok(s.resources.some((r) => r.kind === 'AuthorizationPolicy' && r.name === 'deny-admin'));
    const series = await fetch(`${base}/api/edges/${encodeURIComponent(EDGE)}/series`, { headers: { cookie } });
    assert.equal(series.status, 200);
    const body = (await series.json()) as { edgeId: string; points: unknown[] };
    assert.equal(body.edgeId, EDGE);
    assert.ok(body.points.length > 0);
  });

  test('a refused request reaches the event stream as a decision naming its policy within 2 s', async (t) => {
    assert.ok(cookie, 'logged in by the previous test');
    const abort = new AbortController();
    const res = await fetch(`${base}/api/events`, { headers: { cookie }, signal: abort.signal });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
    let refusedAt = 0;
    let firstState = false;
    const decision = new Promise<{ d: Decision; at: number }>((resolve, reject) => {
      readEventStream(res.body!, (e) => {
        if (e.event === 'state') firstState = true;
        if (e.event !== 'decision') return;
        const d = JSON.parse(e.data) as Decision;
        if (d.path === '/admin' && d.policy === 'default/deny-admin') resolve({ d, at: Date.now() });
      }).catch(reject);
    });
    decision.catch(() => undefined); // the stream is aborted at the end, whatever it delivered
    await eventually(async () => firstState, 10_000, 'the first state event');
    assert.equal(await curl('/admin'), '403');
    refusedAt = Date.now();
    const got = await Promise.race([decision, new Promise<undefined>((r) => setTimeout(() => r(undefined), 2000))]);
    abort.abort();
    assert.ok(got, 'a decision event within 2 s of the refusal');
    assert.equal(got.d.kind, 'AuthorizationPolicy');
    assert.equal(got.d.namespace, 'default');
    assert.equal(got.d.workload, 'todos');
    assert.equal(got.d.direction, 'inbound');
    assert.equal(got.d.status, 403);
    assert.equal(got.d.rule, '0');
    assert.ok(got.at - refusedAt <= 2000);
    // the refusal may be pushed before `tessera exec` has even returned: then this is 0
    t.diagnostic(`decision event ${Math.max(0, got.at - refusedAt)} ms after curl returned`);
    const s = await state();
    assert.ok(s.decisions.recent.some((d) => d.id === got.d.id), 'kept in state.decisions.recent');
    await eventually(async () => (await state()).decisions.counters.find((c) => c.policy === 'default/deny-admin' && c.kind === 'AuthorizationPolicy' && c.deny >= 1), 10_000, 'the per-policy counter');
  });

  test('SIGTERM stops the dashboard cleanly', async () => {
    assert.ok(dashboard);
    const exited = new Promise<number | null>((resolve) => dashboard!.on('exit', (code) => resolve(code)));
    dashboard.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
    assert.ok(!stderr.includes(token), 'the token is never written to stderr');
  });
});
