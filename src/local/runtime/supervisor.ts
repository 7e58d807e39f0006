/** The local kubelet: watches Pods in the store and keeps one PodRunner per live pod. */
import { resolve } from 'node:path';
import type { Pod } from '../../api/types.js';
import type { ResourceStore } from '../store/types.js';
import { PodRunner, type PodRunnerDeps } from './pod-runner.js';
import type { SandboxHost } from './sandbox-host.js';
import type { LogRotation } from '../container-log/index.js';

export interface SupervisorOptions {
  store: ResourceStore;
  stateDir: string;
  meshName: string;
  block: number;
  /** the mesh key: raw bytes, or hex as `readOrCreateMeshKey` returns it */
  meshKey: Uint8Array | string;
  /** where `tessera up` ran; annotated local commands run here */
  workdir: string;
  log: (line: string) => void;
  /** namespace mode: the mesh network pods get their sandboxes from (startPodNetwork) */
  sandboxes?: SandboxHost;
  /** container log rotation; the kubelet's defaults (10Mi, 5 files) when absent */
  logRotation?: LogRotation;
}

export interface Supervisor {
  /** Stops every pod's processes (the pods stay in the store). */
  stop(): Promise<void>;
}

export function startSupervisor(opts: SupervisorOptions): Supervisor {
  const meshKey = typeof opts.meshKey === 'string' ? Buffer.from(opts.meshKey, 'hex') : opts.meshKey;
  const deps: PodRunnerDeps = { ...opts, meshKey, stateDir: resolve(opts.stateDir) };
  const runners = new Map<string, PodRunner>();
  /** stops in flight per pod key, so a pod re-created under the same name starts after the old one is gone */
  const stopping = new Map<string, Promise<void>>();
  let stopped = false;

  const keyOf = (pod: Pod) => `${pod.metadata.namespace ?? 'default'}/${pod.metadata.name}`;

  const stopRunner = (key: string, removeFiles: boolean): Promise<void> => {
    const runner = runners.get(key);
    if (!runner) return stopping.get(key) ?? Promise.resolve();
    runners.delete(key);
    const done = runner.stop({ removeFiles }).catch((e: unknown) => opts.log(`pod ${key}: stop failed: ${(e as Error).message}`));
    const tracked = done.finally(() => {
      if (stopping.get(key) === tracked) stopping.delete(key);
    });
    stopping.set(key, tracked);
    return tracked;
  };

  const reconcile = (pod: Pod): void => {
    if (stopped) return;
    const key = keyOf(pod);
    if (pod.metadata.deletionTimestamp) {
      void stopRunner(key, false);
      return;
    }
    const existing = runners.get(key);
    if (existing && existing.uid === (pod.metadata.uid ?? '')) return;
    // A pod runs only once it has an address; the controller may set status.podIP in a later write.
    if (!pod.status?.podIP) return;
    const previous = existing ? stopRunner(key, true) : (stopping.get(key) ?? Promise.resolve());
    const runner = new PodRunner(pod, deps);
    runners.set(key, runner);
    void previous.then(() => {
      if (runners.get(key) === runner && !stopped) runner.start();
    });
  };

  const unwatch = opts.store.watch((event) => {
    if (event.object.kind !== 'Pod') return;
    const pod = event.object as Pod;
    if (event.type === 'DELETED') {
      const runner = runners.get(keyOf(pod));
      if (runner && runner.uid === (pod.metadata.uid ?? '')) void stopRunner(keyOf(pod), true);
      return;
    }
    reconcile(pod);
  });
  for (const pod of opts.store.list('Pod') as Pod[]) reconcile(pod);

  return {
    async stop() {
      stopped = true;
      unwatch();
      await Promise.all([...runners.keys()].map((key) => stopRunner(key, false)));
      await Promise.all([...stopping.values()]);
    },
  };
}
