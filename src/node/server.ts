/**
 * The kubelet API, the part the API server proxies to: `GET /containerLogs/{ns}/{pod}/{container}`
 * (follow, tailLines, limitBytes), `/exec/{ns}/{pod}[/{uid}]/{container}?command=…` (SPDY/3.1 or
 * WebSocket, as src/kube/streaming accepts it: the API server speaks to the kubelet what kubectl
 * speaks to it), `/portForward/{ns}/{pod}` and `/healthz`.
 *
 * HTTPS only. Callers authenticate as the kubelet's webhook authentication does: a client
 * certificate chaining to the client CA (the API server's `--kubelet-client-certificate`), else a
 * bearer token checked with a TokenReview. Every request is then authorized with a
 * SubjectAccessReview on `nodes/proxy` (`nodes/log` for /logs, `nodes/healthz` for /healthz) of this
 * node, the verb from the method (GET → get, POST → create, …), as the kubelet's webhook authorizer.
 */
import { spawn } from 'node:child_process';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { connect, type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { localIPFor, stateFiles } from '../local/layout.js';
import { podProcessInfo } from '../local/client/pod-info.js';
import { SIDECAR_CONTAINER } from '../local/runtime/builtin-runtimes.js';
import { hasPreviousRun, readContainerLog, readOptionsOf } from '../local/container-log/index.js';
import { APP_UID, SIDECAR_UID, withoutProxyVariables } from '../local/runtime/pod-network.js';
import { dialInPod, runInPod } from '../local/sandbox/index.js';
import { acceptExec, acceptPortForward, parseExecQuery, refuseUpgrade, runExecChild, StreamingError } from '../kube/streaming/index.js';
import type { NodeApi } from './api.js';
import type { NodePods, RunningPod } from './pods.js';

const AUTH_CACHE_MS = 10_000;

export interface KubeletServerOptions {
  api: NodeApi;
  nodeName: string;
  pods: NodePods;
  block: number;
  workdir: string;
  certPem: string;
  keyPem: string;
  /** PEM of the CA(s) client certificates must chain to */
  clientCaPem: string;
  host: string;
  port: number;
  log: (line: string) => void;
}

interface User {
  name: string;
  groups: string[];
  uid?: string;
}

class HttpError extends Error {
  constructor(readonly code: number, readonly reason: StreamingError['reason'] | 'NotFound', message: string) {
    super(message);
  }
}

function statusBody(code: number, reason: string, message: string): string {
  return JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
}

function verbOf(method: string | undefined): string {
  switch (method) {
    case 'POST': return 'create';
    case 'PUT': return 'update';
    case 'PATCH': return 'patch';
    case 'DELETE': return 'delete';
    default: return 'get';
  }
}

function subresourceOf(path: string): string {
  if (path === '/healthz' || path.startsWith('/healthz/')) return 'healthz';
  if (path.startsWith('/logs')) return 'log';
  return 'proxy';
}

export class KubeletServer {
  #o: KubeletServerOptions;
  #server: Server;
  #authCache = new Map<string, { until: number; allowed: boolean; why: string }>();

  constructor(o: KubeletServerOptions) {
    this.#o = o;
    this.#server = createServer({ cert: o.certPem, key: o.keyPem, ca: o.clientCaPem, requestCert: true, rejectUnauthorized: false }, (req, res) => {
      void this.#handle(req, res).catch((e: unknown) => this.#fail(res, e));
    });
    this.#server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      void this.#upgrade(req, socket, head).catch((e: unknown) => {
        const err = e instanceof StreamingError ? e : e instanceof HttpError
          ? new StreamingError(e.code === 401 ? 'Unauthorized' : e.code === 403 ? 'Forbidden' : e.code === 404 ? 'BadRequest' : 'InternalError', e.message)
          : new StreamingError('InternalError', (e as Error).message);
        refuseUpgrade(socket, err);
      });
    });
    this.#server.on('tlsClientError', () => undefined);
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#o.port, this.#o.host, () => {
        this.#server.off('error', reject);
        resolve((this.#server.address() as AddressInfo).port);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  #fail(res: ServerResponse, e: unknown): void {
    const code = e instanceof HttpError ? e.code : e instanceof StreamingError ? e.httpStatus : 500;
    const reason = e instanceof HttpError || e instanceof StreamingError ? e.reason : 'InternalError';
    if (!res.headersSent) {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(statusBody(code, reason, (e as Error).message));
    } else {
      res.destroy();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // authentication and authorization

  async #authenticate(req: IncomingMessage): Promise<User> {
    const socket = req.socket as TLSSocket;
    if (socket.authorized) {
      const peer = socket.getPeerCertificate();
      const subject = peer.subject as unknown as Record<string, string | string[]> | undefined;
      const cn = subject?.CN;
      const o = subject?.O;
      if (typeof cn === 'string' && cn) return { name: cn, groups: [...(Array.isArray(o) ? o : o ? [o] : []), 'system:authenticated'] };
    }
    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ') ? auth.slice(7).trim() : undefined;
    if (!token) throw new HttpError(401, 'Unauthorized', 'Unauthorized');
    const review = await this.#o.api.must<{ status?: { authenticated?: boolean; user?: { username?: string; groups?: string[]; uid?: string } } }>(
      'POST', '/apis/authentication.k8s.io/v1/tokenreviews',
      { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } },
    );
    const u = review.status?.user;
    if (!review.status?.authenticated || !u?.username) throw new HttpError(401, 'Unauthorized', 'Unauthorized');
    return { name: u.username, groups: u.groups ?? [], ...(u.uid ? { uid: u.uid } : {}) };
  }

  async #authorize(user: User, req: IncomingMessage, path: string): Promise<void> {
    const verb = verbOf(req.method);
    const subresource = subresourceOf(path);
    const key = `${user.name}\n${user.groups.join(',')}\n${verb}\n${subresource}`;
    const cached = this.#authCache.get(key);
    let decision = cached && cached.until > Date.now() ? cached : undefined;
    if (!decision) {
      const sar = await this.#o.api.must<{ status?: { allowed?: boolean; reason?: string } }>(
        'POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
          apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview',
          spec: {
            user: user.name, groups: user.groups, ...(user.uid ? { uid: user.uid } : {}),
            resourceAttributes: { verb, group: '', version: 'v1', resource: 'nodes', subresource, name: this.#o.nodeName },
          },
        },
      );
      decision = { until: Date.now() + AUTH_CACHE_MS, allowed: sar.status?.allowed === true, why: sar.status?.reason ?? '' };
      this.#authCache.set(key, decision);
    }
    if (!decision.allowed) {
      throw new HttpError(403, 'Forbidden',
        `Forbidden (user=${user.name}, verb=${verb}, resource=nodes, subresource=${subresource})${decision.why ? `: ${decision.why}` : ''}`);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // routes

  #pod(ns: string | undefined, name: string | undefined): RunningPod {
    const p = ns && name ? this.#o.pods.find(decodeURIComponent(ns), decodeURIComponent(name)) : undefined;
    if (!p) throw new HttpError(404, 'NotFound', `pod "${name ?? ''}" in namespace "${ns ?? ''}" is not running on node ${this.#o.nodeName}`);
    return p;
  }

  #container(p: RunningPod, name: string | undefined): string {
    const c = name ? decodeURIComponent(name) : undefined;
    if (c && p.containers.includes(c)) return c;
    throw new HttpError(404, 'NotFound', `container "${c ?? ''}" not found in pod ${p.pod.metadata.name}: choose one of: [${p.containers.join(' ')}]`);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const user = await this.#authenticate(req);
    await this.#authorize(user, req, url.pathname);
    const parts = url.pathname.split('/').filter(Boolean);
    if (url.pathname === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
      return;
    }
    if (parts[0] === 'containerLogs' && req.method === 'GET' && parts.length === 4) {
      const p = this.#pod(parts[1], parts[2]);
      await this.#logs(p, this.#container(p, parts[3]), url, req, res);
      return;
    }
    if (parts[0] === 'exec' || parts[0] === 'attach' || parts[0] === 'portForward') {
      throw new HttpError(400, 'BadRequest', 'upgrade request required (SPDY/3.1 or websocket)');
    }
    throw new HttpError(404, 'NotFound', `${req.method} ${url.pathname}: not found`);
  }

  async #logs(p: RunningPod, container: string, url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const q = url.searchParams;
    const file = stateFiles.containerLog(this.#o.pods.rootDir, p.pod.metadata.namespace ?? 'default', p.pod.metadata.name, container);
    const previous = q.get('previous') === 'true';
    if (previous && !hasPreviousRun(file)) throw new HttpError(400, 'BadRequest', `previous terminated container "${container}" in pod "${p.pod.metadata.name}" not found`);
    const int = (name: string): number | undefined => {
      const v = q.get(name);
      if (v === null || v === '') return undefined;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new HttpError(400, 'BadRequest', `${name}: Invalid value: "${v}": must be a non-negative integer`);
      return n;
    };
    const sinceTime = q.get('sinceTime');
    if (sinceTime && Number.isNaN(Date.parse(sinceTime))) throw new HttpError(400, 'BadRequest', `sinceTime: Invalid value: "${sinceTime}": must be an RFC 3339 time`);
    const query = {
      tailLines: int('tailLines'), sinceSeconds: int('sinceSeconds'), limitBytes: int('limitBytes'), ...(sinceTime ? { sinceTime } : {}),
      timestamps: q.get('timestamps') === 'true', follow: q.get('follow') === 'true', previous,
    };
    const abort = new AbortController();
    req.on('close', () => abort.abort());
    res.on('close', () => abort.abort());
    const ns = p.pod.metadata.namespace ?? 'default';
    const stream = await readContainerLog(file, {
      ...readOptionsOf(query),
      // a pod that stopped ends a follow
      following: () => this.#o.pods.find(ns, p.pod.metadata.name) !== undefined,
    }, abort.signal);
    res.writeHead(200, { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    stream.on('error', () => res.end());
    stream.pipe(res);
  }

  async #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const user = await this.#authenticate(req);
    await this.#authorize(user, req, url.pathname);
    const parts = url.pathname.split('/').filter(Boolean);
    if (parts[0] === 'exec' && (parts.length === 4 || parts.length === 5)) {
      const p = this.#pod(parts[1], parts[2]);
      const container = this.#container(p, parts[parts.length - 1]);
      await this.#exec(p, container, url, req, socket, head);
      return;
    }
    if (parts[0] === 'portForward' && (parts.length === 3 || parts.length === 4)) {
      const p = this.#pod(parts[1], parts[2]);
      const sandbox = p.sandbox;
      if (sandbox) {
        // namespace mode: the pod's own localhost, dialed inside its network namespace
        await acceptPortForward(req, socket, head, (port) => dialInPod(sandbox, '127.0.0.1', port));
        return;
      }
      const hasSidecar = p.containers.includes(SIDECAR_CONTAINER);
      // as in a cluster, a forwarded port is the pod's own localhost: the app's address, not the sidecar
      const target = hasSidecar ? localIPFor(p.podIP) : p.podIP;
      await acceptPortForward(req, socket, head, (port) => new Promise<Duplex>((resolve, reject) => {
        const s = connect(port, target);
        s.once('connect', () => resolve(s));
        s.once('error', reject);
      }));
      return;
    }
    throw new HttpError(404, 'NotFound', `${req.method} ${url.pathname}: not found`);
  }

  async #exec(p: RunningPod, container: string, url: URL, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    // The API server names the streams as the kubelet expects them: input, output, error (1 or 0).
    const q = new URLSearchParams();
    for (const c of url.searchParams.getAll('command')) q.append('command', c);
    const flag = (kubelet: string, api: string): string | null => url.searchParams.get(kubelet) ?? url.searchParams.get(api);
    const asBool = (v: string | null): string => (v === '1' || v === 'true' ? 'true' : 'false');
    q.set('stdin', asBool(flag('input', 'stdin')));
    q.set('stdout', asBool(flag('output', 'stdout')));
    q.set('stderr', asBool(flag('error', 'stderr')));
    q.set('tty', asBool(url.searchParams.get('tty')));
    q.set('container', container);
    const options = parseExecQuery(new URL(`https://kubelet/?${q}`));
    const info = podProcessInfo({ ...p.pod, status: { ...p.pod.status, podIP: p.podIP } }, this.#o.block, this.#o.pods.rootDir);
    const session = await acceptExec(req, socket, head, options);
    const [cmd, ...args] = options.command;
    this.#o.log(`pod ${p.pod.metadata.namespace}/${p.pod.metadata.name}: exec in ${container}: ${options.command.join(' ')}`);
    // namespace mode: inside the pod's namespaces, as the container's uid, with no proxy variables
    const child = p.sandbox
      ? runInPod(p.sandbox, options.command, {
        uid: container === SIDECAR_CONTAINER ? SIDECAR_UID : APP_UID,
        env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: '/tmp', ...withoutProxyVariables(info.env) },
        mounts: p.mountsFor(container),
        stdio: ['pipe', 'pipe', 'pipe'],
      })
      : spawn(cmd!, args, { cwd: this.#o.workdir, env: { ...process.env, ...info.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    await runExecChild(session, child);
  }
}
