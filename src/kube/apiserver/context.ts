/** What every request handler gets. */
import type { AdmissionWebhooks } from '../admission-webhooks/index.js';
import type { AuthorizeFn } from '../auth/index.js';
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
  /** the stored admission webhook configurations' webhooks (createKubeApi sets it) */
  webhooks?: AdmissionWebhooks;
}

export interface RequestContext extends ServerContext {
  user: UserInfo;
  /** the authorizer, for checks beyond the request's own verb (server-side apply that creates) */
  authorize?: AuthorizeFn;
}
