/**
 * What the API server needs from the platform under it: object storage with revisions, admission
 * (validation and defaulting the platform adds), and pod connections (logs, exec, proxy). The local
 * daemon implements these over its SQLite store and pod runtime; the server itself does no platform I/O.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import type { Resource } from '../../api/types.js';
import type { ResourceType } from '../registry/index.js';

export interface ObjectKey {
  group: string;
  kind: string;
  namespace?: string;
  name: string;
}

export interface StoredEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: Resource;
  revision: number;
}

export interface WriteOptions {
  /** fail with Conflict unless the stored object has this resourceVersion */
  expectResourceVersion?: string;
  expectUid?: string;
}

export interface KubeStorage {
  readonly revision: number;
  get(key: ObjectKey): Resource | undefined;
  list(group: string, kind: string, namespace?: string): { items: Resource[]; revision: number };
  /** stores a new object (uid, creationTimestamp, resourceVersion stamped); AlreadyExists if the key is taken */
  create(obj: Resource): Resource;
  /** replaces the object as given (status included); returns whether anything changed */
  update(obj: Resource, opts?: WriteOptions): { object: Resource; changed: boolean };
  delete(key: ObjectKey, opts?: WriteOptions): Resource;
  /**
   * Subscribes to changes. With `fromRevision`, first replays every event after it (synchronously),
   * then live ones; throws an Expired StatusError when that revision was compacted away.
   */
  watch(handler: (event: StoredEvent) => void, fromRevision?: number): () => void;
}

export interface UserInfo {
  username: string;
  groups: string[];
  uid?: string;
  extra?: Record<string, string[]>;
}

export interface AdmissionRequest {
  operation: 'CREATE' | 'UPDATE' | 'DELETE';
  type: ResourceType;
  /** the object as it will be stored (storage version); absent for DELETE */
  object?: Resource;
  oldObject?: Resource;
  subresource?: string;
  dryRun: boolean;
  user: UserInfo;
}

/**
 * Validation and mutation the platform adds on top of the server's own checks. Returns the object to
 * store (it may normalise or default it), or throws (a StatusError, or a MeshError with field problems).
 */
export interface Admission {
  /**
   * The platform's own mutating admission, before the webhooks (as kube-apiserver's built-in plugins,
   * e.g. ServiceAccount, run before MutatingAdmissionWebhook): returns the object webhooks are sent.
   */
  mutate?(req: AdmissionRequest): Promise<Resource | undefined>;
  admit(req: AdmissionRequest): Promise<Resource | undefined>;
  /** Warnings about an admitted object (the `Warning: 299` headers kubectl prints); never a refusal */
  warnings?(req: AdmissionRequest): string[];
}

export interface LogOptions {
  container?: string;
  follow: boolean;
  previous: boolean;
  timestamps: boolean;
  tailLines?: number;
  sinceSeconds?: number;
  /** RFC 3339, as the request gave it (validated) */
  sinceTime?: string;
  limitBytes?: number;
}

export interface PodConnector {
  /** the container's log as a stream (ends at the log's end unless `follow`) */
  logs(pod: Resource, opts: LogOptions, signal: AbortSignal): Promise<Readable>;
  /** handles an upgraded `pods/exec` or `attach` request on the raw socket */
  exec(pod: Resource, req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): Promise<void>;
  /** relays `pods/<name[:port]>/proxy/<path>` to the pod */
  proxy(pod: Resource, port: number | undefined, path: string, req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** handles an upgraded `pods/portforward` request: each forwarded port is a stream to the pod's port */
  portForward(pod: Resource, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void>;
}
