/**
 * Where a local mesh puts things: addresses inside its own /16 of 127.0.0.0/8, ports, files in the
 * state directory, and the environment each local process receives. Everything that the runner,
 * the controller and the sidecars must agree on lives here.
 *
 *   127.B.0.1          API server (the `tessera up` daemon)          :15080
 *   127.B.0.2          control plane (pod <mesh>-controller)         :6060
 *   127.B.0.3          sidecar injector webhook (pod <mesh>-injector) :9090
 *   127.B.0.4          bootstrap health (pod <mesh>-bootstrap)       :9091
 *   127.B.P.Q  P=1..63    pod IPs (status.podIP): the sidecar's inbound listeners, admin :15000
 *   127.B.P+64.Q          the same pod's private "localhost": its apps bind here, outbound proxy :15001
 *   127.B.128.0/17        Service cluster IPs (virtual: nothing listens there)
 *
 * B is leased per state directory (see `leaseMeshBlock`) so meshes never share addresses.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { join } from 'node:path';

export const API_PORT = 15080;
export const CONTROLLER_PORT = 6060;
/** FSM's injector webhook port */
export const INJECTOR_PORT = 9090;
/** FSM's bootstrap health port */
export const BOOTSTRAP_PORT = 9091;
export const SIDECAR_ADMIN_PORT = 15000;
export const SIDECAR_OUTBOUND_PORT = 15001;

export function apiAddress(block: number): string {
  return `127.${block}.0.1`;
}
export function controllerAddress(block: number): string {
  return `127.${block}.0.2`;
}
export function injectorAddress(block: number): string {
  return `127.${block}.0.3`;
}
export function bootstrapAddress(block: number): string {
  return `127.${block}.0.4`;
}

/** Pod number n (0-based) → its pod IP. */
export function podIPFor(block: number, n: number): string {
  const p = 1 + Math.floor(n / 254);
  const q = 1 + (n % 254);
  if (p > 63) throw new Error('local mesh is out of pod addresses');
  return `127.${block}.${p}.${q}`;
}

/** The private address paired with a pod IP. */
export function localIPFor(podIP: string): string {
  const [a, b, p, q] = podIP.split('.').map(Number) as [number, number, number, number];
  return `${a}.${b}.${p + 64}.${q}`;
}

/** Service number n (0-based) → its cluster IP. */
export function clusterIPFor(block: number, n: number): string {
  const p = 128 + Math.floor(n / 254);
  const q = 1 + (n % 254);
  if (p > 255) throw new Error('local mesh is out of service addresses');
  return `127.${block}.${p}.${q}`;
}

/** Files under the state directory. */
export const stateFiles = {
  mesh: (dir: string) => join(dir, 'mesh.json'),
  store: (dir: string) => join(dir, 'store.json'),
  storeDb: (dir: string) => join(dir, 'store.db'),
  secretKey: (dir: string) => join(dir, 'mesh.key'),
  apiCa: (dir: string) => join(dir, 'pki', 'ca.crt'),
  kubeconfig: (dir: string) => join(dir, 'kubeconfig'),
  daemonLog: (dir: string) => join(dir, 'daemon.log'),
  /** a serving certificate the cluster CA issued at `up` for a control-plane component (`controller`, `injector`) */
  servingCert: (dir: string, name: string) => join(dir, 'pki', `${name}.crt`),
  servingKey: (dir: string, name: string) => join(dir, 'pki', `${name}.key`),
  podDir: (dir: string, ns: string, pod: string) => join(dir, 'pods', ns, pod),
  containerLog: (dir: string, ns: string, pod: string, container: string) => join(dir, 'pods', ns, pod, `${container}.log`),
};

/** mesh.json: written by `tessera up`, read by every CLI command to find the mesh. */
export interface MeshFile {
  meshName: string;
  block: number;
  apiUrl: string;
  /** bearer token the CLI presents to the API server */
  apiToken: string;
  pid: number;
  /** where `tessera up` ran; local commands of workloads run here */
  workdir: string;
  startedAt: string;
  /** how pods run: `namespace` (sandboxes, transparent interception) or `loopback`; absent means loopback */
  podNetwork?: 'namespace' | 'loopback';
  /** container log rotation the daemon was started with; absent means the kubelet's defaults (10Mi, 5 files) */
  containerLogs?: { maxSize: number; maxFiles: number };
}

