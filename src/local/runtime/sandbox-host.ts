/**
 * Namespace mode's node: the mesh network (created at daemon start), the control-plane relay, and
 * one sandbox per pod — created, given its /etc/hosts from the Services (rewritten when they
 * change), intercepted when it has a sidecar (FSM's init step), entered to run containers and
 * probes, and destroyed with the pod.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Pod, Resource, Service } from '../../api/types.js';
import { cidrContains, parseCidr } from '../../lib/cidr.js';
import { API_PORT, CONTROLLER_PORT, apiAddress, controllerAddress, stateFiles } from '../layout.js';
import {
  applyInterception, createMeshNetwork, createPodSandbox, destroyMeshNetwork, destroyPodSandbox, interceptionRules,
  annotationsToInterception, runInPod, serviceHostEntries, writePodHosts, parseInitScript, INIT_CONTAINER_NAME,
  type MeshNetwork, type PodSandbox, type VolumeMount,
} from '../sandbox/index.js';
import { MeshError } from '../../lib/errors.js';
import type { ResourceStore } from '../store/types.js';
import { startMeshRelay, type MeshRelay, type RelayTarget } from './mesh-relay.js';
import { ControllerRelays } from './controller-relays.js';
import { APP_UID, SIDECAR_UID, loadMeshNetwork, prepareSidecarDataDir, sandboxName, sandboxStateDir, writeSandboxRecord } from './pod-network.js';
import { STATE_DIR_ENV, pidFile } from './processes.js';
import type { ReadinessCheck } from './types.js';
import { BOOTSTRAP_IMAGE, CONTROLLER_IMAGE, INJECTOR_IMAGE } from './control-plane-runtimes.js';
import { imageName } from './image-name.js';
import { isClusterComponentImage } from './cluster-image-runtimes.js';

/** Where a sandboxed sidecar keeps its snapshot (its pod directory's `sidecar/`, bind-mounted). */
export const SIDECAR_DATA_MOUNT = '/var/run/tessera/sidecar';

/** The mesh block's Service cluster IPs (layout.ts): redirected to the sidecar like any destination. */
export function serviceCidr(block: number): string {
  return `127.${block}.128.0/17`;
}

/**
 * Control-plane pods keep their fixed loopback addresses (the daemon and the relay reach them there);
 * the pods of `tessera install`'s component images run on the host too, at their loopback pod
 * addresses, since they call the embedded API, which is not routed into sandboxes.
 */
export function runsOnHost(pod: Pod): boolean {
  const images = (pod.spec?.containers ?? []).map((c) => c.image ?? '');
  return images.some((image) => {
    const i = imageName(image);
    return i === CONTROLLER_IMAGE || i === INJECTOR_IMAGE || i === BOOTSTRAP_IMAGE || isClusterComponentImage(image);
  });
}

/**
 * FSM's rules plus two for local meshes, first in PROXY_OUTPUT: the sidecar's own loopback
 * connections (to the app, at its app address on 127/8) are never redirected, and cluster IPs —
 * which live on 127/8 here, so the kernel routes them to `lo`, where FSM's rules would let the app
 * through unredirected — go to the outbound listener.
 */
export function podInterceptionRules(opts: { block: number; annotations?: Record<string, string> | undefined; ipv6: boolean }): string {
  const rules = interceptionRules({ proxyUid: SIDECAR_UID, ipv6: opts.ipv6, ...annotationsToInterception(opts.annotations) });
  if (opts.ipv6) return rules;
  const lines = rules.split('\n');
  const at = lines.findIndex((l) => l.startsWith('-A PROXY_OUTPUT'));
  lines.splice(at, 0,
    `-A PROXY_OUTPUT -d 127.0.0.0/8 -m owner --uid-owner ${SIDECAR_UID} -j RETURN`,
    `-A PROXY_OUTPUT -d ${serviceCidr(opts.block)} -p tcp -j PROXY_REDIRECT`);
  return lines.join('\n');
}

