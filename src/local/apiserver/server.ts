/**
 * `startApiServer`: the local mesh's Kubernetes API over HTTPS. Clients authenticate with a client
 * certificate from the cluster CA (the kubeconfig `up` writes), a ServiceAccount token (the mesh's
 * components run as theirs, with least-privilege RBAC) or an OIDC id token (src/local/kube).
 *
 * `token` is for embedders that want one all-powerful bearer token (`system:masters`): the
 * in-process test fixtures (api-fixtures.ts). The daemon passes none, so no such token exists on a
 * running mesh.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import type { TLSSocket } from 'node:tls';
import type { Pod } from '../../api/types.js';
import type { UserInfo } from '../../kube/apiserver/index.js';
import type { InjectorClient } from '../controllers/index.js';
import { CONTROLLER_PORT, controllerAddress } from '../layout.js';
import { createLocalKubeApi } from '../kube/index.js';
import { userOfCertificate } from '../pki/index.js';
import type { ResourceStore } from '../store/index.js';
import { loadAdmissionChecks, type AdmissionOverrides } from './admission-checks.js';
import type { ApiContext } from './context.js';

export interface ApiServerOptions extends AdmissionOverrides {
  store: ResourceStore;
  host: string;
  port: number;
  /** an all-powerful bearer token (tests only; the daemon gives none) */
  token?: string;
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
  /** the local mesh's injector, which admission calls for pods of the namespaces it covers */
  injector?: InjectorClient;
}

export interface RunningApiServer {
  url: string;
  /** creates a pod through the whole admission chain, as kube-controller-manager's replicaset controller */
  createPod(pod: Pod): Promise<Pod>;
  close(): Promise<void>;
}

/** Who the local deployment controller's pod creations come from, as on a cluster (webhooks and policies see it). */
export const REPLICASET_CONTROLLER: UserInfo = {
  username: 'system:serviceaccount:kube-system:replicaset-controller',
  groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'],
};

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Constant-time comparison, on digests so that lengths do not leak either. */
function tokenMatches(req: IncomingMessage, expected: Buffer): boolean {
  const m = (req.headers.authorization ?? '').match(/^Bearer\s+(\S+)$/i);
  return m !== null && timingSafeEqual(digest(m[1]!), expected);
}

/** A verified client certificate names the user; otherwise the embedder's token, when it gave one. */
function authenticate(req: IncomingMessage, expectedToken: Buffer | undefined): UserInfo | undefined {
  const socket = req.socket as TLSSocket;
  if (socket.authorized) {
    const user = userOfCertificate(socket.getPeerCertificate() as unknown as { subject?: Record<string, string | string[]> });
    if (user) return user;
  }
  if (expectedToken && tokenMatches(req, expectedToken)) return { username: 'system:tessera:control-plane', groups: ['system:masters', 'system:authenticated'] };
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
  if (opts.injector) ctx.injector = opts.injector;
  const expectedToken = opts.token ? digest(opts.token) : undefined;
  let kube: ReturnType<typeof createLocalKubeApi> | undefined;

  // Client certificates are asked for but not required: bearer tokens remain a way in. A presented
  // certificate counts only when it chains to the cluster CA.
  const server = createServer({ cert: opts.tls.cert, key: opts.tls.key, ca: opts.tls.ca, requestCert: true, rejectUnauthorized: false }, (req, res) => {
    void kube!.handle(req, res);
  });
  server.on('upgrade', (req, socket, head) => {
    kube!.upgrade(req, socket, head).catch(() => socket.destroy());
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  ctx.url = `https://${host}:${port}`;
  // Requests cannot arrive before listen() completed, so the API exists before the first one.
  kube = createLocalKubeApi({ ctx, serverAddress: `${host}:${port}`, authenticate: (req) => authenticate(req, expectedToken) });

  return {
    url: ctx.url,
    createPod: async (pod) => (await kube!.create(REPLICASET_CONTROLLER, pod)) as Pod,
    close: () => new Promise<void>((resolveClose) => {
      kube?.close();
      server.close(() => resolveClose());
      // Watches and keep-alive sockets would otherwise hold close() open.
      server.closeAllConnections();
    }),
  };
}
