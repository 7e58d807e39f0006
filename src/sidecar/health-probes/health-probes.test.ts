/**
 * The sidecar's probe ports with real sockets: a real app (HTTP and HTTPS) on a private loopback
 * address, the listeners on FSM's fixed ports 15901-15904 on an address of a leased 127.X block, and
 * the sidecar process itself (main.js) serving a probe from its environment.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { MeshError } from '../../lib/errors.js';
import { allocateBlock, until } from '../test-support/net.js';
import { HEALTH_PROBES_ENV, HealthProbeListeners, healthProbesFromEnv, parseHealthProbes, probeListenPorts, serializeHealthProbes, type RewrittenProbe } from './index.js';

let block: { block: number; release: () => void };
let app: string; // the app's address (the sidecar's TESSERA_LOCAL_IP)
const servers: Server[] = [];
const dirs: string[] = [];
/** what the app saw, per path */
const seen: { path: string; headers: IncomingMessage['headers']; method: string }[] = [];

function appHandler(req: IncomingMessage, res: ServerResponse): void {
  seen.push({ path: req.url ?? '', headers: req.headers, method: req.method ?? '' });
  if (req.url === '/slow') return; // never answers
  if (req.url?.startsWith('/ready')) {
    res.writeHead(200, { 'content-type': 'text/plain', 'x-app': 'yes' });
    res.end(`ready ${req.url}`);
    return;
  }
  if (req.url === '/moved') {
    res.writeHead(302, { location: '/elsewhere' });
    res.end();
    return;
  }
  res.writeHead(503);
  res.end('not ready');
}

async function listen(server: Server, host: string, port = 0): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => resolve());
  });
  return (server.address() as { port: number }).port;
}

let httpPort: number;
let httpsPort: number;
let tcpPort: number;
let closedPort: number;
let caFile: string;

