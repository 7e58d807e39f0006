/**
 * The local resource store: validated resources with uid, resourceVersion and creationTimestamp,
 * persisted in the state directory (SQLite, see sqlite-store.ts), with change events. The API
 * server, the deployment controller and the pod supervisor all share one instance inside the daemon.
 */
import type { Resource } from '../../api/types.js';

export type StoreEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: StoreEventType;
  object: Resource;
  /** the store-wide revision after this event (equals the object's resourceVersion) */
  revision: number;
}

export interface StoreKey {
  kind: string;
  namespace?: string;
  name: string;
  /**
   * API group ('' for core). Absent: the group of Tessera's built-in kind of that name, or '' for a
   * kind Tessera does not know — so a CRD kind must be looked up with its group.
   */
  group?: string;
}

/** One write inside an all-or-none transaction. */
export type StoreWrite =
  | {
    op: 'put';
    object: Resource;
    /** Optimistic concurrency: the stored object's resourceVersion must be this (MESH_ERR_CONFLICT otherwise; MESH_ERR_NOT_FOUND when absent). */
    expectResourceVersion?: string;
    /** Update replaces `status` with the given one instead of keeping the stored status (update of kinds without a status subresource). */
    replaceStatus?: boolean;
  }
  | { op: 'create'; object: Resource }
  | { op: 'delete'; key: StoreKey; expectResourceVersion?: string; expectUid?: string };

export interface StoreOptions {
  /** milliseconds between automatic compactions; 0 turns them off (default 60 000) */
  compactEvery?: number;
  /** revisions of history the automatic compaction keeps (default 1000) */
  keepRevisions?: number;
  /** a size quota in bytes: writes that would grow the database past it fail with MESH_ERR_STORE_WRITE (default none) */
  maxBytes?: number;
  /**
   * 'FULL' (default) fsyncs every commit; 'NORMAL' only at checkpoints, so a power loss (not a
   * killed process) may lose the last commits. For benchmarks and throwaway stores.
   */
  synchronous?: 'FULL' | 'NORMAL';
}

export interface ResourceStore {
  /** the current store-wide revision; survives restarts */
  readonly revision: number;
  /** history at or below this revision is gone: `watch` from an older revision throws MESH_ERR_GONE */
  readonly compactedRevision: number;
  get(key: StoreKey): Resource | undefined;
  /** Objects of one kind (and group, see `StoreKey.group`), sorted by namespace then name. */
  list(kind: string, namespace?: string, group?: string): Resource[];
  /** `list` plus the revision it was read at, from one snapshot: the starting point of a list-then-watch. */
  listWithRevision(kind: string, namespace?: string, group?: string): { items: Resource[]; revision: number };
  /**
   * Applies every write or none in one database transaction, then emits one event per change.
   * `put` fills uid/creationTimestamp on create, bumps resourceVersion (and generation when spec
   * changed) on update, and is a no-op (no event) when nothing changed. `create` fails with
   * MESH_ERR_ALREADY_EXISTS when the object exists. Returns the stored objects.
   */
  transact(writes: StoreWrite[]): { object: Resource; change: 'created' | 'configured' | 'unchanged' | 'deleted' }[];
  /** Replaces only `status` (no generation bump). */
  updateStatus(key: StoreKey, status: unknown): Resource | undefined;
  /**
   * Subscribes to changes; returns an unsubscribe function. With `fromRevision`, first delivers
   * (synchronously, in order) every event after that revision, then live ones; throws MESH_ERR_GONE
   * when that history was compacted away.
   */
  watch(handler: (event: StoreEvent) => void, fromRevision?: number): () => void;
  /** Drops history older than the last `keepRevisions` revisions (default: the store's option). */
  compact(keepRevisions?: number): void;
  /** Stops the periodic compaction and closes the database; the store is unusable afterwards. */
  close(): void;
}
