/** Runs one pod: its containers (apps held until the sidecar is ready) and its status in the store. */
import { rmSync } from 'node:fs';
import type { Pod, PodStatus } from '../../api/types.js';
import { APP_ADDRESS_ANNOTATION } from '../controllers/well-known.js';
import { localIPFor, stateFiles } from '../layout.js';
import { jsonEqual, kubeTimestamp, type ResourceStore } from '../store/index.js';
import { SIDECAR_CONTAINER } from './builtin-runtimes.js';
import { ContainerRunner } from './container-runner.js';
import { runtimeFor } from './images.js';
import { buildPodStatus } from './pod-status.js';
import { mountSecretVolumes, type MountedVolume } from './secret-volumes.js';
import type { ContainerContext } from './types.js';

export interface PodRunnerDeps {
  store: ResourceStore;
  stateDir: string;
  meshName: string;
  block: number;
  meshKey: Uint8Array;
  workdir: string;
  log: (line: string) => void;
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

  constructor(pod: Pod, deps: PodRunnerDeps) {
    this.#deps = deps;
    this.#namespace = pod.metadata.namespace ?? 'default';
    this.#name = pod.metadata.name;
    this.uid = pod.metadata.uid ?? '';
    const podIP = pod.status?.podIP ?? '';
    const containers = pod.spec?.containers ?? [];
    const hasSidecar = containers.some((c) => c.name === SIDECAR_CONTAINER);
    const base = {
      pod: { ...pod, metadata: { ...pod.metadata, namespace: this.#namespace } },
      meshName: deps.meshName, block: deps.block, meshKey: deps.meshKey, stateDir: deps.stateDir, workdir: deps.workdir,
      podIP,
      // The controller always sets it; the fallback mirrors its rule (private twin only behind a sidecar).
      appAddress: pod.metadata.annotations?.[APP_ADDRESS_ANNOTATION] ?? (hasSidecar ? localIPFor(podIP) : podIP),
      hasSidecar,
    };
    for (const container of containers) {
      const ctx: ContainerContext = { ...base, container };
      const mountVolumes = (): MountedVolume[] => mountSecretVolumes(
        { stateDir: deps.stateDir, namespace: this.#namespace, pod: this.#name, spec: pod.spec, container },
        (namespace, name) => deps.store.get({ kind: 'Secret', namespace, name }),
      );
      const runner = new ContainerRunner({
        ctx, runtime: runtimeFor(container, ctx.pod), log: deps.log, onChange: () => this.#scheduleStatusWrite(), mountVolumes,
      });
      this.#all.push(runner);
      if (container.name === SIDECAR_CONTAINER) this.#sidecar = runner;
      else this.#apps.push(runner);
    }
  }

  start(): void {
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
    // Apps first, sidecar last: the reverse of start, so apps can drain through the proxy.
    await Promise.all(this.#apps.map((a) => a.stop()));
    await this.#sidecar?.stop();
    if (opts.removeFiles) rmSync(stateFiles.podDir(this.#deps.stateDir, this.#namespace, this.#name), { recursive: true, force: true });
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
    if (jsonEqual(previous, next)) return;
    try {
      this.#deps.store.updateStatus(key, next);
    } catch (e) {
      this.#deps.log(`pod ${this.#namespace}/${this.#name}: status update failed: ${(e as Error).message}`);
    }
  }
}
