/** logs, rollout, proxy get, status, version, lifecycle commands, and commander usage errors. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MeshError } from '../../lib/errors.js';
import { FakeMesh } from '../testing/fake-mesh.js';
import { httpbinDeployment } from '../testing/fixtures.js';
import { noLifecycle, runTessera } from '../testing/harness.js';
import { logsQueryOf, parseDuration } from './logs.js';

test('logs POD and pod/NAME with -c, including the sidecar', async () => {
  const m = new FakeMesh();
  m.logTexts.set('pipy/pipy-ok-v1-abc/pipy', 'line1\nline2\n');
  m.logTexts.set('pipy/pipy-ok-v1-abc/sidecar', 'sidecar up\n');
  const r = await runTessera(['logs', 'pod/pipy-ok-v1-abc', '-n', 'pipy', '-c', 'pipy'], m);
  assert.deepEqual([r.code, r.stdout], [0, 'line1\nline2\n']);
  assert.equal((await runTessera(['logs', 'pipy-ok-v1-abc', '-n', 'pipy', '-c', 'sidecar'], m)).stdout, 'sidecar up\n');
  assert.equal((await runTessera(['logs', 'pipy-ok-v1-abc', '-n', 'pipy', '-c', 'pipy', '--tail', '1'], m)).stdout, 'line2\n');
  const wrongKind = await runTessera(['logs', 'svc/x', '-n', 'pipy'], m);
  assert.deepEqual([wrongKind.code, wrongKind.stderr], [1, 'error: only pods are supported here, got "svc/x"\n']);
});

test('logs -f prints what the server streams until it ends (the pod went away)', async () => {
  const m = new FakeMesh();
  m.logTexts.set('x/p/', 'a\n');
  m.followChunks = ['b\n', 'c\n'];
  const r = await runTessera(['logs', '-f', 'p', '-n', 'x'], m);
  assert.deepEqual([r.code, r.stdout], [0, 'a\nb\nc\n']);
});

test('logs flags become the pods/log query, refused where kubectl refuses them', async () => {
  assert.deepEqual(logsQueryOf({ tail: '3', since: '1m30s', limitBytes: '100', timestamps: true, previous: true, container: 'app' }), {
    container: 'app', previous: true, timestamps: true, tailLines: 3, limitBytes: 100, sinceSeconds: 90,
  });
  assert.deepEqual(logsQueryOf({ tail: '-1', sinceTime: '2026-12-07T15:00:00Z' }), { sinceTime: '2026-12-07T15:00:00Z' });
  assert.equal(parseDuration('250ms', '--since'), 250);
  assert.throws(() => logsQueryOf({ since: '5', sinceTime: undefined }), /--since: "5" is not a duration/);
  assert.throws(() => logsQueryOf({ since: '5s', sinceTime: '2026-12-07T15:00:00Z' }), /at most one of --since-time and --since/);
  assert.throws(() => logsQueryOf({ sinceTime: 'yesterday' }), /--since-time must be an RFC 3339 time/);
  assert.throws(() => logsQueryOf({ limitBytes: '0' }), /--limit-bytes must be a positive integer/);
  assert.throws(() => logsQueryOf({ tail: 'x' }), /--tail must be an integer/);
  const m = new FakeMesh();
  m.logTexts.set('x/p/app', 'a\n');
  const r = await runTessera(['logs', 'p', '-n', 'x', '-c', 'app', '--tail', '1', '--timestamps', '-p'], m);
  assert.equal(r.code, 0);
  assert.deepEqual(m.callsTo('streamLogs')[0]?.[2], { container: 'app', previous: true, timestamps: true, tailLines: 1 });
});


test('rollout restart deploy NAME and deployment/NAME; rollout status', async () => {
  const m = new FakeMesh([httpbinDeployment]);
  const r = await runTessera(['rollout', 'restart', 'deploy', 'httpbin', '-n', 'httpbin'], m);
  assert.deepEqual([r.code, r.stdout], [0, 'deployment.apps/httpbin restarted\n']);
  assert.equal((await runTessera(['rollout', 'restart', 'deployment/httpbin', '-n', 'httpbin'], m)).stdout, 'deployment.apps/httpbin restarted\n');
  assert.deepEqual(m.callsTo('rolloutRestart')[0], ['Deployment', 'httpbin', 'httpbin']);
  const bad = await runTessera(['rollout', 'restart', 'pod', 'x'], m);
  assert.deepEqual([bad.code, bad.stderr], [1, 'error: no rollout support for pods; only deployments\n']);
  const status = await runTessera(['rollout', 'status', 'deploy/httpbin', '-n', 'httpbin'], m);
  assert.equal(status.stdout, 'deployment "httpbin" successfully rolled out\n');
});

test('proxy get prints the body exactly; non-2xx is an error', async () => {
  const m = new FakeMesh();
  const body = '{\n  "Chains": {\n    "outbound-http": ["modules/outbound-http-routing.js"]\n  }\n}';
  m.proxyAnswers.set('curl/curl-1/config_dump', { status: 200, contentType: 'application/json', body });
  m.proxyAnswers.set('curl/curl-1/nope', { status: 404, contentType: 'text/plain', body: 'not found\n' });
  const r = await runTessera(['proxy', 'get', 'config_dump', 'curl-1', '-n', 'curl'], m);
  assert.deepEqual([r.code, r.stdout], [0, body]);
  const e = await runTessera(['proxy', 'get', 'nope', '-n', 'curl', 'curl-1'], m);
  assert.deepEqual([e.code, e.stdout, e.stderr], [1, '', 'error: proxy of pod curl/curl-1 answered nope with HTTP 404: not found\n']);
});

test('status prints the control plane, proxies (12-char versions) and workloads', async () => {
  const m = new FakeMesh();
  m.meshStatus.proxies = [
    { namespace: 'curl', pod: 'curl-1', uuid: 'u1', connected: true, appliedVersion: '0123456789abcdef0123' },
    { namespace: 'httpbin', pod: 'httpbin-1', uuid: 'u2', connected: false },
  ];
  m.meshStatus.workloads = [{ namespace: 'curl', name: 'curl-1', ready: '2/2', status: 'Running', restarts: 0, podIP: '127.7.1.1' }];
  const r = await runTessera(['status'], m);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^Mesh:           fsm\n/);
  assert.match(r.stdout, /Control plane:  ready \(pod fsm-controller-6b9c7d5f8-abcde, http:\/\/127.7.0.2:6060\)\n/);
  assert.match(r.stdout, /NAMESPACE   POD         CONNECTED   APPLIED-VERSION\ncurl        curl-1      true        0123456789ab\nhttpbin     httpbin-1   false       -\n/);
  assert.match(r.stdout, /NAMESPACE   NAME     READY   STATUS    RESTARTS   IP\ncurl        curl-1   2\/2     Running   0          127.7.1.1\n$/);
});

test('a mesh that is not running is reported as an error', async () => {
  const r = await runTessera(['status'], new FakeMesh(), {
    connect: async () => {
      throw new MeshError('MESH_ERR_MESH_NOT_RUNNING', 'no mesh is running in /x/.tessera; start one with `tessera up`');
    },
  });
  assert.deepEqual([r.code, r.stderr], [1, 'error: no mesh is running in /x/.tessera; start one with `tessera up`\n']);
});

test('up, up --quickstart, down and __daemon call the lifecycle with resolved paths', async () => {
  const lc = noLifecycle();
  await runTessera(['up', '--mesh-name', 'fsm', '-f', 'a.yaml', '-f', '-', '--detach', '--state', 's'], new FakeMesh(), { lifecycle: lc });
  await runTessera(['up'], new FakeMesh(), { lifecycle: lc });
  await runTessera(['up', '--quickstart', 'examples/iam', '--mesh-name', 'q'], new FakeMesh(), { lifecycle: lc });
  await runTessera(['down'], new FakeMesh(), { lifecycle: lc });
  await runTessera(['__daemon', '--state', '/s', '--mesh-name', 'fsm'], new FakeMesh(), { lifecycle: lc });
  assert.deepEqual(lc.calls, [
    { method: 'up', opts: { stateDir: '/work/here/s', meshName: 'fsm', files: ['/work/here/a.yaml', '-'], detach: true, log: 'function' } },
    { method: 'up', opts: { stateDir: '/work/here/.tessera', meshName: 'tessera', files: [], detach: false, log: 'function' } },
    { method: 'runQuickstart', opts: { stateDir: '/work/here/.tessera', meshName: 'q', dir: '/work/here/examples/iam' } },
    { method: 'down', opts: '/work/here/.tessera' },
    { method: 'runDaemon', opts: { stateDir: '/s', meshName: 'fsm', workdir: '/work/here', log: 'function' } },
  ]);
});

test('a quickstart step with an unexpected answer fails the command', async () => {
  const lc = noLifecycle();
  lc.runQuickstart = async () => [{ step: 'x', expected: 200, status: 401 }];
  const r = await runTessera(['up', '--quickstart', 'examples/iam'], new FakeMesh(), { lifecycle: lc });
  assert.equal(r.code, 1);
});

test('version works with and without a running mesh', async () => {
  const r = await runTessera(['version'], new FakeMesh());
  assert.equal(r.stdout, 'Client Version: v0.1.0\nMesh: fsm (running, api http://127.7.0.1:15080)\n');
  const down = await runTessera(['version'], new FakeMesh(), { connect: async () => Promise.reject(new Error('no')) });
  assert.deepEqual([down.code, down.stdout], [0, 'Client Version: v0.1.0\nMesh: not running\n']);
});

test("usage errors exit 1 with commander's message; help exits 0", async () => {
  const unknown = await runTessera(['frobnicate']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /^error: unknown command 'frobnicate'/);
  const opt = await runTessera(['get', 'pods', '--bogus']);
  assert.deepEqual([opt.code, opt.stderr], [1, "error: unknown option '--bogus'\n"]);
  const arg = await runTessera(['logs']);
  assert.deepEqual([arg.code, arg.stderr], [1, "error: missing required argument 'pod'\n"]);
  const help = await runTessera(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: tessera/);
  assert.doesNotMatch(help.stdout, /__daemon/);
  const sub = await runTessera(['get', '--help']);
  assert.deepEqual([sub.code, /-o, --output <format>/.test(sub.stdout)], [0, true]);
});
