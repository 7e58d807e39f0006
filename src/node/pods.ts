/**
 * The pods bound to this node, run with Tessera's local runtimes as a kubelet runs them with a
 * container runtime: one worker per pod UID, its containers as local processes (the same image →
 * runtime mapping as local mode, apps held until an injected sidecar is ready), its status written
 * to `pods/status` as the kubelet writes it, and on deletion its processes stopped within the grace
 * period, a final status written and the object deleted with a UID precondition.
 *
 * Pod networking is local mode's loopback one: every pod gets an address of the node's leased
 * 127.B.0.0/16 block (127.B.P.Q, its apps on the private twin 127.B.P+64.Q behind a sidecar).
 */
import type { LogRotation } from '../local/container-log/index.js';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Container, ContainerStatus, Pod, PodStatus } from '../api/types.js';
import { LOCAL_COMMAND_ANNOTATION } from '../api/types.js';
import { APP_ADDRESS_ANNOTATION } from '../catalog/pods.js';
import { localIPFor, podIPFor, stateFiles } from '../local/layout.js';
import { SIDECAR_CONTAINER, SIDECAR_EXIT_REASONS } from '../local/runtime/builtin-runtimes.js';
import { ContainerRunner } from '../local/runtime/container-runner.js';
import { sidecarForNode } from '../local/runtime/cluster-sidecar.js';
import { runtimeFor } from '../local/runtime/images.js';
import { buildPodStatus } from '../local/runtime/pod-status.js';
import { pidFile, signalGroup } from '../local/runtime/processes.js';
import type { ContainerContext, ReadinessCheck } from '../local/runtime/types.js';
import type { ProcessSpec } from '../local/runtime/processes.js';
import { APP_UID, SIDECAR_UID } from '../local/runtime/pod-network.js';
import { SIDECAR_DATA_MOUNT, type SandboxHost } from '../local/runtime/sandbox-host.js';
import type { MountedVolume } from '../local/runtime/pod-volumes.js';
import { PodVolumes } from './volumes.js';
import type { PodSandbox, VolumeMount } from '../local/sandbox/index.js';
import { kubeTime, NodeApiError, type NodeApi } from './api.js';

/** How many pod addresses a block holds (rows 1..63 of 254). */
const POD_ADDRESSES = 63 * 254;
/** How soon creating a pod's sandbox is tried again after it failed. */
const SANDBOX_RETRY_MS = 2000;
/** The grace a deletion without one gets (the API server always sets one; this is a fallback). */
const DEFAULT_GRACE_S = 30;

export interface NodePodsOptions {
  api: NodeApi;
  nodeName: string;
  /** the node's InternalIP: status.hostIP */
  nodeIP: string;
  /** where container logs and pid files go (the local runtime's state-directory layout) */
  rootDir: string;
  /** the node's leased 127.B.0.0/16 */
  block: number;
  meshName: string;
  meshKey: Uint8Array;
  /** annotated local commands run here */
  workdir: string;
  /**
   * Where injected sidecars reach the control plane (default local mode's https://127.B.0.2:6060);
   * they verify it with the mesh CA at `<rootDir>/pki/ca.crt` either way.
   */
  controllerUrl?: string;
  /** container log rotation (`--container-log-max-size/--container-log-max-files`); the kubelet's defaults otherwise */
  logRotation?: LogRotation;
  /** namespace mode: pods run in sandboxes of this host (interception by their init containers) */
  sandboxes?: SandboxHost;
  log: (line: string) => void;
}

/** What exec and logs need to know about a running pod. */
export interface RunningPod {
  pod: Pod;
  podIP: string;
  containers: string[];
  /** namespace mode: exec and port-forward enter it */
  sandbox?: PodSandbox;
  /** namespace mode: what a container sees at its volumes' mountPaths (exec sees the same) */
  mountsFor(container: string): VolumeMount[];
}

type StatusPatch = Required<Pick<PodStatus, 'phase' | 'conditions' | 'containerStatuses'>> & PodStatus & { hostIPs?: { ip: string }[] };

