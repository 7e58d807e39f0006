/** Runs one pod: its containers (apps held until the sidecar is ready) and its status in the store. */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerStatus, Pod, PodStatus, Resource } from '../../api/types.js';
import { APP_ADDRESS_ANNOTATION } from '../controllers/well-known.js';
import { localIPFor, SIDECAR_ENV, stateFiles } from '../layout.js';
import { jsonEqual, kubeTimestamp, type ResourceStore } from '../store/index.js';
import { SIDECAR_CONTAINER, SIDECAR_EXIT_REASONS } from './builtin-runtimes.js';
import { ContainerRunner } from './container-runner.js';
import { runtimeFor } from './images.js';
import { buildPodStatus } from './pod-status.js';
import { mountPodVolumes, type MountedVolume } from './pod-volumes.js';
import { podField, specEnv } from './app-env.js';
import { withServiceAccountToken, writeProjectedToken } from './service-account-token.js';
import type { ContainerContext, ImageRuntime } from './types.js';
import { isClusterSidecar, resolveServiceUrl, serviceOfUrl, sidecarForNode } from './cluster-sidecar.js';
import type { LogRotation } from '../container-log/index.js';
import { INIT_CONTAINER_NAME, type PodSandbox } from '../sandbox/index.js';
import { APP_UID, SIDECAR_UID, recordContainerMounts } from './pod-network.js';
import { SIDECAR_DATA_MOUNT, podReadable, runsOnHost, type SandboxHost } from './sandbox-host.js';

export interface PodRunnerDeps {
  store: ResourceStore;
  stateDir: string;
  meshName: string;
  block: number;
  meshKey: Uint8Array;
  workdir: string;
  log: (line: string) => void;
  /** namespace mode: pods (but the control plane's) run in sandboxes of this mesh network */
  sandboxes?: SandboxHost;
  /** container log rotation (`tessera up --container-log-max-size/--container-log-max-files`) */
  logRotation?: LogRotation;
}

/** How soon creating a pod's sandbox is tried again after it failed. */
const SANDBOX_RETRY_MS = 2000;

/**
 * The container's runtime. A sidecar an installed mesh's webhook injected for a cluster runs as
 * `tessera node` runs it (cluster-sidecar.ts): bootstrapped by its projected token, at the controller
 * its spec names, a Service name resolved at each start to a ready endpoint (in a sandbox: to the
 * gateway's relay for that Service).
 */
function runtimeOf(ctx: ContainerContext, deps: PodRunnerDeps): ImageRuntime | undefined {
  const found = runtimeFor(ctx.container, ctx.pod);
  if (!found || ctx.container.name !== SIDECAR_CONTAINER || !isClusterSidecar(specEnv(ctx))) return found;
  return {
    ...found,
    command(c) {
      const declared = specEnv(c)[SIDECAR_ENV.controllerUrl];
      if (c.sandbox && deps.sandboxes && declared !== undefined) {
        // in a sandbox the host's controller is behind the gateway's relay for its Service (controller-relays.ts)
        const named = serviceOfUrl(declared);
        const relay = named && deps.sandboxes.controllerRelay(named.namespace, named.name, named.port);
        const url = relay ? `${named.url.protocol}//${relay.host}:${relay.port}${named.url.pathname === '/' ? '' : named.url.pathname}` : undefined;
        return sidecarForNode(found, url, undefined, named?.serverName).command(c);
      }
      const at = declared === undefined ? undefined : resolveServiceUrl(declared, {
        get: (kind, namespace, name) => deps.store.get({ kind, namespace, name }),
        slices: (namespace, service) => deps.store.list('EndpointSlice', namespace, 'discovery.k8s.io').filter((x) => x.metadata.labels?.['kubernetes.io/service-name'] === service),
      });
      return sidecarForNode(found, at?.url, undefined, at?.serverName).command(c);
    },
  };
}