/** Environment names a sidecar process reads. */
export const SIDECAR_ENV = {
  podName: 'TESSERA_POD_NAME',
  podNamespace: 'TESSERA_POD_NAMESPACE',
  podUID: 'TESSERA_POD_UID',
  podIP: 'TESSERA_POD_IP',
  localIP: 'TESSERA_LOCAL_IP',
  serviceAccount: 'TESSERA_SERVICE_ACCOUNT',
  proxyUUID: 'TESSERA_PROXY_UUID',
  /** short-lived token (see `proxyToken`): proves to the controller which proxy this is */
  proxyToken: 'TESSERA_PROXY_TOKEN',
  /** on a cluster: a file with the pod's projected ServiceAccount token (audience `<mesh>-controller`), read instead of a proxy token */
  proxyTokenFile: 'TESSERA_PROXY_TOKEN_FILE',
  controllerUrl: 'TESSERA_CONTROLLER_URL',
  /** the cluster CA the controller's serving certificate must chain to (before any token is sent) */
  controllerCa: 'TESSERA_CONTROLLER_CA_FILE',
  /**
   * the name the controller's certificate must carry when the URL's host is a relay's address (a
   * node's sandboxed sidecar dials its bridge gateway; the certificate names the controller)
   */
  controllerServerName: 'TESSERA_CONTROLLER_SERVER_NAME',
  /** bearer token the admin port's state-changing endpoints (POST /quitquitquit) require (`sidecarAdminToken`) */
  adminToken: 'TESSERA_ADMIN_TOKEN',
  /** directory where the sidecar keeps its last good snapshot */
  dataDir: 'TESSERA_SIDECAR_DIR',
  meshName: 'TESSERA_MESH_NAME',
  /**
   * JSON: the env the pod spec declares for the sidecar container, which PipyJS scripts read as
   * `os.env` (the sidecar reads it once and removes it, with the tokens, from its environment)
   */
  scriptEnv: 'TESSERA_SCRIPT_ENV',
  /** milliseconds of blocked event loop after which the sidecar's watchdog ends it (default 3000; 0: no watchdog) */
  watchdogMs: 'TESSERA_SIDECAR_WATCHDOG_MS',
} as const;

/**
 * The exit code of a sidecar its watchdog ended because its event loop was blocked: the runner
 * restarts it as any crash, and records the cause (the last line the sidecar wrote on stderr) as a
 * `SidecarUnresponsive` event of the pod.
 */
export const SIDECAR_EXIT_UNRESPONSIVE = 86;

/** The sidecar's list of upstream listeners in its data directory, read by local apps' runtimes (app-env.ts). */
export const UPSTREAMS_FILE = 'upstreams.json';

/** Names that hold credentials: never shown to a PipyJS script, whatever a spec declares. */
export const SIDECAR_CREDENTIAL_ENV: readonly string[] = [SIDECAR_ENV.proxyToken, SIDECAR_ENV.adminToken];

/** Environment names the control-plane process reads. */
export const CONTROLLER_ENV = {
  apiUrl: 'TESSERA_API_URL',
  /** the cluster CA that the API server's certificate must chain to */
  apiCa: 'TESSERA_API_CA_FILE',
  apiToken: 'TESSERA_API_TOKEN',
  meshName: 'TESSERA_MESH_NAME',
  listen: 'TESSERA_CONTROLLER_LISTEN',
  /** hex key used to check proxy tokens */
  meshKey: 'TESSERA_MESH_KEY',
  stateDir: 'TESSERA_STATE_DIR',
  /** the delivery endpoint's serving certificate and key (PEM files), issued by the cluster CA at `up` */
  tlsCert: 'TESSERA_CONTROLLER_TLS_CERT',
  tlsKey: 'TESSERA_CONTROLLER_TLS_KEY',
} as const;

/** Environment names the injector process (pod `<mesh>-injector`) reads. */
export const INJECTOR_ENV = {
  /** the daemon presents this bearer token when it calls the webhook */
  apiToken: 'TESSERA_API_TOKEN',
  meshName: 'TESSERA_MESH_NAME',
  listen: 'TESSERA_INJECTOR_LISTEN',
  /** the webhook's serving certificate and key (PEM files), issued by the cluster CA at `up` */
  tlsCert: 'TESSERA_INJECTOR_TLS_CERT',
  tlsKey: 'TESSERA_INJECTOR_TLS_KEY',
} as const;

/** Environment names the bootstrap process (pod `<mesh>-bootstrap`) reads. */
export const BOOTSTRAP_ENV = {
  apiUrl: 'TESSERA_API_URL',
  apiCa: 'TESSERA_API_CA_FILE',
  apiToken: 'TESSERA_API_TOKEN',
  meshName: 'TESSERA_MESH_NAME',
  listen: 'TESSERA_BOOTSTRAP_LISTEN',
} as const;