class PodWorker {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  pod: Pod;
  /** empty in namespace mode until the sandbox exists */
  podIP: string;
  /** where the pod's apps listen: the pod IP, or its private twin behind a sidecar (namespace mode: the pod's own loopback) */
  appAddress = '';
  /** namespace mode: the pod's network and mount namespaces */
  sandbox: PodSandbox | undefined;
  #o: NodePodsOptions;
  #hasSidecar: boolean;
  #initContainers: ContainerStatus[] = [];
  #volumes: PodVolumes;
  #volumesReady = false;
  #volumeWarned = false;
  #all: ContainerRunner[] = [];
  #apps: ContainerRunner[] = [];
  #sidecar: ContainerRunner | undefined;
  #holdTimer: NodeJS.Timeout | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #writeScheduled = false;
  #lastWritten = '';
  #writing: Promise<void> = Promise.resolve();
  #stopped = false;
  terminating: Promise<void> | undefined;

  constructor(pod: Pod, podIP: string | undefined, o: NodePodsOptions) {
    this.pod = pod;
    this.uid = pod.metadata.uid ?? '';
    this.namespace = pod.metadata.namespace ?? 'default';
    this.name = pod.metadata.name;
    this.podIP = podIP ?? '';
    this.#o = o;
    this.#hasSidecar = (pod.spec?.containers ?? []).some((c) => c.name === SIDECAR_CONTAINER);
    this.#volumes = new PodVolumes(o.api, pod, join(stateFiles.podDir(o.rootDir, this.namespace, this.name), 'volumes'), o.log);
    // namespace mode: the containers are made once the sandbox (and its pod IP) exists
    if (!o.sandboxes) this.#build();
  }

