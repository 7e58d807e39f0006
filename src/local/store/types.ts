/**
 * The local resource store: validated resources with uid, resourceVersion and creationTimestamp,
 * persisted atomically in the state directory, with change events. The API server, the
 * deployment controller and the pod supervisor all share one instance inside the daemon.
 */
import type { Resource } from '../../api/types.js';

export type StoreEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: StoreEventType;
  object: Resource;
  /** the store-wide revision after this event */
  revision: number;
}

export interface StoreKey {
  kind: string;
  namespace?: string;
  name: string;
}

/** One write inside an all-or-none transaction. */
export type StoreWrite =
  | { op: 'put'; object: Resource }
  | { op: 'delete'; key: StoreKey };

export interface ResourceStore {
  /** the current store-wide revision */
  readonly revision: number;
  get(key: StoreKey): Resource | undefined;
  list(kind: string, namespace?: string): Resource[];
  /**
   * Applies every write or none, persists once (atomic rename), then emits one event per change.
   * `put` fills uid/creationTimestamp on create, bumps resourceVersion (and generation when spec
   * changed) on update, and is a no-op (no event) when nothing changed. Returns the stored objects.
   */
  transact(writes: StoreWrite[]): { object: Resource; change: 'created' | 'configured' | 'unchanged' | 'deleted' }[];
  /** Replaces only `status` (no generation bump). */
  updateStatus(key: StoreKey, status: unknown): Resource | undefined;
  /** Subscribes to changes; returns an unsubscribe function. */
  watch(handler: (event: StoreEvent) => void): () => void;
}
