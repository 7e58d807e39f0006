/**
 * Test support: the smallest HTTPS "API server" that real kubectl will `exec` against (discovery,
 * one Pod, the exec/attach upgrade), with a throwaway CA-signed certificate and a kubeconfig that
 * trusts it by certificate-authority-data and authenticates with a bearer token.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { promisify } from 'node:util';
import { once } from 'node:events';
import { connect } from 'node:net';
import { acceptPortForward, type AcceptPortForwardSettings } from './portforward.js';
import { acceptExec, type AcceptExecSettings } from './accept.js';
import { runExecChild } from './child.js';
import { StreamingError } from './errors.js';
import { parseExecQuery } from './options.js';
import { refuseUpgrade } from './refuse.js';
import type { ExecSession, TerminalSize } from './session.js';
import type { ExecResult } from './status.js';

const run = promisify(execFile);

export const KUBECTL = {
  '1.32': '/usr/bin/kubectl',
  '1.27': '/usr/lib/google-cloud-sdk/bin/kubectl.1.27',
  '1.33': '/usr/lib/google-cloud-sdk/bin/kubectl.1.33',
} as const;

/** The binary, or `undefined` after one line saying it is missing (for `{ skip }`). */
export function kubectlBinary(version: keyof typeof KUBECTL): string | undefined {
  const bin = KUBECTL[version];
  return existsSync(bin) ? bin : undefined;
}

export interface ExecRecord {
  url: string;
  method: string;
  session?: ExecSession;
  result?: ExecResult;
  refused?: StreamingError;
  resizes: TerminalSize[];
}

export interface TestApiServer {
  url: string;
  dir: string;
  token: string;
  ca: Buffer;
  kubeconfig: string;
  /** Every exec/attach upgrade seen, in order. */
  execs: ExecRecord[];
  settings: AcceptExecSettings;
  /** Pod port → port on 127.0.0.1 that port-forward connects to; other ports are refused. */
  podPorts: Map<number, number>;
  /** Port-forward upgrades seen. */
  forwards: { method: string; refused?: StreamingError; protocol?: string }[];
  portForwardSettings: AcceptPortForwardSettings;
  close(): Promise<void>;
}

const POD_NAME = 'web-0';
const NAMESPACE = 'default';

async function makeCertificate(dir: string): Promise<{ key: Buffer; cert: Buffer }> {
  const keyFile = join(dir, 'server.key');
  const certFile = join(dir, 'server.crt');
  // Self-signed, with the IP in subjectAltName: Go verifies names against SANs only.
  await run('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=tessera-streaming-test',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-addext', 'basicConstraints=critical,CA:TRUE',
  ], { timeout: 20_000 });
  return { key: await readFile(keyFile), cert: await readFile(certFile) };
}