  #build(): void {
    const o = this.#o;
    const pod = this.pod;
    const sandbox = this.sandbox;
    const hasSidecar = this.#hasSidecar;
    // loopback network: behind a sidecar the apps bind the pod's private twin; a sandbox's apps bind
    // the pod's own loopback behind a sidecar (the sidecar serves the pod IP), every address without
    this.appAddress = sandbox ? (hasSidecar ? '127.0.0.1' : '0.0.0.0') : hasSidecar ? localIPFor(this.podIP) : this.podIP;
    const host = o.sandboxes;
    const base = {
      pod: { ...pod, metadata: { ...pod.metadata, namespace: this.namespace } },
      meshName: o.meshName, block: o.block, meshKey: o.meshKey, stateDir: o.rootDir, workdir: o.workdir,
      podIP: this.podIP,
      appAddress: this.appAddress,
      hasSidecar,
      // what the env's secretKeyRef/configMapKeyRef name, read with the volumes before the containers start
      objects: (kind: 'Secret' | 'ConfigMap', _namespace: string, name: string) => this.#volumes.envObject(kind, name),
      // the cluster's API server, where a pod's `https://kubernetes.default.svc` leads
      apiUrl: o.api.server,
      ...(sandbox && host ? { sandbox: { gateway: host.net.gateway, sidecarDataDir: SIDECAR_DATA_MOUNT, caFile: `${SIDECAR_DATA_MOUNT}/ca.crt` } } : {}),
    };
    for (const container of pod.spec?.containers ?? []) {
      const ctx: ContainerContext = { ...base, container };
      const isSidecar = container.name === SIDECAR_CONTAINER;
      const found = runtimeFor(container, ctx.pod);
      const runtime = found && isSidecar ? sidecarForNode(found, o.controllerUrl, sandbox && host ? host.net.gateway : undefined) : found;
      if (!runtime) void this.#imageUnsupported(container);
      const inPod = sandbox && host ? {
        spawn: (spec: ProcessSpec) => host.spawn(sandbox, {
          namespace: this.namespace, pod: this.name, container: container.name, command: spec.command, args: spec.args, env: spec.env,
          ...(spec.cwd === undefined ? {} : { cwd: spec.cwd }), uid: isSidecar ? SIDECAR_UID : APP_UID, mounts: this.mountsFor(container.name),
        }),
        probe: (check: ReadinessCheck) => host.probe(sandbox, check),
      } : {};
      const mountVolumes = (): MountedVolume[] => this.#volumes.mountsFor(container);
      const runner = new ContainerRunner({
        ctx, runtime, log: o.log, onChange: () => this.#scheduleStatusWrite(), mountVolumes, ...inPod, ...(o.logRotation ? { logRotation: o.logRotation } : {}),
        ...(isSidecar ? { exitReasons: SIDECAR_EXIT_REASONS, onEvent: (type: 'Normal' | 'Warning', reason: string, message: string) => void event(o, this.pod, type, reason, message) } : {}),
      });
      this.#all.push(runner);
      if (isSidecar) this.#sidecar = runner;
      else this.#apps.push(runner);
    }
  }

  get containers(): string[] {
    return (this.pod.spec?.containers ?? []).map((c) => c.name);
  }

  /** The container's volumes at their mountPaths; the sidecar's data directory is the node's. */
  mountsFor(name: string): VolumeMount[] {
    const container = this.pod.spec?.containers.find((c) => c.name === name);
    if (!container) return [];
    const mounts = this.#volumes.mountsFor(container).map((v) => ({ hostPath: v.dir, mountPath: v.mountPath, readOnly: v.readOnly }));
    if (name !== SIDECAR_CONTAINER) return mounts;
    // The node's directory (owned by the sidecar's uid, with the mesh CA) in place of the injected
    // emptyDir that plays that part on a cluster.
    const data = { hostPath: join(stateFiles.podDir(this.#o.rootDir, this.namespace, this.name), 'sidecar'), mountPath: SIDECAR_DATA_MOUNT, readOnly: false };
    return [...mounts.filter((m) => m.mountPath !== SIDECAR_DATA_MOUNT), data];
  }

  /**
   * Namespace mode: the sandbox (its address becomes the pod IP), the init step (the injected
   * fsm-init's rules, then the services chain), then the containers. A failure is reported on the
   * pod (init container waiting with the reason, an Event) and retried, as a kubelet retries a
   * sandbox.
   */
  async #startSandbox(): Promise<boolean> {
    const host = this.#o.sandboxes!;
    const podDir = stateFiles.podDir(this.#o.rootDir, this.namespace, this.name);
    const inits = this.pod.spec?.initContainers ?? [];
    try {
      this.sandbox = await host.createPod(this.pod, podDir, this.#hasSidecar);
      if (this.#stopped) return false;
      this.podIP = this.sandbox.ip;
      await host.runInitStep(this.sandbox, this.pod);
      const done = kubeTime();
      this.#initContainers = inits.map((c) => ({
        name: c.name, image: c.image ?? '', ready: true, restartCount: 0, started: false,
        state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: done, finishedAt: done } },
      }));
      if (inits.length > 0) this.#o.log(`pod ${this.namespace}/${this.name}: init ${inits.map((c) => c.name).join(', ')}: interception rules loaded in its namespace`);
      return true;
    } catch (e) {
      const message = (e as Error).message;
      if (this.sandbox) await host.destroyPod(this.namespace, this.name);
      this.sandbox = undefined;
      this.podIP = '';
      if (this.#stopped) return false;
      this.#o.log(`pod ${this.namespace}/${this.name}: sandbox: ${message} (retrying)`);
      this.#initContainers = inits.map((c) => ({
        name: c.name, image: c.image ?? '', ready: false, restartCount: 0, started: false,
        state: { waiting: { reason: 'CreateContainerError', message } },
      }));
      void event(this.#o, this.pod, 'Warning', 'FailedCreatePodSandBox', message);
      this.#scheduleStatusWrite();
      return false;
    }
  }

  /** The pod's volumes, before anything of it starts; false (reported, retried) while one cannot be set up. */
  async #prepareVolumes(): Promise<boolean> {
    try {
      await this.#volumes.prepare({ hostIP: this.#o.nodeIP, ...(this.podIP ? { podIP: this.podIP } : {}) });
      return true;
    } catch (e) {
      if (this.#stopped) return false;
      const message = (e as Error).message;
      this.#o.log(`pod ${this.namespace}/${this.name}: ${message} (retrying)`);
      if (!this.#volumeWarned) void event(this.#o, this.pod, 'Warning', 'FailedMount', message);
      this.#volumeWarned = true;
      return false;
    }
  }

  start(): void {
    if (!this.#volumesReady) {
      this.#scheduleStatusWrite();
      void this.#prepareVolumes().then((ok) => {
        if (this.#stopped) return;
        if (ok) {
          this.#volumesReady = true;
          this.start();
        } else {
          this.#retryTimer = setTimeout(() => this.start(), SANDBOX_RETRY_MS);
        }
      });
      return;
    }
    if (this.#o.sandboxes && !this.sandbox) {
      this.#scheduleStatusWrite();
      void this.#startSandbox().then((ok) => {
        if (ok) {
          this.#build();
          this.start();
        } else if (!this.#stopped) {
          this.#retryTimer = setTimeout(() => this.start(), SANDBOX_RETRY_MS);
        }
      });
      return;
    }
    this.#o.log(`pod ${this.namespace}/${this.name}: starting ${this.#all.length} container(s) on ${this.podIP}`);
    this.#scheduleStatusWrite();
    if (!this.#sidecar) {
      for (const app of this.#apps) app.start();
      return;
    }
    // FSM's holdApplicationUntilProxyStarts: apps start once the proxy can carry their traffic
    for (const app of this.#apps) app.holdFor('PodInitializing', 'waiting for the sidecar to be ready');
    this.#sidecar.start();
    const sidecar = this.#sidecar;
    const waitForSidecar = (): void => {
      if (this.#stopped) return;
      if (!sidecar.ready) {
        this.#holdTimer = setTimeout(waitForSidecar, 100);
        return;
      }
      for (const app of this.#apps) app.start();
    };
    waitForSidecar();
  }

  async #imageUnsupported(container: Container): Promise<void> {
    await event(this.#o, this.pod, 'Warning', 'Failed',
      `Failed to run image "${container.image}" for container ${container.name}: no local runtime for this image; ` +
      `add annotation ${LOCAL_COMMAND_ANNOTATION} with the command to run`);
  }

  /** Stops every process: SIGTERM, SIGKILL once `graceS` has passed (the runtime's own grace is 5 s at most). */
  async stop(graceS: number): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#holdTimer);
    clearTimeout(this.#retryTimer);
    const killer = setTimeout(() => {
      for (const c of this.#all) {
        try {
          const pid = Number(readFileSync(pidFile(this.#o.rootDir, this.namespace, this.name, c.name), 'utf8').trim());
          if (pid > 0) signalGroup(pid, 'SIGKILL');
        } catch {
          /* no process */
        }
      }
    }, Math.max(0, graceS) * 1000);
    try {
      // apps first, the sidecar last: the reverse of start, so apps can drain through the proxy
      await Promise.all(this.#apps.map((a) => a.stop()));
      await this.#sidecar?.stop();
    } finally {
      clearTimeout(killer);
    }
    if (this.sandbox) await this.#o.sandboxes?.destroyPod(this.namespace, this.name);
    this.#volumes.stop();
  }

  removeFiles(): void {
    rmSync(stateFiles.podDir(this.#o.rootDir, this.namespace, this.name), { recursive: true, force: true });
  }

  #scheduleStatusWrite(): void {
    if (this.#writeScheduled || this.#stopped) return;
    this.#writeScheduled = true;
    setImmediate(() => {
      this.#writeScheduled = false;
      if (!this.#stopped) void this.writeStatus();
    });
  }

  /** The status the kubelet would report now. */
  status(containers: ContainerStatus[] = this.#all.map((c) => c.status())): StatusPatch {
    const now = kubeTime();
    const built = buildPodStatus(this.pod.status, containers, now);
    return {
      phase: built.phase!,
      conditions: built.conditions!,
      containerStatuses: containers,
      ...(this.#initContainers.length > 0 ? { initContainerStatuses: this.#initContainers } : {}),
      startTime: built.startTime ?? now,
      ...(this.podIP ? { podIP: this.podIP, podIPs: [{ ip: this.podIP }] } : {}),
      hostIP: this.#o.nodeIP,
      hostIPs: [{ ip: this.#o.nodeIP }],
    };
  }

  /** Writes `status` (strategic merge on pods/status, as the kubelet's status manager); serialized, skipped when unchanged. */
  writeStatus(status: StatusPatch = this.status()): Promise<void> {
    const body = JSON.stringify(status);
    const next = this.#writing.then(async () => {
      if (body === this.#lastWritten) return;
      const path = `/api/v1/namespaces/${encodeURIComponent(this.namespace)}/pods/${encodeURIComponent(this.name)}/status`;
      try {
        // The app address annotation rides along (as local mode's pod factory sets it): the controller
        // points the pod's inbound cluster there instead of 127.0.0.1, which pods here do not own.
        const metadata = { uid: this.uid, annotations: { [APP_ADDRESS_ANNOTATION]: this.appAddress } };
        const pod = await this.#o.api.must<Pod>('PATCH', path, { metadata, status }, 'application/strategic-merge-patch+json');
        this.#lastWritten = body;
        if ((pod.metadata.uid ?? '') === this.uid) this.pod = pod;
      } catch (e) {
        // 404/409: the pod is gone or replaced; the watch will tell
        if (!(e instanceof NodeApiError && (e.status === 404 || e.status === 409))) this.#o.log(`pod ${this.namespace}/${this.name}: status update failed: ${(e as Error).message}`);
      }
    });
    this.#writing = next;
    return next;
  }
}

export { sidecarForNode } from '../local/runtime/cluster-sidecar.js';

/** Records an Event about `pod` from the kubelet of this node (best effort). */
async function event(o: NodePodsOptions, pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
  const ns = pod.metadata.namespace ?? 'default';
  const now = kubeTime();
  try {
    await o.api.must('POST', `/api/v1/namespaces/${encodeURIComponent(ns)}/events`, {
      apiVersion: 'v1', kind: 'Event',
      metadata: { generateName: `${pod.metadata.name}.`, namespace: ns },
      involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace: ns, name: pod.metadata.name, uid: pod.metadata.uid },
      reason, message, type,
      source: { component: 'kubelet', host: o.nodeName },
      reportingComponent: 'kubelet', reportingInstance: o.nodeName,
      firstTimestamp: now, lastTimestamp: now, count: 1,
    });
  } catch (e) {
    o.log(`pod ${ns}/${pod.metadata.name}: event ${reason} not recorded: ${(e as Error).message}`);
  }
}

export class NodePods {
  #o: NodePodsOptions;
  /** by UID */
  #workers = new Map<string, PodWorker>();
  #watch: { stop(): void } | undefined;
  #stopped = false;
  #synced = false;
  #onSynced: (() => void)[] = [];

  constructor(o: NodePodsOptions) {
    this.#o = o;
  }

  start(): void {
    this.#watch = this.#o.api.watchPods(this.#o.nodeName, {
      onSync: (pods) => this.#sync(pods as Pod[]),
      onChange: (type, pod) => (type === 'DELETED' ? this.#gone(pod as Pod) : this.#reconcile(pod as Pod)),
      onError: (e) => this.#o.log(`node ${this.#o.nodeName}: pod watch: ${e.message} (re-listing)`),
    });
  }

  /** Resolves once the first list of the node's pods has been handled. */
  synced(): Promise<void> {
    return this.#synced ? Promise.resolve() : new Promise((r) => this.#onSynced.push(r));
  }

  /** The running pod `namespace/name`, for logs and exec. */
  find(namespace: string, name: string): RunningPod | undefined {
    for (const w of this.#workers.values()) {
      if (w.namespace === namespace && w.name === name && !w.terminating) {
        return { pod: w.pod, podIP: w.podIP, containers: w.containers, ...(w.sandbox ? { sandbox: w.sandbox } : {}), mountsFor: (c) => w.mountsFor(c) };
      }
    }
    return undefined;
  }

  get rootDir(): string {
    return this.#o.rootDir;
  }

  #sync(pods: Pod[]): void {
    const live = new Set(pods.map((p) => p.metadata.uid ?? ''));
    for (const w of [...this.#workers.values()]) if (!live.has(w.uid)) this.#gone(w.pod);
    for (const p of pods) this.#reconcile(p);
    if (!this.#synced) {
      this.#synced = true;
      for (const r of this.#onSynced.splice(0)) r();
    }
  }

  #allocate(pod: Pod): string {
    const used = new Set([...this.#workers.values()].map((w) => w.podIP));
    const own = pod.status?.podIP;
    // a pod this node ran before (the agent restarted) keeps its address
    if (own && own.startsWith(`127.${this.#o.block}.`) && !used.has(own)) return own;
    for (let n = 0; n < POD_ADDRESSES; n++) {
      const ip = podIPFor(this.#o.block, n);
      if (!used.has(ip)) return ip;
    }
    throw new Error(`node ${this.#o.nodeName} is out of pod addresses`);
  }

  #reconcile(pod: Pod): void {
    if (this.#stopped || pod.spec?.nodeName !== this.#o.nodeName) return;
    const uid = pod.metadata.uid ?? '';
    const worker = this.#workers.get(uid);
    if (worker) worker.pod = { ...pod, status: worker.pod.status ?? pod.status };
    if (pod.metadata.deletionTimestamp) {
      if (worker) void this.#terminate(worker, pod);
      else void this.#finishDeletion(pod);
      return;
    }
    if (worker) return;
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') return;
    let ip: string | undefined;
    try {
      // namespace mode: the sandbox gives the pod its address
      ip = this.#o.sandboxes ? undefined : this.#allocate(pod);
    } catch (e) {
      this.#o.log((e as Error).message);
      return;
    }
    // a pod of the same name still stopping (a StatefulSet's replacement) starts once it is gone
    const before = [...this.#workers.values()].find((w) => w.namespace === (pod.metadata.namespace ?? 'default') && w.name === pod.metadata.name);
    const next = new PodWorker(pod, ip, this.#o);
    this.#workers.set(uid, next);
    void (before?.terminating ?? Promise.resolve()).then(() => {
      if (this.#workers.get(uid) === next && !this.#stopped) next.start();
    });
  }

  /** Graceful deletion as the kubelet does it: stop within the grace period, final status, delete with a UID precondition. */
  #terminate(w: PodWorker, pod: Pod): Promise<void> {
    w.terminating ??= (async () => {
      const grace = pod.metadata.deletionGracePeriodSeconds ?? (pod.spec as { terminationGracePeriodSeconds?: number } | undefined)?.terminationGracePeriodSeconds ?? DEFAULT_GRACE_S;
      this.#o.log(`pod ${w.namespace}/${w.name}: deleted; stopping its containers (grace ${grace}s)`);
      const finished = kubeTime();
      await w.stop(grace);
      const terminated = (w.pod.spec?.containers ?? []).map((c): ContainerStatus => ({
        name: c.name, image: c.image ?? '', ready: false, restartCount: 0, started: false,
        state: { terminated: { exitCode: 143, reason: 'Error', finishedAt: finished } },
      }));
      const last = w.status(terminated);
      await w.writeStatus({ ...last, phase: 'Failed' });
      // the files go before the object: once the pod is gone from the API, nothing of it is left here
      w.removeFiles();
      await this.#finishDeletion(w.pod);
      this.#workers.delete(w.uid);
      this.#o.log(`pod ${w.namespace}/${w.name}: stopped and removed`);
    })();
    return w.terminating;
  }

  /** DELETE with gracePeriodSeconds 0 and the pod's UID as precondition: only this pod, never a replacement. */
  async #finishDeletion(pod: Pod): Promise<void> {
    const ns = pod.metadata.namespace ?? 'default';
    const path = `/api/v1/namespaces/${encodeURIComponent(ns)}/pods/${encodeURIComponent(pod.metadata.name)}`;
    const a = await this.#o.api.call('DELETE', path, {
      apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid },
    }).catch((e: unknown) => ({ status: 0, text: (e as Error).message }));
    if (a.status >= 300 && a.status !== 404 && a.status !== 409) this.#o.log(`pod ${ns}/${pod.metadata.name}: delete failed: HTTP ${a.status} ${a.text.slice(0, 200)}`);
  }

  /** The object is gone (force-deleted, or our own delete): stop whatever still runs. */
  #gone(pod: Pod): void {
    const w = this.#workers.get(pod.metadata.uid ?? '');
    if (!w || w.terminating) return;
    w.terminating = (async () => {
      await w.stop(0);
      w.removeFiles();
      this.#workers.delete(w.uid);
      this.#o.log(`pod ${w.namespace}/${w.name}: removed from the API; its processes stopped`);
    })();
  }

  /** Stops the watch and every pod's processes (the pods stay bound to the node, as with a kubelet restart). */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#watch?.stop();
    await Promise.all([...this.#workers.values()].map((w) => w.terminating ?? w.stop(5)));
  }
}