/** Label the runner puts on pods that get a sidecar (FSM's name). */
export const PROXY_UUID_LABEL = 'fsm-proxy-uuid';

/** How long a proxy token is good for. The controller re-issues one on the open stream well before. */
export const PROXY_TOKEN_TTL_MS = 60 * 60_000;
/** The controller pushes a fresh token on a proxy's stream this often (and when it connects). */
export const PROXY_TOKEN_RENEW_MS = 15 * 60_000;
/** Clock skew tolerated on a token's issued-at. */
const PROXY_TOKEN_SKEW_MS = 60_000;

const tokenMac = (meshKeyHex: string, uuid: string, iat: number, exp: number): string =>
  createHmac('sha256', Buffer.from(meshKeyHex, 'hex')).update(`proxy\0${uuid}\0${iat}\0${exp}`).digest('hex');

/**
 * The token a sidecar presents to the control plane: `IAT.EXP.MAC` (seconds since the epoch, then
 * HMAC-SHA256 of the proxy UUID, IAT and EXP under the mesh key, hex). It expires: the runtime issues
 * a fresh one each time it (re)starts a sidecar, and the controller renews it on the sidecar's stream.
 */
export function proxyToken(meshKeyHex: string, uuid: string, opts: { now?: number; ttlMs?: number } = {}): string {
  const now = opts.now ?? Date.now();
  const iat = Math.floor(now / 1000);
  const exp = Math.floor((now + (opts.ttlMs ?? PROXY_TOKEN_TTL_MS)) / 1000);
  return `${iat}.${exp}.${tokenMac(meshKeyHex, uuid, iat, exp)}`;
}

export type ProxyTokenCheck = 'valid' | 'expired' | 'invalid';

/** Checks a presented proxy token (constant-time MAC comparison; the times are checked after the MAC). */
export function checkProxyToken(meshKeyHex: string, uuid: string, presented: string, now = Date.now()): ProxyTokenCheck {
  const m = /^(\d{1,12})\.(\d{1,12})\.([0-9a-f]{64})$/.exec(presented);
  if (!m) return 'invalid';
  const iat = Number(m[1]);
  const exp = Number(m[2]);
  const want = Buffer.from(tokenMac(meshKeyHex, uuid, iat, exp), 'hex');
  if (!timingSafeEqual(Buffer.from(m[3]!, 'hex'), want)) return 'invalid';
  if (iat * 1000 > now + PROXY_TOKEN_SKEW_MS || exp <= iat) return 'invalid';
  return exp * 1000 <= now ? 'expired' : 'valid';
}

export function proxyTokenValid(meshKeyHex: string, uuid: string, presented: string, now = Date.now()): boolean {
  return checkProxyToken(meshKeyHex, uuid, presented, now) === 'valid';
}

/** When a proxy token expires (ms since the epoch), read without checking it; undefined if malformed. */
export function proxyTokenExpiry(token: string): number | undefined {
  const m = /^\d{1,12}\.(\d{1,12})\./.exec(token);
  return m ? Number(m[1]) * 1000 : undefined;
}

/**
 * The bearer token a sidecar's admin port requires for state-changing endpoints: derived from the
 * mesh key, so the daemon can compute it whenever it needs to and no other process can.
 */
export function sidecarAdminToken(meshKeyHex: string, uuid: string): string {
  return createHmac('sha256', Buffer.from(meshKeyHex, 'hex')).update(`admin\0${uuid}`).digest('hex');
}

/** The controller's delivery endpoint (TLS; its certificate is issued by the cluster CA). */
export function controllerUrl(block: number): string {
  return `https://${controllerAddress(block)}:${CONTROLLER_PORT}`;
}

/**
 * What a sidecar needs to reach its control plane safely, as environment for the runtime to set on
 * each (re)start: the TLS URL, the CA to verify it with, a freshly issued token and the admin token.
 */
export function sidecarControlEnv(opts: { stateDir: string; block: number; meshKeyHex: string; uuid: string; now?: number }): Record<string, string> {
  return {
    [SIDECAR_ENV.controllerUrl]: controllerUrl(opts.block),
    [SIDECAR_ENV.controllerCa]: stateFiles.apiCa(opts.stateDir),
    [SIDECAR_ENV.proxyToken]: proxyToken(opts.meshKeyHex, opts.uuid, opts.now === undefined ? {} : { now: opts.now }),
    [SIDECAR_ENV.adminToken]: sidecarAdminToken(opts.meshKeyHex, opts.uuid),
  };
}
