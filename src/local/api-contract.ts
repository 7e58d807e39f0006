/**
 * The contract between the `tessera` CLI (and the mesh's own components) and a mesh's API. They
 * only ever talk to a mesh through `MeshApi`; `KubeMeshApi` (src/local/client) implements it as a
 * Kubernetes client of the API server `tessera up` serves.
 */
import type { Resource } from '../api/types.js';

/** One manifest document as the CLI read it, with where it came from for error messages. */
export interface ManifestDocument {
  /** file path, `-` for stdin */
  source: string;
  /** 1-based document index within the source */
  index: number;
  /** 1-based line where the document starts */
  line: number;
  object: Record<string, unknown>;
}

export type ApplyAction = 'created' | 'configured' | 'unchanged' | 'deleted' | 'patched';

export interface ApplyResult {
  kind: string;
  name: string;
  namespace?: string;
  action: ApplyAction;
  /** the server's admission warnings for this object (kubectl's `Warning:` lines) */
  warnings?: string[];
}

export interface ListQuery {
  kind: string;
  namespace?: string;
  /** all namespaces (`-A`) */
  allNamespaces?: boolean;
  /** kubectl `-l` string */
  labelSelector?: string;
  name?: string;
}

export interface PodProcessInfo {
  namespace: string;
  name: string;
  podIP: string;
  /** the pod's private loopback address, where its app binds and its outbound proxy listens */
  localIP: string;
  /** http://ip:port of the sidecar's outbound proxy, or undefined when the pod has no sidecar */
  proxyUrl?: string;
  /** http://ip:port of the sidecar's admin server */
  adminUrl?: string;
  containers: string[];
  env: Record<string, string>;
}

export interface ProxyStatus {
  namespace: string;
  pod: string;
  uuid: string;
  connected: boolean;
  /** the version the control plane last sent */
  sentVersion?: string;
  /** the version the sidecar acknowledged as applied */
  appliedVersion?: string;
  /** the error of the last rejected version */
  lastError?: string;
  /** RFC 3339: when sentVersion was sent, when a version was last acknowledged, when one was last rejected */
  sentAt?: string;
  ackedAt?: string;
  nackedAt?: string;
  /**
   * As the controller judged it when it answered (control-plane/registry.ts syncStateOf), so every
   * reader shows the same state whatever its clock; absent from a controller older than the field.
   */
  sync?: 'SYNCED' | 'NOT SENT' | 'STALE' | 'NACKED';
}

export interface MeshStatus {
  meshName: string;
  stateDir: string;
  apiUrl: string;
  pid: number;
  controlPlane: { ready: boolean; url?: string; pod?: string };
  proxies: ProxyStatus[];
  workloads: { namespace: string; name: string; ready: string; status: string; restarts: number; podIP?: string }[];
}

/** The query of `GET .../pods/NAME/log`, by kubectl's names. */
export interface LogsQuery {
  container?: string;
  follow?: boolean;
  previous?: boolean;
  timestamps?: boolean;
  tailLines?: number;
  sinceSeconds?: number;
  /** RFC 3339 */
  sinceTime?: string;
  limitBytes?: number;
}

export interface MeshApi {
  apply(docs: ManifestDocument[], opts: { namespace?: string }): Promise<ApplyResult[]>;
  /** Deletes what the documents name. Missing objects are an error unless ignoreNotFound. */
  deleteDocuments(docs: ManifestDocument[], opts: { namespace?: string; ignoreNotFound?: boolean }): Promise<ApplyResult[]>;
  delete(kind: string, name: string, namespace: string | undefined, opts?: { ignoreNotFound?: boolean }): Promise<ApplyResult>;
  get(kind: string, name: string, namespace?: string): Promise<Resource>;
  list(query: ListQuery): Promise<Resource[]>;
  /** JSON merge patch (RFC 7386). */
  patch(kind: string, name: string, namespace: string | undefined, patch: unknown): Promise<ApplyResult>;
  /** Waits until every matching object satisfies the condition (e.g. `ready`), or the timeout passes. */
  wait(query: ListQuery, condition: string, timeoutMs: number): Promise<Resource[]>;
  podInfo(namespace: string, name: string): Promise<PodProcessInfo>;
  /** Log text of one container (`sidecar` for the sidecar). */
  logs(namespace: string, pod: string, container?: string): Promise<string>;
  /**
   * A container's log as `kubectl logs` asks for it (the pods/log query), streamed: ends at the log's
   * end, or with the pod when following.
   */
  streamLogs(namespace: string, pod: string, query: LogsQuery): Promise<AsyncIterable<Uint8Array>>;
  rolloutRestart(kind: string, name: string, namespace: string): Promise<ApplyResult>;
  /** GET a path on a pod's sidecar admin server (config_dump, certs, stats, ready). */
  proxyGet(namespace: string, pod: string, query: string): Promise<{ status: number; contentType: string; body: string }>;
  status(): Promise<MeshStatus>;
  /** The local mesh's name and API address without asking it anything (`version`); absent for a cluster reached by kubeconfig. */
  about?(): { meshName: string; apiUrl: string } | undefined;
  shutdown(): Promise<void>;
}