export class PodRunner {
  readonly uid: string;
  #deps: PodRunnerDeps;
  #namespace: string;
  #name: string;
  #sidecar: ContainerRunner | undefined;
  #apps: ContainerRunner[] = [];
  /** all containers in spec order, for status */
  #all: ContainerRunner[] = [];
  #holdTimer: NodeJS.Timeout | undefined;
  #writeScheduled = false;
  #stopped = false;

  #pod: Pod;
  #sandbox: PodSandbox | undefined;
  #sandboxTimer: NodeJS.Timeout | undefined;
  /** the injected init step, once it ran in the sandbox */
  #initStatuses: ContainerStatus[] = [];

  constructor(pod: Pod, deps: PodRunnerDeps) {
    this.#deps = deps;
    this.#pod = pod;
    this.#namespace = pod.metadata.namespace ?? 'default';
    this.#name = pod.metadata.name;
    this.uid = pod.metadata.uid ?? '';
    // In namespace mode the containers are made once the sandbox (and its pod IP) exists.
    if (!this.#sandboxed) this.#build(pod.status?.podIP ?? '');
  }

  get #sandboxed(): boolean {
    return this.#deps.sandboxes !== undefined && !runsOnHost(this.#pod);
  }

  #build(podIP: string, sandbox?: PodSandbox): void {
    const deps = this.#deps;
    const pod = this.#pod;
    const containers = pod.spec?.containers ?? [];
    const hasSidecar = containers.some((c) => c.name === SIDECAR_CONTAINER);
    const host = deps.sandboxes;
    const base = {
      pod: { ...pod, metadata: { ...pod.metadata, namespace: this.#namespace } },
      meshName: deps.meshName, block: deps.block, meshKey: deps.meshKey, stateDir: deps.stateDir, workdir: deps.workdir,
      podIP,
      // The controller always sets it; the fallback mirrors its rule (private twin only behind a sidecar).
      // In a sandbox with a sidecar apps bind the pod's private address on its own loopback (the one the
      // snapshot's local clusters name): the sidecar serves the pod IP (TCP by interception, UDP relays
      // on the pod IP, as in loopback mode). Without a sidecar, every address.
      appAddress: sandbox ? (hasSidecar ? pod.metadata.annotations?.[APP_ADDRESS_ANNOTATION] ?? '127.0.0.1' : '0.0.0.0') : pod.metadata.annotations?.[APP_ADDRESS_ANNOTATION] ?? (hasSidecar ? localIPFor(podIP) : podIP),
      hasSidecar,
      objects: (kind: 'Secret' | 'ConfigMap', namespace: string, name: string) => deps.store.get({ kind, namespace, name }),
      ...(sandbox && host ? { sandbox: { gateway: host.net.gateway, sidecarDataDir: SIDECAR_DATA_MOUNT, caFile: `${SIDECAR_DATA_MOUNT}/ca.crt` } } : {}),
    };
    for (const container of containers) {
      const ctx: ContainerContext = { ...base, container };
      const inPod = sandbox && host ? {
        spawn: (spec: import('./processes.js').ProcessSpec, volumes: MountedVolume[]) => {
          const isSidecar = container.name === SIDECAR_CONTAINER;
          const mounts = volumes.map((v) => ({ hostPath: v.dir, mountPath: v.mountPath, readOnly: v.readOnly !== false }));
          if (isSidecar) mounts.push({ hostPath: join(stateFiles.podDir(deps.stateDir, this.#namespace, this.#name), 'sidecar'), mountPath: SIDECAR_DATA_MOUNT, readOnly: false });
          return host.spawn(sandbox, {
            namespace: this.#namespace, pod: this.#name, container: container.name, command: spec.command, args: spec.args, env: spec.env,
            ...(spec.cwd === undefined ? {} : { cwd: spec.cwd }), uid: isSidecar ? SIDECAR_UID : APP_UID, mounts,
          });
        },
        probe: (check: import('./types.js').ReadinessCheck) => host.probe(sandbox, check),
      } : {};
      // The sidecar's data directory is the runtime's (owned by the sidecar's uid, with the mesh CA), in
      // place of the emptyDir the injector gives it for a cluster.
      const mountVolumes = (): MountedVolume[] => mountPodVolumes(
        { stateDir: deps.stateDir, namespace: this.#namespace, pod: this.#name, spec: pod.spec, container },
        {
          get: (kind, namespace, name) => deps.store.get({ kind, namespace, name }),
          podField: (fieldPath) => podField(ctx.pod, fieldPath, { podIP: ctx.podIP }),
          writeToken: (file, audience, seconds) => writeProjectedToken(deps, ctx.pod, file, audience, seconds),
        },
      ).filter((v) => container.name !== SIDECAR_CONTAINER || v.mountPath !== SIDECAR_DATA_MOUNT);
      // issue #13 (b), service-account-token.ts: the ServiceAccount token volume joins the Secret volumes.
      const opts = withServiceAccountToken({
        ctx, runtime: runtimeOf(ctx, deps), log: deps.log, onChange: () => this.#scheduleStatusWrite(), mountVolumes, ...inPod,
        ...(deps.logRotation ? { logRotation: deps.logRotation } : {}),
        ...(container.name === SIDECAR_CONTAINER ? { exitReasons: SIDECAR_EXIT_REASONS, onEvent: (type: 'Normal' | 'Warning', reason: string, message: string) => this.#event(container.name, type, reason, message) } : {}),
      }, deps);
      if (sandbox && host) {
        // Namespace mode: the volumes readable by the pod's uids and recorded for `exec` in this
        // container (also when it runs no process, as the samples' curl), before the process starts.
        const mount = opts.mountVolumes;
        opts.mountVolumes = () => {
          const volumes = mount?.() ?? [];
          // (an emptyDir stays as it was made: writable by every uid of the pod)
          for (const v of volumes) if (v.readOnly !== false) podReadable(v.dir);
          recordContainerMounts(deps.stateDir, this.#namespace, this.#name, container.name, volumes.map((v) => ({ hostPath: v.dir, mountPath: v.mountPath, readOnly: v.readOnly !== false })));
          return volumes;
        };
      }
      const runner = new ContainerRunner(opts);
      this.#all.push(runner);
      if (container.name === SIDECAR_CONTAINER) this.#sidecar = runner;
      else this.#apps.push(runner);
    }
  }

  start(): void {
    if (this.#sandboxed && !this.#sandbox) {
      void this.#startSandbox();
      return;
    }
    this.#startContainers();
  }

  /** Namespace mode: the sandbox first (its IP becomes the pod IP), then the containers in it. */
  async #startSandbox(): Promise<void> {
    const host = this.#deps.sandboxes!;
    const hasSidecar = (this.#pod.spec?.containers ?? []).some((c) => c.name === SIDECAR_CONTAINER);
    try {
      const podDir = stateFiles.podDir(this.#deps.stateDir, this.#namespace, this.#name);
      const sandbox = await host.createPod(this.#pod, podDir, hasSidecar);
      try {
        if (!this.#stopped) await host.runInitStep(sandbox, this.#pod);
      } catch (e) {
        await host.destroyPod(this.#namespace, this.#name);
        throw e;
      }
      if (this.#stopped) {
        await host.destroyPod(this.#namespace, this.#name);
        return;
      }
      this.#sandbox = sandbox;
      const done = kubeTimestamp();
      this.#initStatuses = (this.#pod.spec?.initContainers ?? []).filter((c) => c.name === INIT_CONTAINER_NAME).map((c) => ({
        name: c.name, image: c.image ?? '', ready: true, restartCount: 0, started: false,
        state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: done, finishedAt: done } },
      }));
    } catch (e) {
      if (this.#stopped) return;
      this.#deps.log(`pod ${this.#namespace}/${this.#name}: creating its sandbox failed (retrying): ${(e as Error).message}`);
      this.#sandboxTimer = setTimeout(() => void this.#startSandbox(), SANDBOX_RETRY_MS);
      return;
    }
    this.#deps.log(`pod ${this.#namespace}/${this.#name}: sandbox ${this.#sandbox.ip}${hasSidecar ? ' (intercepted)' : ''}`);
    this.#build(this.#sandbox.ip, this.#sandbox);
    this.writeStatus();
    this.#startContainers();
  }

  #startContainers(): void {
    this.#deps.log(`pod ${this.#namespace}/${this.#name}: starting ${this.#all.length} container(s)`);
    if (!this.#sidecar) {
      for (const app of this.#apps) app.start();
      return;
    }
    // FSM's holdApplicationUntilProxyStarts: apps start once the proxy can carry their traffic.
    for (const app of this.#apps) app.holdFor('PodInitializing', 'waiting for the sidecar to be ready');
    this.#sidecar.start();
    const sidecar = this.#sidecar;
    const waitForSidecar = () => {
      if (this.#stopped) return;
      if (!sidecar.ready) {
        this.#holdTimer = setTimeout(waitForSidecar, 100);
        return;
      }
      for (const app of this.#apps) app.start();
    };
    waitForSidecar();
  }

  /** Stops every process; with `removeFiles` also the pod's directory (the pod was deleted). */
  async stop(opts: { removeFiles: boolean }): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#holdTimer);
    clearTimeout(this.#sandboxTimer);
    // Apps first, sidecar last: the reverse of start, so apps can drain through the proxy.
    await Promise.all(this.#apps.map((a) => a.stop()));
    await this.#sidecar?.stop();
    if (this.#sandbox) await this.#deps.sandboxes?.destroyPod(this.#namespace, this.#name);
    if (opts.removeFiles) rmSync(stateFiles.podDir(this.#deps.stateDir, this.#namespace, this.#name), { recursive: true, force: true });
  }

  /** Records an Event about this pod from the local kubelet (best effort: a failure is logged). */
  #event(container: string, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const now = kubeTimestamp();
    try {
      this.#deps.store.transact([{
        op: 'create',
        object: {
          apiVersion: 'v1', kind: 'Event',
          metadata: { name: `${this.#name}.${randomBytes(8).toString('hex')}`, namespace: this.#namespace },
          involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace: this.#namespace, name: this.#name, uid: this.uid, fieldPath: `spec.containers{${container}}` },
          reason, message, type,
          source: { component: 'kubelet', host: 'tessera' },
          reportingComponent: 'kubelet', reportingInstance: 'tessera',
          firstTimestamp: now, lastTimestamp: now, count: 1,
        } as unknown as Resource,
      }]);
    } catch (e) {
      this.#deps.log(`pod ${this.#namespace}/${this.#name}: event ${reason} not recorded: ${(e as Error).message}`);
    }
  }

  /** Coalesces bursts of container changes into one store write. */
  #scheduleStatusWrite(): void {
    if (this.#writeScheduled) return;
    this.#writeScheduled = true;
    setImmediate(() => {
      this.#writeScheduled = false;
      if (!this.#stopped) this.writeStatus();
    });
  }

  writeStatus(): void {
    const key = { kind: 'Pod', namespace: this.#namespace, name: this.#name };
    const current = this.#deps.store.get(key);
    // The pod may have been deleted (or replaced under the same name) since the change happened.
    if (!current || (current.metadata.uid ?? '') !== this.uid) return;
    const previous = current.status as PodStatus | undefined;
    const next = buildPodStatus(previous, this.#all.map((c) => c.status()), kubeTimestamp());
    if (this.#sandbox) Object.assign(next, { podIP: this.#sandbox.ip, podIPs: [{ ip: this.#sandbox.ip }] });
    if (this.#initStatuses.length > 0) next.initContainerStatuses = this.#initStatuses;
    if (jsonEqual(previous, next)) return;
    try {
      this.#deps.store.updateStatus(key, next);
    } catch (e) {
      this.#deps.log(`pod ${this.#namespace}/${this.#name}: status update failed: ${(e as Error).message}`);
    }
  }
}