before(async () => {
  block = await allocateBlock();
  app = `127.${block.block}.65.2`;
  httpPort = await listen(createServer(appHandler), app);
  const dir = mkdtempSync(join(tmpdir(), 'tessera-probe-tls-'));
  dirs.push(dir);
  await promisify(execFile)('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'app.key'), '-out', join(dir, 'app.crt'), '-days', '1', '-subj', '/CN=app'], { timeout: 20_000 });
  caFile = join(dir, 'app.crt');
  httpsPort = await listen(createHttpsServer({ key: readFileSync(join(dir, 'app.key')), cert: readFileSync(join(dir, 'app.crt')) }, appHandler) as unknown as Server, app);
  tcpPort = await listen(createTcpServer((s) => s.end()) as unknown as Server, app);
  // a port nothing listens on: bound, then closed
  const gone = createTcpServer();
  closedPort = await new Promise<number>((r) => gone.listen(0, app, () => r((gone.address() as { port: number }).port)));
  await new Promise((r) => gone.close(r));
});

after(() => {
  for (const s of servers) {
    (s as Server & { closeAllConnections?: () => void }).closeAllConnections?.();
    s.close();
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  block?.release();
});

const probe = (p: Partial<RewrittenProbe> & Pick<RewrittenProbe, 'kind' | 'port' | 'path' | 'target'>): RewrittenProbe => ({ container: 'web', timeoutSeconds: 1, ...p });

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: Headers }> {
  const res = await fetch(url, { headers, redirect: 'manual', signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: await res.text(), headers: res.headers };
}

test('the env contract: parsed strictly, naming the entry and field; unset means no probes', () => {
  assert.deepEqual(parseHealthProbes(undefined), []);
  assert.deepEqual(parseHealthProbes(''), []);
  const probes = [probe({ kind: 'readiness', port: 15902, path: '/fsm-readiness-probe', target: { scheme: 'HTTP', port: 8080, path: '/ready' } })];
  assert.deepEqual(parseHealthProbes(serializeHealthProbes(probes)), probes);
  const bad = (text: string, pattern: RegExp): void => {
    assert.throws(() => parseHealthProbes(text), (e: unknown) => e instanceof MeshError && e.code === 'MESH_ERR_MANIFEST_INVALID' && pattern.test(e.message));
  };
  bad('{', /^env TESSERA_HEALTH_PROBES: not JSON/);
  bad('{}', /not a JSON array/);
  bad('[{"kind":"readiness","container":"web","port":15902,"path":"/p","target":{"scheme":"HTTP","port":0,"path":"/"}}]', /TESSERA_HEALTH_PROBES\[0\]\.target\.port: 0 is not a port/);
  bad('[{"kind":"alive","container":"web","port":15902,"path":"/p","target":{"scheme":"TCP","port":1}}]', /\[0\]\.kind/);
  bad('[{"kind":"startup","container":"web","port":15903,"path":"/p","target":{"scheme":"UDP","port":1}}]', /target\.scheme: "UDP"/);
  const twice = serializeHealthProbes([probes[0]!, { ...probes[0]!, container: 'api' }]);
  bad(twice, /\[1\]\.path: a second probe at :15902\/fsm-readiness-probe/);
  // a liveness and a readiness TCP check of one port are the same check, not a conflict
  const tcp = probe({ kind: 'liveness', port: 15904, path: '/fsm-healthcheck', target: { scheme: 'TCP', port: 8080 } });
  assert.equal(parseHealthProbes(serializeHealthProbes([tcp, { ...tcp, kind: 'readiness' }])).length, 2);
  assert.deepEqual(probeListenPorts([tcp, ...probes, tcp]), [15902, 15904]);
});

test('HTTP and HTTPS probes go on to the app\'s original port, path and scheme; the app\'s status comes back', async (t) => {
  const listeners = new HealthProbeListeners({
    appAddress: app,
    bindAddress: app,
    probes: [
      probe({ kind: 'liveness', port: 15901, path: '/fsm-liveness-probe', target: { scheme: 'HTTP', port: httpPort, path: '/ready?deep=1' } }),
      probe({ kind: 'readiness', port: 15902, path: '/fsm-readiness-probe/web', target: { scheme: 'HTTP', port: httpPort, path: '/broken' } }),
      probe({ kind: 'readiness', port: 15902, path: '/fsm-readiness-probe/api', target: { scheme: 'HTTPS', port: httpsPort, path: '/ready-tls' } }),
      probe({ kind: 'startup', port: 15903, path: '/fsm-startup-probe', target: { scheme: 'HTTP', port: httpPort, path: '/moved' } }),
    ],
  });
  await listeners.start();
  t.after(() => listeners.close());
  assert.deepEqual(listeners.listening, [`${app}:15901`, `${app}:15902`, `${app}:15903`]);

  seen.length = 0;
  const live = await get(`http://${app}:15901/fsm-liveness-probe`, { 'x-probe': 'kubelet' });
  assert.equal(live.status, 200);
  assert.equal(live.body, 'ready /ready?deep=1');
  assert.equal(live.headers.get('x-app'), 'yes', 'the app\'s headers come back');
  assert.equal(seen.length, 1);
  assert.equal(seen[0]!.path, '/ready?deep=1', 'the original path, query included');
  assert.equal(seen[0]!.headers['x-probe'], 'kubelet', 'the probe\'s own headers go on');
  assert.equal(seen[0]!.headers.host, `${app}:${httpPort}`, 'Host names the app\'s port, as the original probe did');

  const broken = await get(`http://${app}:15902/fsm-readiness-probe/web`);
  assert.equal(broken.status, 503, 'a failing app fails the probe');
  assert.equal(broken.body, 'not ready');

  const tls = await get(`http://${app}:15902/fsm-readiness-probe/api`);
  assert.equal(tls.status, 200, 'HTTPS to the app, its self-signed certificate not verified (as the kubelet)');
  assert.equal(tls.body, 'ready /ready-tls');

  const moved = await get(`http://${app}:15903/fsm-startup-probe`);
  assert.equal(moved.status, 302);
  assert.equal(moved.headers.get('location'), null, 'the kubelet must not follow the app\'s redirect to this port');

  assert.equal((await get(`http://${app}:15901/fsm-readiness-probe`)).status, 404, 'a path of another port');
  assert.equal((await get(`http://${app}:15902/fsm-readiness-probe`)).status, 404, 'two containers: each has its own path');
});

test('a target that is down or silent fails the probe (503, 504) within its timeout', async (t) => {
  const listeners = new HealthProbeListeners({
    appAddress: app,
    bindAddress: app,
    probes: [
      probe({ kind: 'liveness', port: 15901, path: '/fsm-liveness-probe', target: { scheme: 'HTTP', port: closedPort, path: '/' } }),
      probe({ kind: 'readiness', port: 15902, path: '/fsm-readiness-probe', target: { scheme: 'HTTP', port: httpPort, path: '/slow' }, timeoutSeconds: 0.3 }),
    ],
  });
  await listeners.start();
  t.after(() => listeners.close());
  const down = await get(`http://${app}:15901/fsm-liveness-probe`);
  assert.equal(down.status, 503);
  assert.match(down.body, new RegExp(`liveness probe of container web: http://${app.replace(/\./g, '\\.')}:${closedPort}/: .*ECONNREFUSED`));
  const started = Date.now();
  const silent = await get(`http://${app}:15902/fsm-readiness-probe`);
  assert.equal(silent.status, 504);
  assert.match(silent.body, /no answer in 300 ms/);
  assert.ok(Date.now() - started < 2000, 'answered at the probe\'s timeout');
});

test('15904 /fsm-healthcheck: a TCP connect to the Original-Tcp-Port, only to ports a TCP probe names', async (t) => {
  const listeners = new HealthProbeListeners({
    appAddress: app,
    bindAddress: app,
    probes: [
      probe({ kind: 'liveness', port: 15904, path: '/fsm-healthcheck', target: { scheme: 'TCP', port: tcpPort } }),
      probe({ kind: 'readiness', port: 15904, path: '/fsm-healthcheck', target: { scheme: 'TCP', port: closedPort } }),
    ],
  });
  await listeners.start();
  t.after(() => listeners.close());
  const url = `http://${app}:15904/fsm-healthcheck`;
  const up = await get(url, { 'Original-Tcp-Port': String(tcpPort) });
  assert.equal(up.status, 200);
  assert.equal(up.body, `Successfully established connection to ${app}:${tcpPort}\n`);
  const down = await get(url, { 'Original-Tcp-Port': String(closedPort) });
  assert.equal(down.status, 404, 'FSM\'s answer when the port does not accept');
  assert.match(down.body, /^Failed to establish connection to .*ECONNREFUSED/);
  assert.equal((await get(url)).status, 400, 'no header');
  const other = await get(url, { 'Original-Tcp-Port': String(httpPort) });
  assert.equal(other.status, 403, 'not a port scanner for the pod\'s other ports');
  assert.match(other.body, new RegExp(`port ${httpPort} is not the target of a TCP probe`));
  assert.equal((await get(`http://${app}:15904/other`, { 'Original-Tcp-Port': String(tcpPort) })).status, 404);
});

test('from the environment: none without the variable; on every address in the pod\'s own namespace, else on the app\'s address', () => {
  assert.equal(healthProbesFromEnv({}, { transparent: true }), undefined);
  const env = { [HEALTH_PROBES_ENV]: serializeHealthProbes([probe({ kind: 'liveness', port: 15901, path: '/fsm-liveness-probe', target: { scheme: 'HTTP', port: 8080, path: '/' } })]), TESSERA_LOCAL_IP: app };
  const transparent = healthProbesFromEnv(env, { transparent: true })!;
  assert.equal(transparent.bindAddress, '0.0.0.0');
  assert.equal(transparent.appAddress, app);
  const loopback = healthProbesFromEnv(env, { transparent: false })!;
  assert.equal(loopback.bindAddress, app);
  assert.throws(() => healthProbesFromEnv({ [HEALTH_PROBES_ENV]: '[1]' }, { transparent: true }), /TESSERA_HEALTH_PROBES\[0\]: not an object/);
});

const SIDECAR_MAIN = fileURLToPath(new URL('../main.js', import.meta.url));

function sidecarEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-probe-sidecar-'));
  dirs.push(dir);
  return {
    PATH: process.env['PATH'],
    TESSERA_POD_NAME: 'web-1', TESSERA_POD_NAMESPACE: 'demo', TESSERA_POD_IP: `127.${block.block}.1.1`, TESSERA_LOCAL_IP: app,
    TESSERA_PROXY_UUID: '00000000-0000-4000-8000-000000000001', TESSERA_PROXY_TOKEN: 'not-a-token',
    // nothing listens there: the sidecar keeps retrying its control plane; the probes do not wait for it
    TESSERA_CONTROLLER_URL: 'https://127.0.0.1:9', TESSERA_CONTROLLER_CA_FILE: caFile, TESSERA_SIDECAR_DIR: dir,
    ...extra,
  };
}

test('the sidecar process serves the probes of its environment from the start, whatever its control plane does', async (t) => {
  const probes = [probe({ kind: 'readiness', port: 15902, path: '/fsm-readiness-probe', target: { scheme: 'HTTP', port: httpPort, path: '/ready-from-sidecar' } })];
  const child = spawn(process.execPath, [SIDECAR_MAIN], { env: sidecarEnv({ [HEALTH_PROBES_ENV]: serializeHealthProbes(probes) }), stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  t.after(() => child.kill('SIGKILL'));
  const answer = await until(async () => {
    if (child.exitCode !== null) throw new Error(`sidecar exited ${child.exitCode}: ${stderr}`);
    return get(`http://${app}:15902/fsm-readiness-probe`).catch(() => undefined);
  }, 'the sidecar\'s readiness probe port', 10_000, 100);
  assert.equal(answer.status, 200);
  assert.equal(answer.body, 'ready /ready-from-sidecar');
  child.kill('SIGTERM');
  assert.equal(await exited, 0, `stopped cleanly on SIGTERM (${stderr})`);
});

test('the sidecar process refuses a bad probe list at start (exit 2), naming the variable', async () => {
  const child = spawn(process.execPath, [SIDECAR_MAIN], { env: sidecarEnv({ [HEALTH_PROBES_ENV]: '[{"kind":"readiness"}]' }), stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  assert.equal(code, 2);
  assert.match(stderr, /sidecar: env TESSERA_HEALTH_PROBES\[0\]\.container: must be a container name/);
});
