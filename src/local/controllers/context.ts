/** What every controller needs: the store, the mesh it works for, and the webhook pods are admitted through. */
import type { ResourceStore } from '../store/index.js';
import type { InjectorClient } from './injector-client.js';

export interface ControllerContext {
  store: ResourceStore;
  meshName: string;
  /** the mesh's address block B (127.B.0.0/16) */
  block: number;
  /** the `<mesh>-injector` webhook; without it, pods of meshed namespaces are not created */
  injector?: InjectorClient;
}