/** kube-proxy's part in every sandboxed pod: Service cluster IP:port → the ready endpoints (DNAT). */
export const SERVICES_CHAIN = 'TESSERA_SERVICES';

export interface ServiceBackend {
  clusterIP: string;
  port: number;
  protocol: 'tcp' | 'udp';
  endpoints: { ip: string; port: number }[];
}

function serviceRuleLines(backends: readonly ServiceBackend[]): string[] {
  const out: string[] = [];
  for (const b of backends) {
    const n = b.endpoints.length;
    b.endpoints.forEach((e, i) => {
      // kube-proxy's random balancing: endpoint i of n is taken with probability 1/(n-i)
      const pick = i < n - 1 ? ` -m statistic --mode random --probability ${(1 / (n - i)).toFixed(5)}` : '';
      out.push(`-A ${SERVICES_CHAIN} -d ${b.clusterIP}/32 -p ${b.protocol} --dport ${b.port}${pick} -j DNAT --to-destination ${e.ip}:${e.port}`);
    });
  }
  return out;
}

/** The document that replaces only the services chain of a pod (`iptables-restore --noflush`). */
export function serviceNatRules(backends: readonly ServiceBackend[]): string {
  return ['*nat', `:${SERVICES_CHAIN} - [0:0]`, ...serviceRuleLines(backends), 'COMMIT', ''].join('\n');
}

/**
 * A sandboxed pod's whole nat table: with a sidecar, the interception rules (podInterceptionRules);
 * always, the services chain after them in OUTPUT — what the app's own connections to a cluster IP
 * meet when nothing redirected them (a pod without a sidecar, the sidecar's own dials, UDP) — and
 * the SNAT that gives such a connection, begun on 127/8 where cluster IPs live, the pod IP as its
 * source once DNAT sent it out of eth0 (kube-proxy's route_localnet + masquerade).
 */
export function podNatRules(opts: { block: number; podIP: string; hasSidecar: boolean; annotations?: Record<string, string> | undefined; backends: readonly ServiceBackend[] }): string {
  const lines = opts.hasSidecar
    ? podInterceptionRules({ block: opts.block, annotations: opts.annotations, ipv6: false }).split('\n')
    : ['# Tessera pod without a sidecar: Service cluster IPs only', '*nat', 'COMMIT', ''];
  lines.splice(lines.indexOf('*nat') + 1, 0, `:${SERVICES_CHAIN} - [0:0]`);
  lines.splice(lines.indexOf('COMMIT'), 0,
    `-A OUTPUT -j ${SERVICES_CHAIN}`,
    `-A POSTROUTING -s 127.0.0.0/8 -o eth0 -j SNAT --to-source ${opts.podIP}`,
    ...serviceRuleLines(opts.backends));
  return lines.join('\n');
}

/**
 * The services chain and the jump to it, appended (`iptables-restore --noflush`) after whatever an
 * init step installed, plus the SNAT podNatRules adds for connections begun on 127/8.
 */
export function podServiceRules(podIP: string, backends: readonly ServiceBackend[]): string {
  return ['*nat', `:${SERVICES_CHAIN} - [0:0]`, `-A OUTPUT -j ${SERVICES_CHAIN}`, `-A POSTROUTING -s 127.0.0.0/8 -o eth0 -j SNAT --to-source ${podIP}`,
    ...serviceRuleLines(backends), 'COMMIT', ''].join('\n');
}

