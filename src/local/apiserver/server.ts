/** `startApiServer`: the local mesh's API over node:http, bearer-token protected. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { MeshError } from '../../lib/errors.js';
import { CONTROLLER_PORT, controllerAddress } from '../layout.js';
import type { ResourceStore } from '../store/index.js';
import { loadAdmissionChecks, type AdmissionOverrides } from './admission-checks.js';
import type { ApiContext } from './context.js';
import { sendError } from './http-json.js';
import { findRoute } from './routes.js';
import { createLocalKubeApi } from '../kube/index.js';
import { userOfCertificate } from '../pki/index.js';
import type { UserInfo } from '../../kube/apiserver/index.js';

export interface ApiServerOptions extends AdmissionOverrides {
  store: ResourceStore;
  host: string;
  port: number;
  token: string;
  meshName: string;
  stateDir: string;
  block: number;
  onShutdown: () => void;
  /** where the control plane answers; default `http://<controllerAddress(block)>:6060` */
  controllerUrl?: string;
  /** where `tessera up` ran: exec'd commands start there */
  workdir?: string;
  /** the serving certificate and the CA client certificates must chain to */
  tls: { cert: string; key: string; ca: string };
}

export interface RunningApiServer {
  url: string;
  close(): Promise<void>;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Constant-time comparison, on digests so that lengths do not leak either. */
function authorized(req: IncomingMessage, expected: Buffer): boolean {
  const m = (req.headers.authorization ?? '').match(/^Bearer\s+(\S+)$/i);
  return m !== null && timingSafeEqual(digest(m[1]!), expected);
}

/** A verified client certificate names the user; otherwise the mesh's API token, held by its own components. */
function authenticate(req: IncomingMessage, expectedToken: Buffer): UserInfo | undefined {
  const socket = req.socket as TLSSocket;
  if (socket.authorized) {
    const user = userOfCertificate(socket.getPeerCertificate() as unknown as { subject?: Record<string, string | string[]> });
    if (user) return user;
  }
  if (authorized(req, expectedToken)) return { username: 'system:tessera:control-plane', groups: ['system:masters', 'system:authenticated'] };
  return undefined;
}

export async function startApiServer(opts: ApiServerOptions): Promise<RunningApiServer> {
  const checks = await loadAdmissionChecks(opts);
  const ctx: ApiContext = {
    store: opts.store,
    meshName: opts.meshName,
    stateDir: resolve(opts.stateDir),
    block: opts.block,
    checks,
    controllerUrl: opts.controllerUrl ?? `http://${controllerAddress(opts.block)}:${CONTROLLER_PORT}`,
    url: '',
    onShutdown: opts.onShutdown,
  };
  if (opts.workdir !== undefined) ctx.workdir = opts.workdir;
  const expectedToken = digest(opts.token);
  const streams = new Set<() => void>();

  const kube = createLocalKubeApi({
    ctx,
    serverAddress: `${opts.host}:${opts.port}`,
    authenticate: (req) => authenticate(req, expectedToken),
  });
  /** The mesh's own routes: `/healthz` (its JSON form) and `/v1/*`; everything else is the Kubernetes API. */
  const isMeshRoute = (path: string): boolean => path === '/healthz' || path.startsWith('/v1/');

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!isMeshRoute(url.pathname)) {
      await kube.handle(req, res);
      return;
    }
    const found = findRoute(req.method ?? 'GET', url.pathname);
    if ('allowed' in found) {
      if (found.allowed.length > 0) res.setHeader('allow', found.allowed.join(', '));
      throw new MeshError(found.allowed.length > 0 ? 'MESH_ERR_USAGE' : 'MESH_ERR_NOT_FOUND', `no route for ${req.method} ${url.pathname}`);
    }
    if (found.route.auth && !authenticate(req, expectedToken)) {
      res.setHeader('www-authenticate', 'Bearer');
      throw new MeshError('MESH_ERR_FORBIDDEN', 'missing or wrong bearer token: use the apiToken from this mesh\'s mesh.json');
    }
    await found.route.handle({
      req, res, url, ctx, params: found.params,
      trackStream: (close) => {
        streams.add(close);
        res.on('close', () => streams.delete(close));
      },
    });
  };

  // Client certificates are asked for but not required: ServiceAccount-style bearer tokens remain a
  // way in. A presented certificate counts only when it chains to the cluster CA.
  const server = createServer({ cert: opts.tls.cert, key: opts.tls.key, ca: opts.tls.ca, requestCert: true, rejectUnauthorized: false }, (req, res) => {
    handle(req, res).catch((err: unknown) => sendError(res, err));
  });
  server.on('upgrade', (req, socket, head) => {
    kube.upgrade(req, socket, head).catch(() => socket.destroy());
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  ctx.url = `https://${address.includes(':') ? `[${address}]` : address}:${port}`;

  return {
    url: ctx.url,
    close: () => new Promise<void>((resolveClose) => {
      for (const close of [...streams]) close();
      kube.close();
      server.close(() => resolveClose());
      // Long polls and keep-alive sockets would otherwise hold close() open.
      server.closeAllConnections();
    }),
  };
}
