/** `startApiServer`: the local mesh's API over node:http, bearer-token protected. */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { MeshError } from '../../lib/errors.js';
import { CONTROLLER_PORT, controllerAddress } from '../layout.js';
import type { ResourceStore } from '../store/index.js';
import { loadAdmissionChecks, type AdmissionOverrides } from './admission-checks.js';
import type { ApiContext } from './context.js';
import { sendError } from './http-json.js';
import { findRoute } from './routes.js';

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
  const expectedToken = digest(opts.token);
  const streams = new Set<() => void>();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const found = findRoute(req.method ?? 'GET', url.pathname);
    if ('allowed' in found) {
      if (found.allowed.length > 0) res.setHeader('allow', found.allowed.join(', '));
      throw new MeshError(found.allowed.length > 0 ? 'MESH_ERR_USAGE' : 'MESH_ERR_NOT_FOUND', `no route for ${req.method} ${url.pathname}`);
    }
    if (found.route.auth && !authorized(req, expectedToken)) {
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

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => sendError(res, err));
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  ctx.url = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;

  return {
    url: ctx.url,
    close: () => new Promise<void>((resolveClose) => {
      for (const close of [...streams]) close();
      server.close(() => resolveClose());
      // Long polls and keep-alive sockets would otherwise hold close() open.
      server.closeAllConnections();
    }),
  };
}