/** Every Service port with a cluster IP and its ready endpoints that are pods of this mesh network. */
export function serviceBackends(store: Pick<ResourceStore, 'list' | 'get'>, podCidr: string): ServiceBackend[] {
  const cidr = parseCidr(podCidr);
  const out: ServiceBackend[] = [];
  for (const svc of store.list('Service') as Service[]) {
    const clusterIP = svc.spec?.clusterIP;
    if (!clusterIP || clusterIP === 'None') continue;
    const ns = svc.metadata.namespace ?? 'default';
    const ep = store.get({ kind: 'Endpoints', namespace: ns, name: svc.metadata.name }) as (Resource & {
      subsets?: { addresses?: { ip: string }[]; ports?: { name?: string; port: number; protocol?: string }[] }[];
    }) | undefined;
    for (const sp of svc.spec?.ports ?? []) {
      const protocol = (sp.protocol ?? 'TCP').toLowerCase();
      if (protocol !== 'tcp' && protocol !== 'udp') continue;
      const endpoints: { ip: string; port: number }[] = [];
      for (const subset of ep?.subsets ?? []) {
        const port = (subset.ports ?? []).find((p) => (p.protocol ?? 'TCP').toLowerCase() === protocol && (!sp.name || p.name === sp.name));
        if (!port) continue;
        for (const a of subset.addresses ?? []) if (cidr && cidrContains(cidr, a.ip)) endpoints.push({ ip: a.ip, port: port.port });
      }
      if (endpoints.length > 0) out.push({ clusterIP, port: sp.port, protocol, endpoints });
    }
  }
  return out;
}

/** What the host reads of the API: Services and Endpoints (local mode's store, or a node's mirror of its cluster). */
export type ServiceSource = Pick<ResourceStore, 'list' | 'get' | 'watch'>;

/**
 * Who installs a sidecar pod's interception rules. 'init-container' (a node of a cluster): only the
 * pod's injected init container (`fsm-init`, run by `runInitStep`), as on any cluster node.
 * 'runtime' (local mode): the injected init container when the pod has one, followed by local
 * mode's own two rules (`localInterceptionRules`); for a sidecar pod without one (injected before
 * init steps existed, or a sidecar written by hand), the runtime's complete rules at creation.
 */
export type InterceptionBy = 'runtime' | 'init-container';

/** Whether the pod carries the injected init step. */
export function hasInitStep(pod: Pod): boolean {
  return (pod.spec?.initContainers ?? []).some((c) => c.name === INIT_CONTAINER_NAME);
}

/**
 * What local mode adds to FSM's rules, inserted at the top of PROXY_OUTPUT after the init step
 * (podInterceptionRules has the same two lines for the runtime's own document).
 */
export function localInterceptionRules(block: number): string {
  return ['*nat',
    `-I PROXY_OUTPUT 1 -d 127.0.0.0/8 -m owner --uid-owner ${SIDECAR_UID} -j RETURN`,
    `-I PROXY_OUTPUT 2 -d ${serviceCidr(block)} -p tcp -j PROXY_REDIRECT`,
    'COMMIT', ''].join('\n');
}

export interface SandboxHostOptions {
  store: ServiceSource;
  stateDir: string;
  meshName: string;
  block: number;
  log: (line: string) => void;
  /** the name the mesh network is made under (its subnet comes from it); default `meshName` */
  networkName?: string;
  /** host ports the pods reach on the bridge gateway; default local mode's controller and API server */
  relays?: readonly RelayTarget[];
  /** default 'runtime' */
  interception?: InterceptionBy;
  /**
   * Relay the controller Services of meshes installed into the API (controller-relays.ts), so that
   * the sidecars their webhooks inject reach them from sandboxes; `tessera up`'s daemon does.
   */
  installedControllers?: boolean;
}

export interface SpawnInPodSpec {
  namespace: string;
  pod: string;
  container: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
  uid: number;
  mounts: VolumeMount[];
}

export class SandboxHost {
  readonly net: MeshNetwork;
  readonly relay: MeshRelay;
  #opts: SandboxHostOptions;
  #pods = new Map<string, PodSandbox>();
  #unwatch: () => void;
  #hostsTimer: NodeJS.Timeout | undefined;
  #servicesTimer: NodeJS.Timeout | undefined;
  /** the services chain as last loaded into every pod */
  #servicesDoc = '';
  #servicesBusy: Promise<void> = Promise.resolve();
  #controllers: ControllerRelays | undefined;

