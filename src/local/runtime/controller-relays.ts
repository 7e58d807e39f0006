/**
 * How a sandboxed sidecar injected by an installed mesh's webhook (`tessera install` into the
 * embedded API) reaches that mesh's controller. The controller runs on the host — a pod of the
 * install's controller image (runsOnHost) at its loopback pod address, or a process outside the pod
 * network that its Service's EndpointSlice names — and a sandbox's only way to the host is the
 * mesh relay (mesh-relay.ts). So every port of every installed mesh's controller Service gets a
 * relay of its own on the bridge gateway, at a free port (the Service's own port is the local
 * controller's 6060 there), started when the Service appears and stopped when it goes; the sidecar
 * dials `<gateway>:<that port>` and still verifies the certificate for the Service's name.
 *
 * What a pod can reach this way stays narrow: only an install's controller Service (its labels, and
 * named `<mesh>-controller` in `<mesh>-system`), and per connection only one of its ready endpoints
 * on the host's loopback (127/8);
 * anything else is refused. Nothing listens on a new host TCP address (the daemon's half is a Unix
 * socket in the 0700 state directory).
 */
import { createHash } from 'node:crypto';
import type { Resource, Service } from '../../api/types.js';
import type { MeshNetwork } from '../sandbox/index.js';
import type { ResourceStore } from '../store/types.js';
import { startMeshRelay, type MeshRelay } from './mesh-relay.js';

/** The labels `tessera install` puts on its controller Service (install/render.ts componentLabels). */
export const CONTROLLER_SERVICE_LABELS: Readonly<Record<string, string>> = {
  'app.kubernetes.io/part-of': 'tessera',
  'app.kubernetes.io/component': 'controller',
};

/**
 * A Tessera install's controller Service: the install's labels, and the install's own name and place,
 * `<mesh>-controller` in `<mesh>-system`. The place is what is trusted: labels anyone with a
 * namespace can write, while objects in `<mesh>-system` come from whoever administers that mesh
 * (who could replace its controller anyway).
 */
export function isInstalledControllerService(svc: Resource): boolean {
  const labels = svc.metadata.labels ?? {};
  const mesh = /^(.+)-system$/.exec(svc.metadata.namespace ?? '')?.[1];
  return svc.kind === 'Service' && mesh !== undefined && svc.metadata.name === `${mesh}-controller` &&
    Object.entries(CONTROLLER_SERVICE_LABELS).every(([k, v]) => labels[k] === v);
}

const LOOPBACK_V4 = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

type Lookup = Pick<ResourceStore, 'list' | 'get'>;

interface Slice {
  ports?: { name?: string; port?: number; protocol?: string }[];
  endpoints?: { addresses?: string[]; conditions?: { ready?: boolean } }[];
}

interface EndpointsObject {
  subsets?: { addresses?: { ip: string }[]; ports?: { name?: string; port: number; protocol?: string }[] }[];
}

/**
 * A ready endpoint on the host's loopback of the Service's port `port` (EndpointSlices first, as
 * kube-proxy reads them, then Endpoints); undefined when there is none.
 */
export function hostEndpoint(store: Lookup, namespace: string, name: string, port: number): { host: string; port: number } | undefined {
  const svc = store.get({ kind: 'Service', namespace, name }) as Service | undefined;
  const sp = svc?.spec?.ports?.find((p) => p.port === port && (p.protocol ?? 'TCP') === 'TCP');
  if (!sp) return undefined;
  const portName = sp.name ?? '';
  const slices = store.list('EndpointSlice', namespace, 'discovery.k8s.io').filter((s) => s.metadata.labels?.['kubernetes.io/service-name'] === name) as unknown as Slice[];
  for (const slice of slices) {
    const target = (slice.ports ?? []).find((p) => (p.name ?? '') === portName && (p.protocol ?? 'TCP') === 'TCP')?.port;
    if (target === undefined) continue;
    for (const e of slice.endpoints ?? []) {
      if (e.conditions?.ready === false) continue;
      const ip = (e.addresses ?? []).find((a) => LOOPBACK_V4.test(a));
      if (ip) return { host: ip, port: target };
    }
  }
  const ep = store.get({ kind: 'Endpoints', namespace, name }) as (Resource & EndpointsObject) | undefined;
  for (const subset of ep?.subsets ?? []) {
    const target = (subset.ports ?? []).find((p) => (p.name ?? '') === portName && (p.protocol ?? 'TCP') === 'TCP')?.port;
    const ip = (subset.addresses ?? []).map((a) => a.ip).find((a) => LOOPBACK_V4.test(a));
    if (target !== undefined && ip) return { host: ip, port: target };
  }
  return undefined;
}

interface Relayed {
  /** `ports` of the Service, in the relay's order */
  ports: number[];
  relay: MeshRelay;
}

/** The relays of the installed meshes' controller Services, kept in step with the store by sync(). */
export class ControllerRelays {
  #net: MeshNetwork;
  #dir: string;
  #store: Lookup;
  #log: (line: string) => void;
  /** `namespace/name` → its relay (ports as when it started: a changed port set restarts it) */
  #relays = new Map<string, Relayed>();
  #busy: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(opts: { net: MeshNetwork; dir: string; store: Lookup; log: (line: string) => void }) {
    this.#net = opts.net;
    this.#dir = opts.dir;
    this.#store = opts.store;
    this.#log = opts.log;
  }

  /** The gateway port that relays the Service's `port`, once its relay runs. */
  gatewayPort(namespace: string, name: string, port: number): number | undefined {
    const r = this.#relays.get(`${namespace}/${name}`);
    const i = r?.ports.indexOf(port) ?? -1;
    return i < 0 ? undefined : r!.relay.ports[i];
  }

  /** Starts relays for new controller Services and stops those of Services gone; resolves when done. */
  sync(): Promise<void> {
    this.#busy = this.#busy.then(() => this.#reconcile()).catch((e: unknown) => this.#log(`controller relays: ${(e as Error).message}`));
    return this.#busy;
  }

  async #reconcile(): Promise<void> {
    if (this.#closed) return;
    const want = new Map<string, number[]>();
    for (const svc of this.#store.list('Service') as Service[]) {
      if (!isInstalledControllerService(svc)) continue;
      const ports = (svc.spec?.ports ?? []).filter((p) => (p.protocol ?? 'TCP') === 'TCP').map((p) => p.port).sort((a, b) => a - b);
      if (ports.length > 0) want.set(`${svc.metadata.namespace ?? 'default'}/${svc.metadata.name}`, ports);
    }
    for (const [key, r] of [...this.#relays]) {
      if (want.get(key)?.join(',') === r.ports.join(',')) continue;
      this.#relays.delete(key);
      await r.relay.close();
      this.#log(`controller relay for Service ${key} stopped`);
    }
    for (const [key, ports] of want) {
      if (this.#relays.has(key)) continue;
      const [namespace, name] = key.split('/') as [string, string];
      const relay = await startMeshRelay(this.#net, this.#dir, ports.map((port) => ({
        // a short name: the socket path must stay under the Unix limit
        name: `svc-${createHash('sha256').update(`${key}:${port}`).digest('hex').slice(0, 12)}`,
        port: 0,
        host: '',
        dial: () => hostEndpoint(this.#store, namespace, name, port),
      })));
      this.#relays.set(key, { ports, relay });
      this.#log(`controller relay for Service ${key}: ${ports.map((p, i) => `${p} on ${relay.gateway}:${relay.ports[i]}`).join(', ')}`);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#busy;
    for (const r of this.#relays.values()) await r.relay.close();
    this.#relays.clear();
  }
}
