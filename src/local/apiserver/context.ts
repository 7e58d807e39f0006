/** What every API handler needs. */
import type { ResourceStore } from '../store/index.js';
import type { InjectorClient } from '../controllers/index.js';
import type { AdmissionChecks } from './admission-checks.js';

export interface ApiContext {
  store: ResourceStore;
  meshName: string;
  stateDir: string;
  block: number;
  checks: AdmissionChecks;
  /** where the control plane answers `GET /v1/proxies` */
  controllerUrl: string;
  /** this server's own URL, known once it listens */
  url: string;
  onShutdown: () => void;
  /** where `tessera up` ran: exec'd commands start there */
  workdir?: string;
  /** the local mesh's `<mesh>-injector`, called for pods of the namespaces it covers */
  injector?: InjectorClient;
}

export function meshConfigName(meshName: string): { name: string; namespace: string } {
  return { name: `${meshName}-mesh-config`, namespace: `${meshName}-system` };
}
