/** What every request handler gets. */
import type { ResourceRegistry } from '../registry/index.js';
import type { Admission, KubeStorage, PodConnector, UserInfo } from './backend.js';

export interface ServerContext {
  registry: ResourceRegistry;
  storage: KubeStorage;
  admission: Admission;
  pods?: PodConnector;
  /** the clock (tests pass a fixed one) */
  now: () => Date;
  /** the server's `host:port`, for `/api`'s serverAddressByClientCIDRs */
  serverAddress: string;
}

export interface RequestContext extends ServerContext {
  user: UserInfo;
}