function json(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function statusBody(code: number, reason: string, message: string): unknown {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

const pod = {
  kind: 'Pod',
  apiVersion: 'v1',
  metadata: { name: POD_NAME, namespace: NAMESPACE, uid: '5f0c1c2e-0000-4000-8000-000000000001', resourceVersion: '1', creationTimestamp: '2025-01-01T00:00:00Z' },
  spec: { containers: [{ name: 'main', image: 'tessera/test' }] },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [{ name: 'main', ready: true, restartCount: 0, image: 'tessera/test', imageID: '', started: true, state: { running: { startedAt: '2025-01-01T00:00:00Z' } } }] },
};

const coreResources = {
  kind: 'APIResourceList',
  apiVersion: 'v1',
  groupVersion: 'v1',
  resources: [
    { name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs: ['get', 'list'], shortNames: ['po'] },
    { name: 'pods/exec', singularName: '', namespaced: true, kind: 'PodExecOptions', verbs: ['create', 'get'] },
    { name: 'pods/attach', singularName: '', namespaced: true, kind: 'PodAttachOptions', verbs: ['create', 'get'] },
    { name: 'pods/portforward', singularName: '', namespaced: true, kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
  ],
};

export async function startTestApiServer(settings: AcceptExecSettings = {}): Promise<TestApiServer> {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-streaming-'));
  const { key, cert } = await makeCertificate(dir);
  const token = `test-${Math.random().toString(36).slice(2)}`;
  const execs: ExecRecord[] = [];
  const podPorts = new Map<number, number>();
  const forwards: TestApiServer['forwards'] = [];
  const portForwardSettings: AcceptPortForwardSettings = {};
  const children = new Set<ChildProcess>();
  const authorized = (req: IncomingMessage): boolean => req.headers.authorization === `Bearer ${token}`;

  const server: Server = createServer({ key, cert }, (req, res) => {
    if (!authorized(req)) return json(res, 401, statusBody(401, 'Unauthorized', 'Unauthorized'));
    const path = new URL(req.url ?? '/', 'https://x').pathname;
    if (path === '/api') return json(res, 200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }] });
    if (path === '/apis') return json(res, 200, { kind: 'APIGroupList', apiVersion: 'v1', groups: [] });
    if (path === '/api/v1') return json(res, 200, coreResources);
    if (req.method === 'GET' && path === `/api/v1/namespaces/${NAMESPACE}/pods/${POD_NAME}`) return json(res, 200, pod);
    if (path.startsWith(`/api/v1/namespaces/${NAMESPACE}/pods/`)) return json(res, 404, statusBody(404, 'NotFound', `pods "${path.split('/')[6]}" not found`));
    json(res, 404, statusBody(404, 'NotFound', 'the server could not find the requested resource'));
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    const url = new URL(req.url ?? '/', 'https://x');
    const record: ExecRecord = { url: url.pathname + url.search, method: req.method ?? '', resizes: [] };
    execs.push(record);
    if (url.pathname === `/api/v1/namespaces/${NAMESPACE}/pods/${POD_NAME}/portforward`) {
      execs.pop();
      const fwd: TestApiServer['forwards'][number] = { method: req.method ?? '' };
      forwards.push(fwd);
      if (!authorized(req)) return refuseUpgrade(socket, new StreamingError('Unauthorized', 'Unauthorized'));
      acceptPortForward(req, socket, head, async (port) => {
        const local = podPorts.get(port);
        if (local === undefined) throw new Error(`dial tcp 127.0.0.1:${port}: connect: connection refused`);
        const target = connect(local, '127.0.0.1');
        await once(target, 'connect');
        return target;
      }, portForwardSettings).then(
        (session) => void (fwd.protocol = session.protocol),
        (err: unknown) => void (fwd.refused = err instanceof StreamingError ? err : undefined),
      );
      return;
    }
    void (async () => {
      try {
        if (!authorized(req)) throw new StreamingError('Unauthorized', 'Unauthorized');
        if (url.pathname !== `/api/v1/namespaces/${NAMESPACE}/pods/${POD_NAME}/exec`) throw new StreamingError('BadRequest', `no streaming endpoint at ${url.pathname}`);
        const opts = parseExecQuery(url);
        record.session = await acceptExec(req, socket, head, opts, settings);
        record.session.resize.on('resize', (size: TerminalSize) => record.resizes.push(size));
        const child = spawn(opts.command[0]!, opts.command.slice(1), { stdio: 'pipe' });
        children.add(child);
        child.once('close', () => children.delete(child));
        record.result = await runExecChild(record.session, child);
      } catch (err) {
        if (err instanceof StreamingError) {
          record.refused = err;
          refuseUpgrade(socket, err); // a no-op when acceptExec has already answered
        } else socket.destroy();
      }
    })();
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const url = `https://127.0.0.1:${port}`;
  const kubeconfig = join(dir, 'kubeconfig');
  await writeFile(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'test', cluster: { server: url, 'certificate-authority-data': cert.toString('base64') } }],
      users: [{ name: 'test', user: { token } }],
      contexts: [{ name: 'test', context: { cluster: 'test', user: 'test', namespace: NAMESPACE } }],
      'current-context': 'test',
    }),
  );

  return {
    url,
    dir,
    token,
    ca: cert,
    kubeconfig,
    execs,
    settings,
    podPorts,
    forwards,
    portForwardSettings,
    async close() {
      for (const child of children) child.kill('SIGKILL');
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export const TEST_POD = POD_NAME;

export interface KubectlRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs kubectl against `server` with a hard timeout; only this child is ever killed. */
export function kubectl(bin: string, server: TestApiServer, args: string[], input?: string | Buffer, timeoutMs = 30_000): Promise<KubectlRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ['--kubeconfig', server.kubeconfig, '--cache-dir', join(server.dir, 'cache'), ...args], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: server.dir },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.stdin.on('error', () => {});
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString() });
    });
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
  });
}