  private constructor(opts: SandboxHostOptions, net: MeshNetwork, relay: MeshRelay) {
    this.#opts = opts;
    this.net = net;
    this.relay = relay;
    if (opts.installedControllers) {
      this.#controllers = new ControllerRelays({ net, dir: sandboxStateDir(opts.stateDir), store: opts.store, log: opts.log });
      void this.#controllers.sync();
    }
    this.#unwatch = opts.store.watch((e) => {
      if (e.object.kind === 'Service') void this.#controllers?.sync();
      if (e.object.kind === 'Service') this.#scheduleHosts();
      if (e.object.kind === 'Service' || e.object.kind === 'Endpoints') this.#scheduleServices();
    });
  }

  static async start(opts: SandboxHostOptions): Promise<SandboxHost> {
    const dir = sandboxStateDir(opts.stateDir);
    // A daemon that died left its holder: kill it, and every namespace goes with it.
    const stale = loadMeshNetwork(opts.stateDir);
    if (stale) {
      opts.log(`stopping the mesh network left by an earlier run (holder pid ${stale.holderPid})`);
      await destroyMeshNetwork(stale);
    }
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const net = await createMeshNetwork({ meshName: opts.networkName ?? opts.meshName, stateDir: dir });
    let relay: MeshRelay;
    try {
      relay = await startMeshRelay(net, dir, opts.relays ?? [
        { name: 'controller', port: CONTROLLER_PORT, host: controllerAddress(opts.block) },
        { name: 'api', port: API_PORT, host: apiAddress(opts.block) },
      ]);
    } catch (e) {
      await destroyMeshNetwork(net);
      throw e;
    }
    opts.log(`pod network: namespace mode (${net.mode}), pods in ${net.cidr}, gateway ${net.gateway}`);
    return new SandboxHost(opts, net, relay);
  }

  /** The pod's sandbox: network namespace, hosts, interception when it has a sidecar, and its record. */
  async createPod(pod: Pod, podDir: string, hasSidecar: boolean): Promise<PodSandbox> {
    const namespace = pod.metadata.namespace ?? 'default';
    const key = `${namespace}/${pod.metadata.name}`;
    const existing = this.#pods.get(key);
    if (existing) await this.destroyPod(namespace, pod.metadata.name);
    const sandbox = await createPodSandbox(this.net, { name: sandboxName(namespace, pod.metadata.name), namespace });
    this.#pods.set(key, sandbox);
    try {
      await writePodHosts(sandbox, this.#hostEntries(namespace));
      if (!this.#byInitStep(pod)) {
        await applyInterception(sandbox, podNatRules({
          block: this.#opts.block, podIP: sandbox.ip, hasSidecar, annotations: pod.metadata.annotations, backends: serviceBackends(this.#opts.store, this.net.cidr),
        }));
        // The pod has no IPv6 but ::1 (IPv6 is off on eth0); FSM's IPv6 rules anyway, where the kernel has IPv6.
        if (hasSidecar && existsSync('/proc/net/if_inet6')) {
          await applyInterception(sandbox, podInterceptionRules({ block: this.#opts.block, annotations: pod.metadata.annotations, ipv6: true }), { ipv6: true });
        }
      }
      mkdirSync(podDir, { recursive: true, mode: 0o700 });
      // the sidecar's own directory, writable only by its uid (rootless: as mapped in the mesh's user
      // namespace), with the cluster CA (public) it verifies the controller with; the state directory's copy is 0600
      await prepareSidecarDataDir(this.net, join(podDir, 'sidecar'), stateFiles.apiCa(this.#opts.stateDir));
      await writeSandboxRecord(this.#opts.stateDir, sandbox, { appUid: APP_UID, mounts: [] }, pod.metadata.name);
      return sandbox;
    } catch (e) {
      await this.destroyPod(namespace, pod.metadata.name);
      throw e;
    }
  }

  /**
   * The pod's init containers, once its sandbox exists (interception by 'init-container'): the
   * injected `fsm-init` loads its rules into the pod's namespace (parsed, never run by a shell; see
   * init-step.ts), then the services chain goes after them in OUTPUT, as kube-proxy's rules meet a
   * pod's traffic only after the pod's own. Any other init container is refused: the local runtimes
   * run no images.
   */
  async runInitStep(sandbox: PodSandbox, pod: Pod): Promise<void> {
    if (!this.#byInitStep(pod)) return; // the runtime's own rules went in at creation
    const name = `${pod.metadata.namespace ?? 'default'}/${pod.metadata.name}`;
    const local = (this.#opts.interception ?? 'runtime') === 'runtime';
    for (const c of pod.spec?.initContainers ?? []) {
      if (c.name !== INIT_CONTAINER_NAME) {
        // local mode has always left other init containers alone; a node fails closed
        if (local) continue;
        throw new MeshError('MESH_ERR_IMAGE_UNSUPPORTED', `pod ${name}: init container ${c.name} (image ${c.image}): the local runtime runs only the injected ${INIT_CONTAINER_NAME} step`);
      }
      const rules = parseInitScript(c, name);
      await applyInterception(sandbox, rules.ipv4, { noflush: true });
      if (existsSync('/proc/net/if_inet6')) await applyInterception(sandbox, rules.ipv6, { ipv6: true, noflush: true });
    }
    if (local) await applyInterception(sandbox, localInterceptionRules(this.#opts.block), { noflush: true });
    await applyInterception(sandbox, podServiceRules(sandbox.ip, serviceBackends(this.#opts.store, this.net.cidr)), { noflush: true });
  }

  #byInitStep(pod: Pod): boolean {
    return this.#opts.interception === 'init-container' || hasInitStep(pod);
  }

  /**
   * Where a sandboxed pod dials the installed mesh's controller Service `<name>.<namespace>`:`port`
   * (controller-relays.ts): the gateway and the port its relay bound; undefined until that relay runs
   * (or for any other Service).
   */
  controllerRelay(namespace: string, name: string, port: number): { host: string; port: number } | undefined {
    const at = this.#controllers?.gatewayPort(namespace, name, port);
    return at === undefined ? undefined : { host: this.net.gateway, port: at };
  }

  get(namespace: string, name: string): PodSandbox | undefined {
    return this.#pods.get(`${namespace}/${name}`);
  }

  async destroyPod(namespace: string, name: string): Promise<void> {
    const key = `${namespace}/${name}`;
    const sandbox = this.#pods.get(key);
    if (!sandbox) return;
    this.#pods.delete(key);
    await destroyPodSandbox(sandbox).catch((e: unknown) => this.#opts.log(`pod ${key}: destroying its sandbox failed: ${(e as Error).message}`));
  }

  /**
   * Starts a container's process in the pod (as runInPod, under `setsid` so it leads its own
   * process group as spawnContainer's children do), its output on pipes for the container log's writer.
   */
  spawn(sandbox: PodSandbox, spec: SpawnInPodSpec): ChildProcess {
    mkdirSync(stateFiles.podDir(this.#opts.stateDir, spec.namespace, spec.pod), { recursive: true });
    const env: Record<string, string> = {
      PATH: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin', HOME: '/tmp', ...spec.env, [STATE_DIR_ENV]: this.#opts.stateDir,
    };
    const child = runInPod(sandbox, ['setsid', spec.command, ...spec.args], {
      uid: spec.uid, env, cwd: spec.cwd ?? '/', stdio: ['ignore', 'pipe', 'pipe'], mounts: spec.mounts,
    });
    if (child.pid !== undefined) writeFileSync(pidFile(this.#opts.stateDir, spec.namespace, spec.pod, spec.container), `${child.pid}\n`);
    return child;
  }

  /** A readiness check run inside the pod's network namespace (bash's /dev/tcp; no Node start per probe). */
  probe(sandbox: PodSandbox, check: ReadinessCheck): Promise<boolean> {
    if (check.kind === 'started') return Promise.resolve(true);
    const local = (h: string) => (h === '0.0.0.0' || h === '::' ? '127.0.0.1' : h);
    let script: string;
    let args: string[];
    if (check.kind === 'tcp') {
      script = 'h=$1; shift; for p; do exec 3<>"/dev/tcp/$h/$p" || exit 1; exec 3<&-; done';
      args = [local(check.host), ...check.ports.map(String)];
    } else {
      const url = new URL(check.url);
      const headers: [string, string][] = Object.entries(check.kind === 'http' ? check.headers ?? {} : {});
      // a header that could split the request fails the probe rather than being sent
      if (headers.some(([k, v]) => !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k) || /[\r\n]/.test(v))) return Promise.resolve(false);
      script = 'exec 3<>"/dev/tcp/$1/$2" || exit 1; printf "GET %s HTTP/1.0\\r\\nHost: %s\\r\\n%s\\r\\n" "$3" "$1" "$4" >&3; IFS= read -r l <&3; case $l in "HTTP/1."?" 200"*) exit 0;; esac; exit 1';
      args = [local(url.hostname), url.port || '80', url.pathname + url.search, headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')];
    }
    const argv = [...this.net.enter.filter((a) => a !== '--net'), 'nsenter', `--net=${sandbox.netnsPath}`, 'timeout', '2', 'bash', '-c', script, 'probe', ...args];
    return new Promise((resolve) => {
      const child = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore' });
      child.once('error', () => resolve(false));
      child.once('close', (code) => resolve(code === 0));
    });
  }

  /** Service names as /etc/hosts entries for a pod in `namespace`. */
  #hostEntries(namespace: string) {
    const services = this.#opts.store.list('Service').flatMap((s) => {
      const ip = (s as { spec?: { clusterIP?: string } }).spec?.clusterIP;
      return ip && ip !== 'None' ? [{ name: s.metadata.name, namespace: s.metadata.namespace ?? 'default', ip }] : [];
    });
    return serviceHostEntries(services, namespace);
  }

  /** Endpoints or Services changed: the services chain of every pod, reloaded when it differs. */
  #scheduleServices(): void {
    if (this.#servicesTimer) return;
    this.#servicesTimer = setTimeout(() => {
      this.#servicesTimer = undefined;
      this.#servicesBusy = this.#servicesBusy.then(async () => {
        const doc = serviceNatRules(serviceBackends(this.#opts.store, this.net.cidr));
        if (doc === this.#servicesDoc) return;
        this.#servicesDoc = doc;
        await Promise.all([...this.#pods].map(([key, sandbox]) => applyInterception(sandbox, doc, { noflush: true })
          .catch((e: unknown) => this.#opts.log(`pod ${key}: services update failed: ${(e as Error).message}`))));
      });
    }, 100);
  }

  #scheduleHosts(): void {
    if (this.#hostsTimer) return;
    this.#hostsTimer = setTimeout(() => {
      this.#hostsTimer = undefined;
      for (const [key, sandbox] of this.#pods) {
        writePodHosts(sandbox, this.#hostEntries(sandbox.namespace)).catch((e: unknown) => this.#opts.log(`pod ${key}: hosts update failed: ${(e as Error).message}`));
      }
    }, 50);
  }

  async close(): Promise<void> {
    this.#unwatch();
    clearTimeout(this.#hostsTimer);
    clearTimeout(this.#servicesTimer);
    await this.#servicesBusy;
    for (const key of [...this.#pods.keys()]) {
      const [ns, name] = key.split('/') as [string, string];
      await this.destroyPod(ns, name);
    }
    await this.#controllers?.close();
    await this.relay.close();
    await destroyMeshNetwork(this.net);
  }
}

/**
 * Volumes as a pod process sees them: the runtime's materialized Secret volumes (0600 files of the
 * daemon's) made readable inside the pod (the state directory above them stays 0700), bind-mounted at
 * their mountPath.
 */
export function podReadable(dir: string): void {
  const walk = (p: string): void => {
    const st = statSync(p);
    if (st.isDirectory()) {
      chmodSync(p, 0o755);
      for (const e of readdirSync(p)) walk(join(p, e));
    } else chmodSync(p, 0o644);
  };
  walk(dir);
}
