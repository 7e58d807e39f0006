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
  /** HMAC of the proxy UUID under the mesh key: proves to the controller which proxy this is */
  proxyToken: 'TESSERA_PROXY_TOKEN',
  controllerUrl: 'TESSERA_CONTROLLER_URL',
  /** directory where the sidecar keeps its last good snapshot */
  dataDir: 'TESSERA_SIDECAR_DIR',
  meshName: 'TESSERA_MESH_NAME',
} as const;

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
} as const;

/** Environment names the injector process (pod `<mesh>-injector`) reads. */
export const INJECTOR_ENV = {
  /** the daemon presents this bearer token when it calls the webhook */
  apiToken: 'TESSERA_API_TOKEN',
  meshName: 'TESSERA_MESH_NAME',
  listen: 'TESSERA_INJECTOR_LISTEN',
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

/** The token a sidecar presents to the control plane: HMAC-SHA256 of its proxy UUID under the mesh key (hex). */
export function proxyToken(meshKeyHex: string, uuid: string): string {
  return createHmac('sha256', Buffer.from(meshKeyHex, 'hex')).update(uuid).digest('hex');
}

/** Constant-time check of a presented proxy token. */
export function proxyTokenValid(meshKeyHex: string, uuid: string, presented: string): boolean {
  const want = Buffer.from(proxyToken(meshKeyHex, uuid), 'hex');
  const got = Buffer.from(presented, 'hex');
  return got.length === want.length && timingSafeEqual(got, want);
}
