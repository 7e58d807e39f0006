/** What every controller needs: the store, the mesh it works for, and the webhook pods are admitted through. */
import type { Pod } from '../../api/types.js';
import type { ResourceStore } from '../store/index.js';
import type { InjectorClient } from './injector-client.js';

export interface ControllerContext {
  store: ResourceStore;
  meshName: string;
  /** the mesh's address block B (127.B.0.0/16) */
  block: number;
  /** the `<mesh>-injector` webhook; without it, pods of meshed namespaces are not created */
  injector?: InjectorClient;
  /**
   * Creates a pod through the API server's admission chain as the replicaset controller (the
   * daemon's embedded API: its own admission, the local mesh's injector, every matching webhook and
   * policy) and stores it with an address; rejects with the API's refusal. Without it (controller
   * tests), pods are written to the store directly and only `injector` is called.
   */
  createPod?: (pod: Pod) => Promise<Pod>;
}
