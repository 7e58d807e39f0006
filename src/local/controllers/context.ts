/** What every controller needs: the store and the mesh it works for. */
import type { ResourceStore } from '../store/index.js';

export interface ControllerContext {
  store: ResourceStore;
  meshName: string;
  /** the mesh's address block B (127.B.0.0/16) */
  block: number;
}
