/** What every controller of this folder is started with, and what it hands back. */
import type { KubeStorage } from '../apiserver/index.js';
import type { ResourceRegistry } from '../registry/index.js';

export interface ControllerOptions {
  storage: KubeStorage;
  /** the server's registry: which types exist (user CRDs included, kept current by the server) */
  registry: ResourceRegistry;
  log: (line: string) => void;
  /** the clock for deletion and condition timestamps (tests pass a fixed one) */
  now?: () => Date;
}

export interface RunningController {
  /** stops watching and drops queued work; writes already made stay */
  stop(): void;
}
